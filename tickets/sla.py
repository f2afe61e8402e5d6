"""SLA timers for service requests.

A policy (SlaPolicy, per request type and level, edited in the admin) gives the unit holding a
request a target for the first response and one for resolution (passing it on: answering,
escalating, dispatching). The clock of a holding period starts when the request reaches the unit
(`held_since`), pauses while the request waits for the teller's information and resumes when it
comes back to the same unit — both moments are the request's own `held_since`, so the figures are
exact whatever the beat interval. Near breach and breach notify the holder (its assignee, else
whoever is on duty) and its supervisors, once each; a policy may escalate a breached request to
the next level automatically, through the workflow engine, as the desk itself (recorded in the
request's audit trail).

The beat task `check_sla_clocks` runs `sla_check_all()`; all state lives in SlaClock rows, so a
restart loses nothing and announces nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from notifications import conf
from notifications.models import Duty, SlaClock, SlaPolicy
from notifications.roster import recipients_for_unit
from notifications.services import notify
from opsdesk.org.choices import Role
from opsdesk.org.models import Unit, User
from tickets.models import ServiceRequest
from workflow.engine import TransitionError, perform
from workflow.requests import RequestState

__all__ = ["policy_for", "sla_check_request", "sla_check_all", "supervisors_of", "clock_figures"]

logger = logging.getLogger(__name__)

# The clock stands still while the request waits for the teller's information.
WAITING_STATES = (RequestState.INFO_REQUESTED,)
# No target applies once the answer has reached the teller (who confirms or rejects it).
DONE_STATES = (RequestState.ANSWERED,)


def policy_for(request) -> SlaPolicy | None:
    """The most specific active policy: type and level, then type, then level, then the default."""
    type_code = request.request_type.code
    candidates = SlaPolicy.objects.filter(is_active=True).filter(
        Q(request_type=type_code) | Q(request_type=""), Q(level=request.level) | Q(level=""))
    ranked = sorted(candidates, key=lambda p: (p.request_type == "", p.level == ""))
    return ranked[0] if ranked else None


def supervisors_of(unit: Unit) -> list[User]:
    """The unit's managers and group leads; if it has none, the nearest unit above that has."""
    for candidate in unit.ancestors().order_by("-depth"):
        people = [p for p in candidate.people.filter(is_active=True).exclude(mobile="").order_by("pk")
                  if p.has_role(Role.MANAGER, Role.GROUP_LEAD)]
        if people:
            return people
    return []


def clock_figures(clock: SlaClock, now: dt.datetime) -> dict:
    """Elapsed working minutes and the due moments of this holding period."""
    paused = clock.paused_seconds + ((now - clock.paused_at).total_seconds() if clock.paused_at else 0)
    elapsed = max(0.0, (now - clock.started_at).total_seconds() - paused)
    policy = clock.policy
    figures = {"elapsed_minutes": round(elapsed / 60, 1), "paused": clock.paused_at is not None}
    if policy is not None:
        shift = dt.timedelta(seconds=paused)
        figures["response_due"] = clock.started_at + shift + dt.timedelta(minutes=policy.first_response_minutes)
        figures["resolution_due"] = clock.started_at + shift + dt.timedelta(minutes=policy.resolution_minutes)
    return figures


def _sync_clock(request, clock: SlaClock | None) -> SlaClock:
    """Bring the clock in line with where the request is now."""
    waiting = request.state in WAITING_STATES
    if clock is None:
        clock = SlaClock(request_id=request.pk)
    if waiting:
        # Waiting for the teller: the clock of the unit that asked stands still.
        if clock.paused_at is None and clock.pk is not None and clock.last_level == str(request.waiting_unit_id):
            clock.paused_at = request.held_since
        elif clock.pk is None:
            clock.policy, clock.started_at = None, request.held_since
        return clock
    holder = str(request.holder_unit_id)
    if clock.pk is not None and clock.last_level == holder:
        if clock.paused_at is not None:  # back from the teller: resume
            clock.paused_seconds += max(0.0, (request.held_since - clock.paused_at).total_seconds())
            clock.paused_at = None
        return clock
    # A new holding period.
    clock.last_level, clock.started_at, clock.paused_at, clock.paused_seconds = holder, request.held_since, None, 0
    clock.policy = policy_for(request)
    clock.responded_at = None
    clock.response_near_notified = clock.response_breach_notified = False
    clock.resolution_near_notified = clock.resolution_breach_notified = False
    clock.escalated_at = None
    return clock


def _first_response(request, clock: SlaClock) -> dt.datetime | None:
    holder = request.holder_unit_id
    event = request.events.filter(at__gt=clock.started_at, actor__unit_id=holder).order_by("at").first()
    comment = request.comments.filter(created_at__gt=clock.started_at, author__unit_id=holder) \
        .order_by("created_at").first()
    moments = [m for m in (event and event.at, comment and comment.created_at) if m]
    return min(moments) if moments else None


def sla_check_request(*, request_id: int, now: dt.datetime | None = None) -> list[str]:
    """Check one request; returns what was announced or done ("response_near", "resolution_breach",
    "escalated", …)."""
    now = now or timezone.now()
    done: list[str] = []
    with transaction.atomic():
        request = ServiceRequest.objects.select_related("request_type", "holder_unit").filter(pk=request_id).first()
        clock = SlaClock.objects.select_for_update().filter(request_id=request_id).first()
        if request is None or not request.is_open:
            if clock is not None and clock.stopped_at is None:
                clock.stopped_at = now
                clock.save(update_fields=["stopped_at"])
            return done
        clock = _sync_clock(request, clock)
        if (clock.policy is None or clock.paused_at is not None or request.state in WAITING_STATES
                or request.state in DONE_STATES):
            clock.save()
            return done
        policy = clock.policy
        if clock.responded_at is None:
            clock.responded_at = _first_response(request, clock)
        figures = clock_figures(clock, now)
        elapsed = figures["elapsed_minutes"]
        checks = []
        if clock.responded_at is None:
            checks.append(("response", policy.first_response_minutes, figures["response_due"]))
        checks.append(("resolution", policy.resolution_minutes, figures["resolution_due"]))
        for target, minutes, due in checks:
            near_flag, breach_flag = f"{target}_near_notified", f"{target}_breach_notified"
            if elapsed >= minutes and not getattr(clock, breach_flag):
                setattr(clock, breach_flag, True)
                setattr(clock, near_flag, True)
                _announce(request, clock, "sla.breach", target, due)
                done.append(f"{target}_breach")
            elif elapsed >= minutes * policy.near_breach_percent / 100 and not getattr(clock, near_flag):
                setattr(clock, near_flag, True)
                _announce(request, clock, "sla.near_breach", target, due)
                done.append(f"{target}_near")
        clock.save()
        escalate = (policy.auto_escalate and clock.resolution_breach_notified and clock.escalated_at is None
                    and not clock.escalation_error)
    if escalate:
        refused = _auto_escalate(request, policy)
        if refused:
            SlaClock.objects.filter(pk=clock.pk).update(escalation_error=refused[:300])
            done.append("escalation_refused")
        else:
            SlaClock.objects.filter(pk=clock.pk).update(escalated_at=now)
            done.append("escalated")
    return done


def _announce(request, clock: SlaClock, template: str, target: str, due: dt.datetime) -> None:
    holders = ([request.assignee] if request.assignee_id
               else recipients_for_unit(request.holder_unit, duty=Duty.REQUESTS))
    people = {p.pk: p for p in holders + supervisors_of(request.holder_unit)}
    with override(conf.get("OPSDESK_SMS_LANGUAGE") or "zh-hans"):
        target_label = _("first response") if target == "response" else _("resolution")
    notify(
        event=template, key=f"{template}:{request.pk}:{clock.last_level}:{clock.started_at.timestamp():.0f}:{target}",
        about=request, people=list(people.values()), template=template, digest=False,
        context={"number": request.number, "title": request.subject[:30], "target": target_label,
                 "due": timezone.localtime(due).strftime("%m-%d %H:%M")},
        text=f"{request.number} {template} {target}",
    )


def _auto_escalate(request, policy: SlaPolicy) -> str:
    """Escalate through the engine as the desk itself (actor None, as the audit trail records
    automatic actions); returns why not, or "" when done. Tried
    once per holding period: a refusal is recorded on the clock, not retried every minute."""
    with override(conf.get("OPSDESK_SMS_LANGUAGE")):
        comment = _("SLA “%(policy)s” breached: escalated automatically by the system.") % {"policy": policy.name}
    try:
        perform(ServiceRequest, request.pk, "escalate", actor=None, comment=comment)
    except TransitionError as exc:
        logger.warning("SLA auto-escalation of request %s refused: %s", request.pk, exc.message)
        return f"{exc.__class__.__name__}: {exc.message}"
    except ValidationError as exc:
        return f"ValidationError: {'; '.join(exc.messages)}"
    return ""


def sla_check_all(*, now: dt.datetime | None = None) -> dict:
    """Beat: check every open request that has (or may get) a policy."""
    if not SlaPolicy.objects.filter(is_active=True).exists():
        return {"checked": 0}
    now = now or timezone.now()
    counts: dict[str, int] = {"checked": 0}
    ids = list(ServiceRequest.objects.open().values_list("pk", flat=True).order_by("pk"))
    for pk in ids:
        counts["checked"] += 1
        for what in sla_check_request(request_id=pk, now=now):
            counts[what] = counts.get(what, 0) + 1
    SlaClock.objects.filter(stopped_at__isnull=True).exclude(request_id__in=ids).update(stopped_at=now)
    return counts
