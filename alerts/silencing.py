"""Maintenance windows (silences) made and ended by people on the desk, and the list they read.

A window silences alerts by host, production system, check or category pattern between its start
and end: ingest stores and counts a matching alert on its incident but raises no alarm and sends
no SMS. A window that is in force when it is made also quiets the unresolved incidents it matches
at once, and ending it early brings their alarm back, so the board says the same as the windows.

Kept apart from `alerts.services` (ingest and incident actions); the per-incident "silence" button
there makes the same kind of row.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.choices import Category
from alerts.conf import setting
from alerts.models import Incident, IncidentEvent, Silence
from opsdesk import scoping
from opsdesk.org.models import ProductionSystem
from workflow.incidents import IncidentState, may_act_on_incidents

__all__ = ["SilenceListState", "MAX_SILENCE", "MAX_SILENCE_MINUTES", "is_wildcard", "may_manage_silences", "silence_list", "silence_select",
           "silence_get", "silence_create", "silence_end"]

log = logging.getLogger("opsdesk.alerts")

# Longer than this is almost always a typo in the end date; a longer job gets a second window.
MAX_SILENCE = timedelta(days=30)
# The largest number of minutes a form or the API takes at all (about 19 years): larger numbers are
# refused before they reach timedelta (10**12 minutes overflowed it: a 500). Anything over
# max_silence() is then refused by _clean with the rule's own message.
MAX_SILENCE_MINUTES = 10**7


def max_silence() -> timedelta:
    """OPSDESK_SILENCE_MAX_HOURS (default 720 = 30 days), never above MAX_SILENCE."""
    hours = setting("OPSDESK_SILENCE_MAX_HOURS")
    return min(timedelta(hours=hours), MAX_SILENCE)


def wildcard_max() -> timedelta:
    """OPSDESK_SILENCE_WILDCARD_MAX_HOURS (default 4): how long a window over every host may last."""
    return timedelta(hours=setting("OPSDESK_SILENCE_WILDCARD_MAX_HOURS"))


def is_wildcard(*, host_pattern: str, check_pattern: str, system: ProductionSystem | None) -> bool:
    """A window that names no host, system or check (a category at most) silences every host of the
    data centre: the whole board goes quiet. Only an administrator opens one, and only for hours."""
    return system is None and not host_pattern.strip("*? ") and not check_pattern.strip("*? ")

UNRESOLVED = (IncidentState.OPEN, IncidentState.ACKNOWLEDGED)


class SilenceListState:
    """Which windows a list shows: in force now, still to come, both (the default), or over."""

    CURRENT = "current"
    UPCOMING = "upcoming"
    PENDING = "pending"
    ENDED = "ended"
    ALL = "all"
    CHOICES = (CURRENT, UPCOMING, PENDING, ENDED, ALL)


def may_manage_silences(user) -> bool:
    """The people who act on incidents on the board (and administrators) open and end windows. Who
    reads them is scoping's `alerts.silence` rule: the same people (`INCIDENT_ROLES`)."""
    return user is not None and may_act_on_incidents(user)


def _require(actor) -> None:
    if not may_manage_silences(actor):
        raise PermissionDenied(_("Only the people on the alert board may manage maintenance windows."))


# --- reads ---------------------------------------------------------------------------------------

def silence_list(*, user, state: str = SilenceListState.PENDING, at: datetime | None = None) -> QuerySet[Silence]:
    """The windows `user` may see (scoping's `alerts.silence` rule; nobody else sees any), as a list
    shows them: see `silence_select`."""
    return silence_select(scoping.restrict(user, Silence.objects.all()), state=state, at=at)


def silence_select(queryset: QuerySet[Silence], *, state: str = SilenceListState.PENDING,
                   at: datetime | None = None) -> QuerySet[Silence]:
    """Windows of an already scoped `queryset` in `state`, with `alert_count`, the alerts each has
    swallowed so far; soonest first, ended ones most recent first."""
    at = at or timezone.now()
    qs = queryset.select_related("system", "author").annotate(alert_count=Count("alerts"))
    if state == SilenceListState.CURRENT:
        qs = qs.filter(starts_at__lte=at, ends_at__gt=at)
    elif state == SilenceListState.UPCOMING:
        qs = qs.filter(starts_at__gt=at)
    elif state == SilenceListState.PENDING:
        qs = qs.filter(ends_at__gt=at)
    elif state == SilenceListState.ENDED:
        return qs.filter(ends_at__lte=at).order_by("-ends_at", "-pk")
    return qs.order_by("starts_at", "ends_at", "pk")


def silence_get(*, user, pk: int) -> Silence | None:
    return silence_list(user=user, state=SilenceListState.ALL).filter(pk=pk).first()


# --- writes --------------------------------------------------------------------------------------

def _clean(*, host_pattern: str, check_pattern: str, system: ProductionSystem | None, category: str,
           starts_at: datetime, ends_at: datetime | None, duration: timedelta | None, reason: str,
           now: datetime) -> datetime:
    """Check a new window; returns its end. Errors are keyed by the input field they concern."""
    errors: dict[str, list[str]] = {}
    if not (host_pattern or check_pattern or system or category):
        errors.setdefault("__all__", []).append(
            _("Give at least one of host, production system, check or category."))
    if category and category not in Category.values:
        errors.setdefault("category", []).append(_("Unknown category."))
    if not reason:
        errors.setdefault("reason", []).append(_("Give a reason for the maintenance window."))
    if ends_at is not None and duration is not None:
        errors.setdefault("__all__", []).append(_("Give either an end or a duration, not both."))
    elif ends_at is None and duration is None:
        errors.setdefault("ends_at", []).append(_("Give an end or a duration."))
    elif duration is not None:
        if duration <= timedelta(0):
            errors.setdefault("duration_minutes", []).append(_("The duration must be at least one minute."))
        ends_at = starts_at + duration
    if ends_at is not None and not errors.get("duration_minutes"):
        field = "duration_minutes" if duration is not None else "ends_at"
        if ends_at <= starts_at:
            errors.setdefault(field, []).append(_("The end must come after the start."))
        elif ends_at <= now:
            errors.setdefault(field, []).append(_("The end is already past."))
        elif ends_at - starts_at > max_silence():
            longest = max_silence()
            errors.setdefault(field, []).append(
                _("A maintenance window lasts at most 30 days.") if longest == MAX_SILENCE else
                _("A maintenance window lasts at most %(hours)d hours.") % {"hours": longest.total_seconds() // 3600})
    if errors:
        raise ValidationError(errors)
    return ends_at


def silence_create(*, actor, reason: str, starts_at: datetime | None = None, ends_at: datetime | None = None,
                   duration: timedelta | None = None, host_pattern: str = "", check_pattern: str = "",
                   system: ProductionSystem | None = None, category: str = "") -> Silence:
    """Open a maintenance window. Raises PermissionDenied, or ValidationError keyed by field."""
    _require(actor)
    now = timezone.now()
    host_pattern, check_pattern, reason = host_pattern.strip(), check_pattern.strip(), reason.strip()
    starts_at = starts_at or now
    if duration is not None and duration > MAX_SILENCE * 2:
        duration = MAX_SILENCE * 2  # refused by _clean as too long, without date arithmetic overflowing
    ends_at = _clean(host_pattern=host_pattern, check_pattern=check_pattern, system=system, category=category,
                     starts_at=starts_at, ends_at=ends_at, duration=duration, reason=reason, now=now)
    if is_wildcard(host_pattern=host_pattern, check_pattern=check_pattern, system=system):
        if not actor.is_administrator:
            raise PermissionDenied(_("A window over every host silences the whole board: only an administrator "
                                     "may open one. Name the hosts, system or check instead."))
        if ends_at - starts_at > wildcard_max():
            raise ValidationError({"ends_at" if duration is None else "duration_minutes": [
                _("A window over every host lasts at most %(hours)d hours.")
                % {"hours": wildcard_max().total_seconds() // 3600}]})
    with transaction.atomic():
        silence = Silence.objects.create(host_pattern=host_pattern, check_pattern=check_pattern, system=system,
                                         category=category, starts_at=starts_at, ends_at=ends_at, reason=reason,
                                         author=actor)
        if starts_at <= now:
            _quiet_matching_incidents(silence, actor, now)
    log.info("silence %s created by %s: %s until %s", silence.pk, actor, silence, silence.ends_at.isoformat())
    return silence


def silence_end(*, actor, pk: int) -> Silence:
    """End a window now (one still to come ends before it starts). Ending an ended one changes nothing."""
    _require(actor)
    with transaction.atomic():
        silence = Silence.objects.select_for_update().filter(pk=pk).first()
        if silence is None:
            raise Silence.DoesNotExist
        now = timezone.now()
        if silence.ends_at <= now:
            return silence
        # A window still to come keeps its planned start and becomes empty: it never takes effect.
        silence.ends_at = max(now, silence.starts_at)
        silence.save(update_fields=["ends_at"])
        _release_incidents(silence, actor, now)
    log.info("silence %s ended early by %s", silence.pk, actor)
    return silence


# --- the incidents a window quiets ---------------------------------------------------------------

def _matches(silence: Silence, incident: Incident) -> bool:
    return silence.matches(host=incident.host, check=incident.check_name, category=incident.category,
                           system_id=incident.system_id)


def _quiet_matching_incidents(silence: Silence, actor, now: datetime) -> None:
    # Row locks, as ingest takes them, so a concurrent batch does not write an older silenced_until back.
    for incident in Incident.objects.select_for_update().filter(state__in=UNRESOLVED).order_by("pk"):
        if not _matches(silence, incident):
            continue
        if incident.silenced_until and incident.silenced_until >= silence.ends_at:
            continue
        incident.silenced_until = silence.ends_at
        incident.save(update_fields=["silenced_until", "updated_at"])
        IncidentEvent.objects.create(incident=incident, at=now, actor=actor, action="silence",
                                     source_state=incident.state, target_state=incident.state,
                                     comment=silence.reason,
                                     details={"silence": silence.pk, "until": silence.ends_at.isoformat()})


def _release_incidents(ended: Silence, actor, now: datetime) -> None:
    """Incidents quiet because of `ended` keep only what other windows in force still give them."""
    others = list(Silence.objects.active(now).exclude(pk=ended.pk))
    quiet = Incident.objects.filter(state__in=UNRESOLVED, silenced_until__gt=now)
    swallowed = set(quiet.filter(alerts__silence=ended).values_list("pk", flat=True))
    matching = {inc.pk for inc in quiet.only("pk", "host", "check_name", "category", "system_id")
                if _matches(ended, inc)}
    # PostgreSQL refuses FOR UPDATE with DISTINCT: find the rows first, then lock them by key.
    for incident in quiet.select_for_update().filter(pk__in=swallowed | matching).order_by("pk"):
        until = max((s.ends_at for s in others if _matches(s, incident)), default=None)
        if until is not None and until >= incident.silenced_until:
            continue
        incident.silenced_until = until
        incident.save(update_fields=["silenced_until", "updated_at"])
        IncidentEvent.objects.create(incident=incident, at=now, actor=actor, action="unsilence",
                                     source_state=incident.state, target_state=incident.state,
                                     comment=_("Maintenance window ended early: %(reason)s") % {
                                         "reason": ended.reason},
                                     details={"silence": ended.pk,
                                              "until": until.isoformat() if until else None})

