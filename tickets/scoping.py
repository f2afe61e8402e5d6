"""Who may see service requests and what hangs off them. Registered with `opsdesk.scoping` by
`TicketsConfig.ready()`; administrators see everything before any rule runs.

- A request is seen by the people responsible for where it started (`scoping.origin_roots`: the
  teller's outlet, the county and city centres above it, managers) and by every unit that has held
  it: the provincial operations department after an escalation, a support group after a dispatch or
  a transfer. That is an access row the workflow writes (`RequestAccess`), never inferred here.
- Comments, attachments and audit entries follow their request.
- Request types are reference data: tellers file with them.

`request_visibility(user)` states that rule once, as its parts: the rule below ORs them; the
search (`tickets.search`) reads each part through its own index, newest first, and unites the
parts, because at a million requests "origin OR access row" cannot be answered from one index.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from opsdesk import scoping
from opsdesk.org.choices import UnitKind
from tickets.models import RequestAccess, ServiceRequest

__all__ = ["RequestVisibility", "request_visibility"]

scoping.register_reference("tickets.requesttype")


@dataclass(frozen=True)
class RequestVisibility:
    """The requests a person sees: `everything` (administrators), or those filed under one of
    `origins` (each a filter on the request's origin that one index answers) together with every
    request the unit `held_by_unit` has held (its access rows)."""

    everything: bool = False
    origins: tuple[Q, ...] = ()
    held_by_unit: int | None = None

    @property
    def nothing(self) -> bool:
        return not self.everything and not self.origins and self.held_by_unit is None

    def as_q(self) -> Q:
        """The whole rule as one filter (for one request, a queue, a count of a small set)."""
        if self.everything:
            return Q()
        q = Q(pk__in=[])
        for origin in self.origins:
            q |= origin
        if self.held_by_unit is not None:
            q |= Q(Exists(RequestAccess.objects.filter(request=OuterRef("pk"), unit_id=self.held_by_unit)))
        return q


# Units the route reaches only for requests filed under them (see request_visibility).
ROUTE_UNIT_KINDS = frozenset({UnitKind.OUTLET, UnitKind.COUNTY, UnitKind.CITY})


def _filed_under(root) -> Q:
    # The origin's outlet, county and city are stored on the request when it is filed (the route
    # follows them too), each with an index; a root above a city is matched by the outlet's path.
    if root.kind == UnitKind.OUTLET:
        return Q(origin_unit_id=root.pk)
    if root.kind == UnitKind.COUNTY:
        return Q(origin_county_id=root.pk)
    if root.kind == UnitKind.CITY:
        return Q(origin_city_id=root.pk)
    return scoping.in_subtrees([root], "origin_unit__path")


def request_visibility(user) -> RequestVisibility:
    """What `user` may see of the service requests (default deny: an inactive or anonymous person,
    nothing)."""
    if not (user and user.is_authenticated and user.is_active):
        return RequestVisibility()
    if user.is_administrator:
        return RequestVisibility(everything=True)
    roots = scoping.origin_roots(user)
    held_by_unit = user.unit_id
    if any(root.pk == user.unit_id and root.kind in ROUTE_UNIT_KINDS for root in roots):
        # An outlet, a county or a city centre only ever holds requests filed under it: the route
        # hands a request to the outlet, county and city stored on it when it was filed (answers,
        # questions to the teller and rejected answers included). Its access rows add nothing to
        # its origin part, so the list stays on one index.
        held_by_unit = None
    return RequestVisibility(origins=tuple(_filed_under(root) for root in roots), held_by_unit=held_by_unit)


@scoping.register("tickets.servicerequest")
def _service_requests(user, queryset: QuerySet) -> QuerySet:
    visibility = request_visibility(user)
    if visibility.nothing:
        return queryset.none()
    return queryset.filter(visibility.as_q())


@scoping.register("tickets.comment", "tickets.attachment", "tickets.requestevent")
def _follows_its_request(user, queryset: QuerySet) -> QuerySet:
    return queryset.filter(request__in=_service_requests(user, ServiceRequest.objects.all()).values("pk"))
