"""Escalation chains for incidents: a critical or major incident that nobody acknowledges within
T minutes is announced to the next level (operator → team lead → manager), each step configurable
(EscalationPolicy / EscalationStep, edited in the admin).

`start_chain(incident)` is called when an incident opens (inside its transaction). The beat task
`advance_escalations` fires due steps; before each step it reads the incident's state, so
acknowledging (or resolving) stops the chain without anyone having to cancel it.

A silenced incident (its own silence, or a maintenance window in force over it) and a flapping one
hold their chain: the due step is not fired and nobody is paged, while the alerts are still stored
and counted. The chain's clock stops for the hold: when the silence ends (or the flapping calms
down for a flap window) and the incident is still unacknowledged, the held step fires then, and the
later steps keep their waits after it. A hold is decided when a step falls due, so a window opened
after the chain started holds it too.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import override

from alerts.conf import setting
from alerts.models import Incident, IncidentEvent, Silence
from notifications import conf
from notifications.models import EscalationPolicy, EscalationRun, EscalationStep
from notifications.roster import Duty, on_duty_with_role, recipients_for_unit
from notifications.services import notify
from opsdesk.org.choices import Role, UnitKind
from opsdesk.org.models import Unit, User
from workflow.incidents import IncidentState

__all__ = ["start_chain", "escalations_advance_due", "escalations_discover", "escalation_fire_step", "step_recipients",
           "held_until"]

GROUP_ROLES = {Role.GROUP_MEMBER, Role.GROUP_LEAD}
# A chain keeps going while nobody has acknowledged the incident; acknowledging or resolving stops it.
ESCALATING_STATES = (IncidentState.OPEN,)


def start_chain(incident, *, at: dt.datetime | None = None) -> EscalationRun | None:
    """Start the escalation chain for `incident` if an active policy covers its severity.
    Idempotent: an incident has at most one chain (a reopened incident restarts it)."""
    severity = getattr(incident, "severity", "")
    policy = next((p for p in EscalationPolicy.objects.filter(is_active=True).order_by("pk")
                   if p.applies_to(severity)), None)
    if policy is None:
        return None
    first = policy.steps.order_by("order").first()
    if first is None:
        return None
    now = at or timezone.now()
    content_type = ContentType.objects.get_for_model(incident)
    run, created = EscalationRun.objects.get_or_create(
        content_type=content_type, object_id=str(incident.pk),
        defaults={"policy": policy, "started_at": now, "next_step": 0,
                  "next_at": now + dt.timedelta(minutes=first.wait_minutes)},
    )
    if not created and run.stopped_at is not None:
        # Reopened: the chain starts again from the first step.
        run.policy, run.started_at, run.next_step = policy, now, 0
        run.next_at = now + dt.timedelta(minutes=first.wait_minutes)
        run.stopped_at, run.stop_reason = None, ""
        run.save()
    return run


def _incident_is_active(incident) -> bool:
    return getattr(incident, "state", None) in ESCALATING_STATES


def held_until(incident, now: dt.datetime) -> dt.datetime | None:
    """Until when `incident` may page nobody: the latest end of its silence and of the maintenance
    windows in force over it, or, while it flaps, a flap window after its last change. None: not held."""
    ends = [incident.silenced_until] if incident.silenced_until and incident.silenced_until > now else []
    ends += [s.ends_at for s in Silence.objects.active(now)
             if s.matches(host=incident.host, check=incident.check_name, category=incident.category,
                          system_id=incident.system_id)]
    if incident.flapping and incident.recent_changes:
        calm = (max(dt.datetime.fromisoformat(c) for c in incident.recent_changes)
                + dt.timedelta(minutes=setting("OPSDESK_INCIDENT_FLAP_WINDOW_MINUTES")))
        if calm > now:
            ends.append(calm)
    return max(ends, default=None)


def step_recipients(step: EscalationStep, incident) -> list[User]:
    """People holding the step's role: in the step's unit if set; for support-group roles in the
    incident's owning group; operators are taken from the alert-duty roster when one is kept."""
    unit: Unit | None = step.unit
    if unit is None and step.role in GROUP_ROLES:
        system = getattr(incident, "system", None)
        unit = getattr(system, "owner_group", None)
    if step.role == Role.OPERATOR:
        if unit is None:
            return on_duty_with_role(Role.OPERATOR, duty=Duty.ALERTS)
        on_duty = [p for p in recipients_for_unit(unit, duty=Duty.ALERTS) if p.has_role(Role.OPERATOR)]
        if on_duty:
            return on_duty
    people = User.objects.filter(is_active=True).exclude(mobile="").select_related("unit").order_by("pk")
    if unit is not None:
        people = people.filter(unit__path__startswith=unit.path)
    elif step.role in (Role.OPERATOR, Role.MANAGER, Role.DISPATCHER):
        people = people.filter(unit__kind__in=[UnitKind.PROVINCE, UnitKind.OPERATIONS])
    return [p for p in people if step.role in p.roles]


def escalation_fire_step(*, run_id: int, now: dt.datetime | None = None) -> str:
    """Fire the run's next step if it is due and the incident is still unacknowledged."""
    now = now or timezone.now()
    with transaction.atomic():
        run = EscalationRun.objects.select_for_update().filter(pk=run_id, stopped_at__isnull=True).first()
        if run is None or run.next_at is None or run.next_at > now:
            return "not-due"
        model = run.content_type.model_class()
        incident = model._default_manager.filter(pk=run.object_id).first() if model else None
        if incident is None or not _incident_is_active(incident):
            run.stopped_at, run.next_at = now, None
            run.stop_reason = getattr(incident, "state", "gone") if incident is not None else "gone"
            run.save(update_fields=["stopped_at", "next_at", "stop_reason"])
            return "stopped"
        until = held_until(incident, now) if isinstance(incident, Incident) else None
        if until is not None:
            # Silenced or flapping: nobody is paged, and the chain's clock stops until the hold ends. The
            # incident's history says so (once per hold: the run is looked at again when it ends).
            run.started_at += until - run.next_at
            run.next_at = until
            run.save(update_fields=["started_at", "next_at"])
            IncidentEvent.objects.create(incident=incident, at=now, action="escalation_held",
                                         source_state=incident.state, target_state=incident.state,
                                         details={"until": until.isoformat(), "step": run.next_step})
            return "held"
        steps = list(run.policy.steps.order_by("order"))
        step = steps[run.next_step]
        minutes = int((now - run.started_at).total_seconds() // 60)
        with override(conf.get("OPSDESK_SMS_LANGUAGE")):
            severity = (incident.get_severity_display() if hasattr(incident, "get_severity_display")
                        else getattr(incident, "severity", ""))
        notify(
            event="incident.escalation", key=f"escalation:{run.pk}:{run.started_at.timestamp():.0f}:{step.order}",
            about=incident, people=step_recipients(step, incident), urgent=True, template="incident.escalation",
            context={"severity": severity, "title": getattr(incident, "summary", "") or str(incident), "minutes": minutes},
            text=str(incident), digest=False,
        )
        run.next_step += 1
        if run.next_step < len(steps):
            # Each step's wait counts from the step before it.
            run.next_at = run.started_at + dt.timedelta(
                minutes=sum(s.wait_minutes for s in steps[: run.next_step + 1]))
        else:
            run.next_at, run.stopped_at, run.stop_reason = None, now, "last step"
        run.save(update_fields=["next_step", "next_at", "stopped_at", "stop_reason"])
    return "fired"


def escalations_discover(*, now: dt.datetime | None = None) -> int:
    """Start chains for open incidents that should have one and do not (a safety net: the intake
    starts them itself). The chain counts from when the incident was first seen."""
    severities = {s.strip() for p in EscalationPolicy.objects.filter(is_active=True) for s in p.severities.split(",")}
    if not severities:
        return 0
    content_type = ContentType.objects.get_for_model(Incident)
    has_run = EscalationRun.objects.filter(content_type=content_type,
                                           object_id=Cast(OuterRef("pk"), output_field=CharField()))
    missing = (Incident.objects.filter(state__in=ESCALATING_STATES,
                                       severity__in=severities)
               .filter(~Exists(has_run)).order_by("pk")[:500])
    started = 0
    for incident in missing:
        with transaction.atomic():
            if start_chain(incident, at=getattr(incident, "first_seen", None) or now) is not None:
                started += 1
    return started


def escalations_advance_due(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    escalations_discover(now=now)
    due = EscalationRun.objects.filter(stopped_at__isnull=True, next_at__lte=now).values_list("pk", flat=True)
    return sum(1 for pk in list(due[:500]) if escalation_fire_step(run_id=pk, now=now) == "fired")
