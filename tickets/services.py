"""Every write of the service-request app. Views, the API and tasks call these; nothing else writes."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from notifications.services import notify_later
from opsdesk.org.choices import Role, UnitKind
from tickets.conf import auto_close_days
from tickets.forms import clean_type_data, validate_upload
from tickets.models import Attachment, Comment, RequestAccess, RequestEvent, RequestType, ServiceRequest
from workflow import engine
from workflow.requests import TRANSITION_LABELS, RequestState

__all__ = [
    "request_create",
    "request_transition",
    "request_record_transition",
    "request_comment_add",
    "request_attachment_add",
    "requests_auto_close_stale",
]

logger = logging.getLogger(__name__)

# Transitions that do not hand the request on but still need someone to act.
NOTIFY_WITHOUT_HAND_OFF = {"submit_for_approval"}
SMS_LANGUAGE = "zh-hans"


def request_create(*, requester, request_type: RequestType, subject: str, system=None, data: dict | None = None,
                   submission_key: str = "") -> ServiceRequest:
    """A teller files a request: it goes to the teller's county support centre.

    `submission_key` (the form's hidden key, an API client's Idempotency-Key) makes filing safe to
    repeat: the same teller sending the same key again gets the request filed the first time, with
    `replayed` set, and nothing new is written. The returned request's `replayed` is False otherwise."""
    if not (requester.is_active and requester.has_role(Role.TELLER) and requester.unit_id
            and requester.unit.kind == UnitKind.OUTLET):
        raise PermissionDenied(_("Only a teller of an outlet can file a request."))
    submission_key = (submission_key or "").strip()
    if len(submission_key) > 64:
        raise ValidationError({"submission_key": [_("A submission key has at most 64 characters.")]})
    if submission_key:
        earlier = _filed_with(requester, submission_key)
        if earlier is not None:
            return earlier
    if not request_type.is_active:
        raise ValidationError({"request_type": [_("This request type is no longer offered.")]})
    subject = (subject or "").strip()
    errors = {}
    if not subject:
        errors["subject"] = [_("This field is required.")]
    if request_type.system_required and system is None:
        errors["system"] = [_("Choose the production system.")]
    if system is not None and not system.is_active:
        errors["system"] = [_("This production system is no longer in service.")]
    try:
        clean_data = clean_type_data(request_type, data or {})
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    outlet = requester.unit
    county, city = outlet.nearest(UnitKind.COUNTY), outlet.nearest(UnitKind.CITY)
    if county is None or city is None:
        raise ValidationError(_("Your outlet is not under a county and city centre; ask an administrator."))
    try:
        with transaction.atomic():
            request = ServiceRequest(
                request_type=request_type, subject=subject, system=system, data=clean_data, requester=requester,
                origin_unit=outlet, origin_county=county, origin_city=city, holder_unit=county, level=county.kind,
                submission_key=submission_key,
            )
            request.save()
            RequestAccess.objects.create(request=request, unit=outlet)
            request_record_transition(request=request, name="submit", source="", target=request.state,
                                      from_unit_id=outlet.pk, actor=requester, comment="", details={})
    except IntegrityError:
        # The same submission committed a moment earlier on another connection: that one stands.
        earlier = _filed_with(requester, submission_key) if submission_key else None
        if earlier is None:
            raise
        return earlier
    request.replayed = False
    return request


def _filed_with(requester, submission_key: str) -> ServiceRequest | None:
    earlier = ServiceRequest.objects.filter(requester=requester, submission_key=submission_key).first()
    if earlier is not None:
        earlier.replayed = True
    return earlier


def request_transition(*, request_id: int, name: str, actor, version: int | None, comment: str = "",
                       **kwargs) -> ServiceRequest:
    """Fire a transition through the engine (lock, version, state, permission, audit, notify)."""
    result = engine.perform(ServiceRequest, request_id, name, actor=actor, expected_version=version,
                            comment=(comment or "").strip(), **kwargs)
    return result.obj


def request_record_transition(*, request: ServiceRequest, name: str, source: str, target: str, from_unit_id,
                              actor, comment: str, details: dict) -> RequestEvent:
    """Called by the engine inside the transition's transaction: audit row, access row, SMS."""
    event = RequestEvent.objects.create(
        request=request, name=name, actor=actor, from_state=source, from_unit_id=from_unit_id, to_state=target,
        to_unit=request.holder_unit, comment=comment, details=details or {}, version=request.version,
    )
    _count_for_statistics(event=event, request=request)
    handed_off = from_unit_id != request.holder_unit_id or name == "submit"
    if handed_off:
        # One statement, no savepoint: a unit that held it before already has its row.
        RequestAccess.objects.bulk_create([RequestAccess(request=request, unit=request.holder_unit)],
                                          ignore_conflicts=True)
    if handed_off or name in NOTIFY_WITHOUT_HAND_OFF:
        _notify_receiver(request, name, actor)
    return event


def _count_for_statistics(*, event: RequestEvent, request: ServiceRequest) -> None:
    """The statistics app keeps its summary tables current in the same transaction (when installed)."""
    try:
        from reports.services import record_request_event
    except ImportError:
        return
    record_request_event(event=event, request=request)


def _notify_receiver(request: ServiceRequest, name: str, actor) -> None:
    if request.state == RequestState.CLOSED:
        return
    with translation.override(SMS_LANGUAGE):
        text = gettext("[OpsDesk] Service request %(number)s “%(subject)s”: %(action)s; now %(state)s.") % {
            "number": request.number, "subject": request.subject[:30], "action": TRANSITION_LABELS.get(
                name, _("Submitted")), "state": RequestState(request.state).label,
        }
    key = f"request:{request.pk}:v{request.version}"
    if request.assignee_id:
        notify_later(event=f"request.{name}", text=text, key=key, about=request, people=[request.assignee])
    else:
        people = None
        if name in NOTIFY_WITHOUT_HAND_OFF and actor is not None:
            # Dual control: tell the other people of the county, not the one who prepared it.
            from notifications.services import recipients_for_unit

            people = [p for p in recipients_for_unit(request.holder_unit) if p.pk != actor.pk]
        notify_later(event=f"request.{name}", text=text, key=key, about=request, people=people,
               unit=request.holder_unit)


def request_comment_add(*, request: ServiceRequest, author, body: str) -> Comment:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": [_("Write a comment.")]})
    if len(body) > 4000:
        raise ValidationError({"body": [_("Keep a comment under 4,000 characters.")]})
    return Comment.objects.create(request=request, author=author, body=body)


def request_attachment_add(*, request: ServiceRequest, uploader, upload) -> Attachment:
    try:
        content_type = validate_upload(upload)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from None
    name = (upload.name or "file").replace("/", "_").replace("\\", "_")[-200:]
    return Attachment.objects.create(request=request, uploaded_by=uploader, file=upload, original_name=name,
                                     content_type=content_type, size=upload.size)


def requests_auto_close_stale(*, now=None, days: int | None = None) -> int:
    """Close answered requests the teller has not confirmed within `days` (OPSDESK_AUTO_CLOSE_DAYS).
    Safe to re-run: each one goes through the engine, and one already closed is skipped."""
    now = now or timezone.now()
    days = auto_close_days() if days is None else days
    cutoff = now - timedelta(days=days)
    ids = list(ServiceRequest.objects.filter(state=RequestState.ANSWERED, answered_at__lt=cutoff)
               .order_by("answered_at").values_list("pk", flat=True)[:5000])
    closed = 0
    for pk in ids:
        try:
            engine.perform(ServiceRequest, pk, "auto_close", actor=None,
                           comment=gettext("Closed automatically: not confirmed within %(days)s days.")
                           % {"days": days})
            closed += 1
        except engine.TransitionError as exc:  # confirmed or rejected meanwhile
            logger.info("auto-close skipped request %s: %s", pk, exc.message)
    return closed
