"""Reads of the alert app. Everything returned to a person goes through opsdesk.scoping."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from alerts.choices import SEVERITY_RANK
from alerts.models import Alert, Incident, IngestedMessage
from opsdesk import scoping
from workflow.incidents import IncidentState

__all__ = ["incident_list", "incident_get", "incident_search", "board_incidents", "board_alarm",
           "open_incidents_for_system", "message_get"]

UNRESOLVED = (IncidentState.OPEN, IncidentState.ACKNOWLEDGED)


def _severity_order():
    return Case(*[When(severity=s, then=Value(r)) for s, r in SEVERITY_RANK.items()],
                default=Value(9), output_field=IntegerField())


def incident_list(*, user, state: str | None = None, system: str | None = None, category: str | None = None,
                  host: str | None = None, severity: str | None = None) -> QuerySet[Incident]:
    qs = scoping.restrict(user, Incident.objects.select_related("system"))
    if state == "unresolved":
        qs = qs.filter(state__in=UNRESOLVED)
    elif state:
        qs = qs.filter(state=state)
    if system:
        qs = qs.filter(system__code=system)
    if category:
        qs = qs.filter(category=category)
    if severity:
        qs = qs.filter(severity=severity)
    if host:
        qs = qs.filter(host__icontains=host.strip().lower())
    return qs


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def incident_search(*, user, state: str = IncidentState.RESOLVED, host: str = "", check: str = "", system: str = "",
                    text: str = "", since: dt.date | None = None, until: dt.date | None = None) -> QuerySet[Incident]:
    """Incidents in `state` (default: resolved, newest resolved first) matching every filter given:
    host and check (part of the name, any case), production system (code), words of the summary or
    of any of its alerts, and the days [since, until] (local dates) the incident was going on."""
    qs = incident_list(user=user, state=state or None, system=system or None, host=host or None)
    if check.strip():
        qs = qs.filter(Q(check_name__icontains=check.strip()) | Q(check_label__icontains=check.strip()))
    if text.strip():
        words = text.strip()
        in_alerts = Alert.objects.filter(incident=OuterRef("pk"), text__icontains=words)
        qs = qs.filter(Q(summary__icontains=words) | Q(Exists(in_alerts)))
    if since:
        qs = qs.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=_day_start(since)))
    if until:
        qs = qs.filter(first_seen__lt=_day_start(until + dt.timedelta(days=1)))
    order = ("-resolved_at", "-pk") if state == IncidentState.RESOLVED else ("-last_seen", "-pk")
    return qs.select_related("resolved_by", "acknowledged_by").order_by(*order)


def board_incidents(*, user, system: str | None = None, category: str | None = None,
                    host: str | None = None, limit: int = 300) -> list[Incident]:
    """Open and acknowledged incidents: most severe first, then oldest first."""
    qs = incident_list(user=user, state="unresolved", system=system, category=category, host=host)
    return list(qs.annotate(rank=_severity_order()).order_by("rank", "first_seen", "pk")[:limit])


def board_alarm(incidents: list[Incident]) -> bool:
    return any(inc.alarming for inc in incidents)


def incident_get(*, user, pk: int) -> Incident | None:
    return scoping.restrict(user, Incident.objects.select_related("system", "acknowledged_by", "resolved_by")
                            ).filter(pk=pk).first()


def message_get(*, user, pk: int) -> IngestedMessage | None:
    """A stored message, for those who may see an incident it fed (administrators: any)."""
    from alerts.models import Alert

    if not user.is_authenticated:
        return None
    if user.is_administrator:
        return IngestedMessage.objects.filter(pk=pk).first()
    visible = scoping.restrict(user, Alert.objects.filter(message_id=pk))
    return IngestedMessage.objects.filter(pk=pk).first() if visible.exists() else None


def open_incidents_for_system(system) -> QuerySet[Incident]:
    """Unresolved incidents on a production system (for "known incident" on service requests).

    Not scoped: the caller shows only what a requester may be told (that there is a known
    incident, its severity, summary and since when), or applies scoping itself.
    """
    return Incident.objects.filter(system=system, state__in=UNRESOLVED).order_by("first_seen", "pk")
