"""Every write of the service-request app. Views, the API and tasks call these; nothing else writes."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from opsdesk import scoping
from opsdesk.org.choices import Role, UnitKind
from tickets.conf import auto_close_days
from tickets.errors import action_label, describe_transition_error
from tickets.fields import validate_upload
from tickets.forms import clean_type_data
from tickets.models import Attachment, Comment, RequestAccess, RequestType, SavedView, ServiceRequest
from tickets.search import RequestSearchForm
from workflow import engine
from workflow.requests import SUBMIT, RequestState

__all__ = [
    "request_fields_clean",
    "SubmissionKeyReused",
    "request_create",
    "request_transition",
    "request_comment_add",
    "request_attachment_add",
    "requests_auto_close_stale",
    "BULK_ACTIONS",
    "bulk_actions_for",
    "BulkOutcome",
    "requests_bulk_transition",
    "saved_view_save",
    "saved_view_delete",
]

logger = logging.getLogger(__name__)


def request_fields_clean(*, request_type, subject: str, system, data: dict | None) -> tuple[str, dict]:
    """The subject (trimmed) and the type's fields (cleaned) of a new request, or one ValidationError
    naming every field that is wrong. Shared by every way of filing."""
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
    return subject, clean_data


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
    subject, clean_data = request_fields_clean(request_type=request_type, subject=subject, system=system, data=data)
    outlet = requester.unit
    above = outlet.nearest_of(UnitKind.COUNTY, UnitKind.CITY)
    county, city = above[UnitKind.COUNTY], above[UnitKind.CITY]
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
            RequestAccess.objects.create(request=request, unit=outlet, filed_at=request.created_at)
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
                       within=None, **kwargs) -> ServiceRequest:
    """Fire a transition through the engine (lock, version, state, permission, audit, notify).
    `within`: the requests the caller may see; one outside it is ServiceRequest.DoesNotExist."""
    result = engine.perform(ServiceRequest, request_id, name, actor=actor, expected_version=version,
                            comment=(comment or "").strip(), within=within, **kwargs)
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


# Actions that make sense on many requests at once: taking several from a queue, sending several to
# one support group. Each goes through the state machine on its own, in its own transaction.
BULK_ACTIONS = ("claim", "dispatch")
BULK_LIMIT = 100


def bulk_actions_for(user) -> list[str]:
    """The bulk actions worth offering `user` (each request is still checked by the state machine)."""
    actions = []
    if user.has_role(Role.COUNTY_SUPPORT, Role.CITY_SUPPORT, Role.DISPATCHER, Role.GROUP_MEMBER, Role.GROUP_LEAD):
        actions.append("claim")
    if user.has_role(Role.DISPATCHER) and scoping.is_province_staff(user):
        actions.append("dispatch")
    return actions


@dataclass
class BulkOutcome:
    request_id: int
    number: str
    ok: bool
    message: str


def requests_bulk_transition(*, actor, request_ids, name: str, comment: str = "", group=None) -> list[BulkOutcome]:
    """Fire `name` on each request in turn, one transaction each: one that fails (taken meanwhile,
    not the actor's to move, not visible) does not hold up the others. Returns one outcome per
    request, in the order asked, each with what the person is told."""
    if name not in BULK_ACTIONS:
        raise ValidationError({"action": [_("This action cannot be done on several requests at once.")]})
    ids = list(dict.fromkeys(request_ids))
    if not ids:
        raise ValidationError({"ids": [_("Choose at least one request.")]})
    if len(ids) > BULK_LIMIT:
        raise ValidationError({"ids": [_("Choose at most %(n)s requests at once.") % {"n": BULK_LIMIT}]})
    kwargs = {}
    if name == "dispatch":
        kwargs["group"] = ServiceRequest._support_group(group)  # checked once, before any request moves
    visible = set(scoping.restrict(actor, ServiceRequest.objects.filter(pk__in=ids)).values_list("pk", flat=True))
    outcomes = []
    for pk in ids:
        number = ServiceRequest(pk=pk).number
        if pk not in visible:  # never say whether a request the actor may not see exists
            outcomes.append(BulkOutcome(pk, number, False, gettext("Not found.")))
            continue
        try:
            request_transition(request_id=pk, name=name, actor=actor, version=None, comment=comment, **kwargs)
        except engine.TransitionError as exc:
            outcomes.append(BulkOutcome(pk, number, False, describe_transition_error(exc)))
        except (ValidationError, PermissionDenied) as exc:
            messages = getattr(exc, "messages", None) or [gettext("You may not do this with this request.")]
            outcomes.append(BulkOutcome(pk, number, False, " ".join(messages)))
        else:
            outcomes.append(BulkOutcome(pk, number, True, gettext("Done: %(action)s.") % {"action": action_label(name)}))
    return outcomes


SAVED_VIEWS_PER_PERSON = 30
# Not part of a saved search: where the person was in the list.
NOT_SAVED = {"page", "limit", "offset", "csrfmiddlewaretoken", "name"}


def saved_view_save(*, owner, name: str, query: str) -> SavedView:
    """Save (or replace) the person's search `query` (a query string of the search's filters) under
    `name`. Filters that do not validate are refused, so a saved view always opens."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Give the view a name.")]})
    if len(name) > 60:
        raise ValidationError({"name": [_("Keep the name under 60 characters.")]})
    params = QueryDict(query or "", mutable=True)
    for key in NOT_SAVED:
        params.pop(key, None)
    form = RequestSearchForm(params)
    if not form.is_valid():
        raise ValidationError({"query": [m for messages in form.errors.values() for m in messages]})
    # Only the filters that are set, in the form's order: the same search saves the same text.
    query = urlencode([(k, v) for k in RequestSearchForm.base_fields for v in params.getlist(k) if v != ""])
    if len(query) > 1000:
        raise ValidationError({"query": [_("These filters are too long to save.")]})
    existing = SavedView.objects.filter(owner=owner, name=name).first()
    if existing is None and SavedView.objects.filter(owner=owner).count() >= SAVED_VIEWS_PER_PERSON:
        raise ValidationError({"name": [_("You have %(n)s saved views; delete one first.")
                                        % {"n": SAVED_VIEWS_PER_PERSON}]})
    if existing is not None:
        existing.query = query
        existing.save(update_fields=["query"])
        return existing
    return SavedView.objects.create(owner=owner, name=name, query=query)


def saved_view_delete(*, owner, pk) -> None:
    """Delete one of the person's own saved views (someone else's: nothing happens)."""
    SavedView.objects.filter(owner=owner, pk=pk).delete()
