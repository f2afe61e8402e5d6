"""What a service request's transitions do beyond the state machine, declared in one place.

- The audit recorder (registered with the engine in `TicketsConfig.ready()`): every transition and
  the filing write one append-only `RequestEvent`, in the transition's transaction.
- On a hand-off (the request reaches another unit) that unit's people keep seeing the request
  (`RequestAccess`, read by `tickets.scoping`) and whoever receives it gets an SMS reminder
  (DOMAIN.md: "whenever a request reaches the next node, the receiving person gets an SMS"). The
  text is the administrators' template: `request.handoff`, or `request.answered` when the answer
  reaches the teller.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from notifications import conf as notification_conf
from notifications.models import Duty, Notification
from notifications.services import notify_later, recipients_for_unit
from tickets.models import RequestAccess, RequestEvent, ServiceRequest
from workflow import engine, events
from workflow.requests import SUBMIT, TRANSITION_LABELS, RequestState

__all__ = ["record_request_event", "on_request_transitions", "register"]

# Transitions that do not hand the request on but still need someone to act.
NOTIFY_WITHOUT_HAND_OFF = {"submit_for_approval"}
WITHDRAW = "withdraw"


def record_request_event(event: events.Transitioned) -> RequestEvent:
    """The engine's recorder for service requests: the append-only audit row."""
    request = event.obj
    return RequestEvent.objects.create(
        request=request, name=event.name, actor=event.actor, at=event.at, from_state=event.source,
        from_unit_id=_from_unit_id(event), to_state=event.target, to_unit=request.holder_unit,
        comment=event.comment, details=event.details or {}, version=request.version,
    )


def _from_unit_id(event: events.Transitioned):
    return event.before.get("holder_unit_id", event.obj.holder_unit_id)


@events.subscribe("tickets.servicerequest")
def on_request_transitions(batch: Sequence[events.Transitioned]) -> None:
    for event in batch:
        request = event.obj
        handed_off = event.name == SUBMIT or _from_unit_id(event) != request.holder_unit_id
        if handed_off:
            # One statement, no savepoint: a unit that held it before already has its row.
            RequestAccess.objects.bulk_create([RequestAccess(request=request, unit=request.holder_unit,
                                                            filed_at=request.created_at)],
                                              ignore_conflicts=True)
        if handed_off or event.name in NOTIFY_WITHOUT_HAND_OFF:
            _notify_receiver(request, event.name, event.actor)
        if event.name == WITHDRAW:
            _notify_withdrawn(request)


def _notify_receiver(request: ServiceRequest, name: str, actor) -> None:
    if request.state == RequestState.CLOSED:
        return
    with translation.override(notification_conf.get("OPSDESK_SMS_LANGUAGE")):
        action = str(TRANSITION_LABELS.get(name, _("Submitted")))
        state = str(RequestState(request.state).label)
        unit = request.holder_unit.name
    template = "request.answered" if request.state == RequestState.ANSWERED else "request.handoff"
    context = {"number": request.number, "title": request.subject[:30], "action": action, "unit": unit,
               "state": state}
    options = {"template": template, "context": context,
               "text": f"{request.number} {request.subject[:30]}: {action} → {unit}"}
    key = f"request:{request.pk}:v{request.version}"
    if request.assignee_id:
        notify_later(event=f"request.{name}", key=key, about=request, people=[request.assignee], **options)
        return
    people = None
    if name in NOTIFY_WITHOUT_HAND_OFF and actor is not None:
        # Dual control: tell the other people of the county, not the one who prepared it.
        people = [p for p in recipients_for_unit(request.holder_unit, duty=Duty.REQUESTS) if p.pk != actor.pk]
    notify_later(event=f"request.{name}", key=key, about=request, people=people, unit=request.holder_unit,
                 **options)


def _notify_withdrawn(request: ServiceRequest) -> None:
    """A withdrawn request: the people who were reminded of it are told it is off their list, and
    nobody else (a request withdrawn before any reminder went out sends nothing)."""
    reminded = (Notification.objects.filter(content_type=ContentType.objects.get_for_model(ServiceRequest),
                                            object_id=str(request.pk), recipient__isnull=False)
                .values_list("recipient_id", flat=True).distinct())
    people = list(get_user_model().objects.filter(pk__in=list(reminded), is_active=True))
    if not people:
        return
    with translation.override(notification_conf.get("OPSDESK_SMS_LANGUAGE")):
        text = str(_("Request %(number)s “%(title)s” was withdrawn by the teller; nothing more to do.")
                   % {"number": request.number, "title": request.subject[:30]})
    notify_later(event=f"request.{WITHDRAW}", key=f"request:{request.pk}:v{request.version}", about=request,
                 people=people, text=text)


def register() -> None:
    engine.register(ServiceRequest, recorder=record_request_event)
