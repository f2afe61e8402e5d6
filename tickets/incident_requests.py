"""Service requests filed from an alert incident (告警转服务请求), and the link both ways.

From the board or an incident's page, the people on the alert board (operators, dispatchers,
support groups: `INCIDENT_ROLES`, in the provincial centre's units) file a request prefilled from the
incident (system, host, summary). They are not tellers: they file on behalf of the provincial
centre, so the request starts at the provincial operations department (in the dispatchers' triage)
and its answer comes back to them (`workflow.requests.filed_at_province`). Tellers file from their
outlet as always; managers read; everyone else is refused (default deny).

The link is an `IncidentLink` row of this app: the request shows its incident's live state (read
through `alerts.selectors`, scoped), and the incident's page lists its requests through the
`incident_requests` template tag. The alert app never imports this one.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.selectors import incident_get
from opsdesk import scoping
from opsdesk.org.choices import INCIDENT_ROLES, UnitKind
from tickets.models import IncidentLink, RequestAccess, RequestType, ServiceRequest
from tickets.services import request_fields_clean
from workflow import engine
from workflow.requests import SUBMIT, RequestState

__all__ = ["PROVINCE_FILERS", "may_file_from_incident", "incident_prefill", "request_create_from_incident",
           "requests_for_incident", "incident_of_request"]

# Who files from an incident: the people who act on the alert board, in the provincial centre's units.
PROVINCE_FILERS = tuple(sorted(INCIDENT_ROLES))
PROVINCE_KINDS = (UnitKind.OPERATIONS, UnitKind.PROVINCE, UnitKind.SUPPORT_GROUP)
DEFAULT_TYPE = "fault_report"


def may_file_from_incident(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.unit_id
                and user.unit.kind in PROVINCE_KINDS and user.has_role(*PROVINCE_FILERS))


def refusal() -> PermissionDenied:
    return PermissionDenied(_("Only the people on duty at the alert board (operators, dispatchers, support groups) "
                              "file a service request from an incident. Tellers file theirs from their outlet."))


def incident_prefill(incident, request_type: RequestType) -> dict:
    """The form's initial values from the incident: subject, system, and the type's own fields where
    the incident says something about them (the error, when it happened, a description)."""
    title = f"{incident.host} {incident.check_title}"
    summary = incident.summary or ""
    initial = {"subject": (f"{title}：{summary}" if summary else title)[:200]}
    if incident.system_id:
        initial["system"] = incident.system_id
    names = {spec["name"] for spec in request_type.fields}
    said = {
        "error_message": summary[:2000],
        "occurred_at": timezone.localtime(incident.first_seen).strftime("%Y-%m-%dT%H:%M"),
        "description": _("Alert incident #%(pk)s: %(title)s\n%(summary)s") % {
            "pk": incident.pk, "title": title, "summary": summary},
        "question": summary,
    }
    initial.update({f"f_{name}": value for name, value in said.items() if name in names and value})
    return initial


def request_create_from_incident(*, requester, incident_pk: int, request_type: RequestType, subject: str,
                                 system=None, data: dict | None = None, submission_key: str = "") -> ServiceRequest:
    """File a request from an incident on behalf of the provincial centre; it is linked to the
    incident. Safe to repeat with the same `submission_key` (the first filing comes back)."""
    if not may_file_from_incident(requester):
        raise refusal()
    incident = incident_get(user=requester, pk=incident_pk)
    if incident is None:
        raise PermissionDenied(_("No such incident."))
    submission_key = (submission_key or "").strip()[:64]
    if submission_key:
        earlier = ServiceRequest.objects.filter(requester=requester, submission_key=submission_key).first()
        if earlier is not None:
            return earlier
    subject, clean_data = request_fields_clean(request_type=request_type, subject=subject, system=system, data=data)
    centre = requester.unit
    request = ServiceRequest(request_type=request_type, subject=subject, system=system, data=clean_data,
                             requester=requester, origin_unit=centre, origin_county=centre, origin_city=centre,
                             state=RequestState.AT_PROVINCE, submission_key=submission_key)
    operations = request.operations_unit()
    request.holder_unit, request.level = operations, operations.kind
    try:
        with transaction.atomic():
            request.save()
            RequestAccess.objects.create(request=request, unit=centre, filed_at=request.created_at)
            IncidentLink.objects.create(request=request, incident_id=incident.pk)
            engine.record_creation(request, name=SUBMIT, actor=requester, before={"holder_unit_id": centre.pk})
    except IntegrityError:
        earlier = ServiceRequest.objects.filter(requester=requester, submission_key=submission_key).first()
        if not submission_key or earlier is None:
            raise
        return earlier
    return request


def requests_for_incident(*, user, incident_pk: int) -> QuerySet[ServiceRequest]:
    """The requests filed from an incident that `user` may see, newest first."""
    linked = IncidentLink.objects.filter(incident_id=incident_pk).values("request_id")
    return (scoping.restrict(user, ServiceRequest.objects.filter(pk__in=linked))
            .select_related("holder_unit", "requester").order_by("-created_at", "-pk"))


def incident_of_request(*, user, request: ServiceRequest):
    """The incident `request` was filed from, as it is now, if `user` may see it (else None)."""
    link = IncidentLink.objects.filter(request=request).only("incident_id").first()
    return incident_get(user=user, pk=link.incident_id) if link is not None else None
