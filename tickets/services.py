"""Every write of the service-request app. Views, the API and tasks call these; nothing else writes."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from opsdesk.org.choices import Role, UnitKind
from tickets.conf import auto_close_days
from tickets.fields import validate_upload
from tickets.forms import clean_type_data
from tickets.models import Attachment, Comment, RequestAccess, RequestType, ServiceRequest
from workflow import engine
from workflow.requests import SUBMIT, RequestState

__all__ = [
    "SubmissionKeyReused",
    "request_create",
    "request_transition",
    "request_comment_add",
    "request_attachment_add",
    "requests_auto_close_stale",
]

logger = logging.getLogger(__name__)


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
            _require_same_submission(earlier, request_type=request_type, subject=subject, system=system,
                                     data=data or {})
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
            engine.record_creation(request, name=SUBMIT, actor=requester, before={"holder_unit_id": outlet.pk})
    except IntegrityError:
        # The same submission committed a moment earlier on another connection: that one stands.
        earlier = _filed_with(requester, submission_key) if submission_key else None
        if earlier is None:
            raise
        return earlier
    request.replayed = False
    return request


class SubmissionKeyReused(ValidationError):
    """A submission key sent again with a different request: a client bug, not a retry (API: 422)."""


def _fingerprint(*, request_type_id, subject: str, system_id, data: dict) -> str:
    return json.dumps([request_type_id, (subject or "").strip(), system_id, data], sort_keys=True,
                      cls=DjangoJSONEncoder)


def _require_same_submission(earlier: ServiceRequest, *, request_type: RequestType, subject: str, system,
                             data: dict) -> None:
    """A retry repeats the request; the same key with other content would silently get the first
    request back and lose the second, so it is refused. Compared with what the first one stored."""
    try:
        clean_data = clean_type_data(request_type, data)
    except ValidationError:
        clean_data = data
    sent = _fingerprint(request_type_id=request_type.pk, subject=subject,
                        system_id=system.pk if system is not None else None, data=clean_data)
    stored = _fingerprint(request_type_id=earlier.request_type_id, subject=earlier.subject,
                          system_id=earlier.system_id, data=earlier.data)
    if sent != stored:
        raise SubmissionKeyReused({"submission_key": [gettext(
            "This submission key was already used for request %(number)s with different content; "
            "use a new key for a new request.") % {"number": earlier.number}]}, code="submission_key_reused")


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
