"""Every read of the service-request app that returns requests to a person goes through scoping."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.selectors import open_incidents_for_system
from opsdesk import scoping
from opsdesk.org.choices import UnitKind
from opsdesk.org.models import Unit
from tickets.models import Attachment, Comment, RequestEvent, SavedView, ServiceRequest
from workflow import engine
from workflow.requests import RequestState

__all__ = [
    "LIST_VALUES",
    "list_values_of",
    "request_list",
    "request_get",
    "requests_mine",
    "request_queue",
    "request_triage_board",
    "request_timeline",
    "request_actions",
    "known_incidents_for_system",
    "comment_list",
    "attachment_list",
    "GroupLoad",
    "requests_with_groups",
    "saved_views",
]

# Few joins on purpose: PostgreSQL's planning time grows fast with each one (the list shows the
# system by id; the detail adds the requester).
LIST_RELATED = ("request_type", "holder_unit", "origin_unit", "assignee")
DETAIL_RELATED = (*LIST_RELATED, "requester", "system")
# The API's lists read exactly what a row shows, as plain values (a request's form data and answer
# stay unread): building a page of model instances (five per row with its relations) cost more than
# the query. `list_values_of` gives the same row from a request already read.
_UNIT_VALUES = ("id", "code", "name", "kind")
_PERSON_VALUES = ("id", "username", "display_name", "first_name", "last_name")
LIST_VALUES = (
    "id", "request_type__code", "subject", "system_id", "state", "version", "level", "held_since", "created_at",
    "answered_at", "closed_at", "rating",
    *(f"holder_unit__{name}" for name in _UNIT_VALUES), *(f"origin_unit__{name}" for name in _UNIT_VALUES),
    *(f"assignee__{name}" for name in _PERSON_VALUES),
)


def list_values_of(request: ServiceRequest) -> dict:
    """A request read as a model instance (with LIST_RELATED), as the row LIST_VALUES reads."""
    row = {name: getattr(request, name) for name in LIST_VALUES if "__" not in name}
    row["request_type__code"] = request.request_type.code
    for relation, names in (("holder_unit", _UNIT_VALUES), ("origin_unit", _UNIT_VALUES),
                            ("assignee", _PERSON_VALUES)):
        related = getattr(request, relation)
        row.update({f"{relation}__{name}": getattr(related, name, None) for name in names})
    return row


def request_list(*, user) -> QuerySet[ServiceRequest]:
    return scoping.restrict(user, ServiceRequest.objects.select_related(*LIST_RELATED))


def request_get(*, user, pk) -> ServiceRequest:
    """The request if `user` may see it; 404 otherwise (never reveal that it exists)."""
    try:
        return request_list(user=user).select_related(*DETAIL_RELATED).get(pk=int(pk))
    except (ServiceRequest.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def requests_mine(*, user) -> QuerySet[ServiceRequest]:
    """A teller's own requests, newest first."""
    return request_list(user=user).filter(requester=user).order_by("-created_at", "-pk")


def request_queue(*, user, unit=None) -> QuerySet[ServiceRequest]:
    """Open requests held by the person's unit (county, city or group), oldest first."""
    unit = unit or user.unit
    if unit is None:
        return ServiceRequest.objects.none()
    return request_list(user=user).held_by(unit).order_by("held_since", "pk")


def request_triage_board(*, user) -> QuerySet[ServiceRequest]:
    """Open requests held by the provincial centre or its operations department, oldest first."""
    if user.unit_id is None:
        return ServiceRequest.objects.none()
    root = user.unit.ancestor_codes()[0]
    return (request_list(user=user).open()
            .filter(holder_unit__kind__in=[UnitKind.OPERATIONS, UnitKind.PROVINCE],
                    holder_unit__path__startswith=f"{root}/")
            .order_by("held_since", "pk"))


def request_timeline(*, request: ServiceRequest) -> QuerySet[RequestEvent]:
    return request.events.select_related("actor", "from_unit", "to_unit").order_by("version", "pk")


def request_actions(*, request: ServiceRequest, user) -> list[str]:
    """The transitions `user` may fire on `request` now."""
    return engine.available_transitions(request, user)


def comment_list(*, user, request: ServiceRequest) -> QuerySet[Comment]:
    return scoping.restrict(user, Comment.objects.filter(request=request)).select_related("author")


def attachment_list(*, user, request: ServiceRequest) -> QuerySet[Attachment]:
    return scoping.restrict(user, Attachment.objects.filter(request=request)).select_related("uploaded_by")


def known_incidents_for_system(*, user, system) -> list[str]:
    """What `user` is told of the open incidents of a production system (tickets reads the alerts
    app's selectors, one way). The people on the alert board (and administrators) read the incidents
    by host and check; everyone else, a teller above all, reads plain words without internal names:
    a known fault is being handled, and since when."""
    if system is None:
        return []
    incidents = list(open_incidents_for_system(system)[:5])
    if not incidents:
        return []
    if user.is_administrator or scoping.sees_incidents(user):
        return [str(incident) for incident in incidents]
    since = timezone.localtime(min(incident.first_seen for incident in incidents))
    shown = since.strftime("%H:%M") if since.date() == timezone.localdate() else since.strftime("%m-%d %H:%M")
    return [_("A known fault is being handled since %(time)s.") % {"time": shown}]


@dataclass
class GroupLoad:
    """One support group in the dispatcher's overview: how many requests are out with it, and the
    ones that have waited longest there (oldest first)."""

    group: Unit
    count: int = 0
    longest_waiting: list[ServiceRequest] = field(default_factory=list)


def requests_with_groups(*, user, per_group: int = 20) -> list[GroupLoad]:
    """Everything out with the support groups that `user` may see, by group: the groups holding the
    most first, each with its longest-waiting requests (how long each has been with its group).

    One pass over the requests out (a few thousand at the bank's scale) numbers each within its group,
    longest waiting first, and counts its group (window functions): the first `per_group` of each come
    back with their group's count, and are then read whole by id (a query per group would read and
    join every request of that group again)."""
    out = scoping.restrict(user, ServiceRequest.objects.filter(state=RequestState.AT_GROUP))
    by_group = Window(Count("pk"), partition_by=[F("holder_unit_id")])
    place = Window(RowNumber(), partition_by=[F("holder_unit_id")], order_by=[F("held_since").asc(), F("pk").asc()])
    first = list(out.order_by().annotate(in_group=by_group, place=place).filter(place__lte=per_group)
                 .values_list("pk", "holder_unit_id", "in_group"))
    counts = {group_id: n for _pk, group_id, n in first if group_id is not None}
    if not counts:
        return []
    loads = {group.pk: GroupLoad(group=group, count=counts[group.pk])
             for group in Unit.objects.filter(pk__in=list(counts))}
    # Read through the same scoped set: nothing but what `user` may see, even by id.
    for request in (out.filter(pk__in=[pk for pk, _group_id, _n in first]).select_related(*LIST_RELATED, "system")
                    .order_by("held_since", "pk")):
        if request.holder_unit_id in loads:
            loads[request.holder_unit_id].longest_waiting.append(request)
    return sorted(loads.values(), key=lambda load: (-load.count, load.group.name))


def saved_views(*, user) -> QuerySet[SavedView]:
    """The person's own saved searches (nobody else's: they are personal)."""
    if not (user and user.is_authenticated):
        return SavedView.objects.none()
    return SavedView.objects.filter(owner=user).order_by("name", "pk")
