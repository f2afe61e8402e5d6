"""Reads of the security audit and of the configuration history, for the audit administrator.

Deliberately outside `opsdesk.scoping.restrict()`: there administrators see everything, and the
system and security administrators must not read the audit of their own work. Here only the audit
duty (and the break-glass superuser, whose every request is itself audited) reads anything.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from pghistory.models import Events

from opsdesk.audit.models import SecurityEvent
from opsdesk.org.duties import Duty, has_duty
from opsdesk.org.models import User

__all__ = ["may_read_audit", "security_event_list", "configuration_change_list", "history_available"]


def may_read_audit(user) -> bool:
    return has_duty(user, Duty.AUDIT)


def history_available() -> bool:
    """The configuration history is written by PostgreSQL triggers: none on SQLite."""
    return connection.vendor == "postgresql"


def _day_bounds(start: dt.date | None, end: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    tz = timezone.get_current_timezone()
    low = dt.datetime.combine(start, dt.time.min, tzinfo=tz) if start else None
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz) if end else None
    return low, high


def security_event_list(*, user, start: dt.date | None = None, end: dt.date | None = None, person: str = "",
                        kind: str = "", success: bool | None = None) -> QuerySet[SecurityEvent]:
    if not may_read_audit(user):
        return SecurityEvent.objects.none()
    qs = SecurityEvent.objects.select_related("actor")
    low, high = _day_bounds(start, end)
    if low:
        qs = qs.filter(at__gte=low)
    if high:
        qs = qs.filter(at__lt=high)
    if person:
        qs = qs.filter(Q(username__iexact=person) | Q(target__iexact=person) | Q(actor__username__iexact=person))
    if kind:
        qs = qs.filter(kind=kind)
    if success is not None:
        qs = qs.filter(success=success)
    return qs.order_by("-at", "-pk")


def configuration_change_list(*, user, start: dt.date | None = None, end: dt.date | None = None,
                              person: str = "", limit: int = 500) -> list:
    """Configuration changes with their before/after values (pghistory's aggregate of every event table),
    newest first. Empty where the history is not kept (SQLite)."""
    if not (may_read_audit(user) and history_available()):
        return []
    qs = Events.objects.all()
    low, high = _day_bounds(start, end)
    if low:
        qs = qs.filter(pgh_created_at__gte=low)
    if high:
        qs = qs.filter(pgh_created_at__lt=high)
    if person:
        ids = list(User.objects.filter(username__iexact=person).values_list("pk", flat=True))
        qs = qs.filter(pgh_context__user__in=ids) if ids else qs.none()
    events = list(qs.order_by("-pgh_created_at", "-pgh_id")[:limit])
    names = dict(User.objects.filter(pk__in={(e.pgh_context or {}).get("user") for e in events} - {None})
                 .values_list("pk", "username"))
    for event in events:
        context = event.pgh_context or {}
        event.username = names.get(context.get("user"), "")
        event.ip_address = context.get("ip") or ""
    return events
