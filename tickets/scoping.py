"""Who may see service requests and what hangs off them. Registered with `opsdesk.scoping` by
`TicketsConfig.ready()`; administrators see everything before any rule runs.

- A request is seen by the people responsible for where it started (`scoping.origin_roots`: the
  teller's outlet, the county and city centres above it, managers) and by every unit that has held
  it: the provincial operations department after an escalation, a support group after a dispatch or
  a transfer. That is an access row the workflow writes (`RequestAccess`), never inferred here.
- Comments, attachments and audit entries follow their request.
- Request types are reference data: tellers file with them.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from opsdesk import scoping
from tickets.models import RequestAccess, ServiceRequest

__all__: list[str] = []

scoping.register_reference("tickets.requesttype")


@scoping.register("tickets.servicerequest")
def _service_requests(user, queryset: QuerySet) -> QuerySet:
    q = scoping.in_subtrees(scoping.origin_roots(user), "origin_unit__path")
    if user.unit_id:
        held_by_my_unit = RequestAccess.objects.filter(request=OuterRef("pk"), unit_id=user.unit_id)
        q |= Q(Exists(held_by_my_unit))
    return queryset.filter(q)


@scoping.register("tickets.comment", "tickets.attachment", "tickets.requestevent")
def _follows_its_request(user, queryset: QuerySet) -> QuerySet:
    return queryset.filter(request__in=_service_requests(user, ServiceRequest.objects.all()).values("pk"))
