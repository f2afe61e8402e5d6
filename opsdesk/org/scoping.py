"""Who may see the organisation: units, people, production systems and hosts. Registered with
`opsdesk.scoping` by `OrgConfig.ready()`; administrators see everything before any rule runs.

- Units: a person's own unit, everything above it (to know where requests go) and the subtrees they
  are responsible for.
- People: administrators only. Everyone else reads themselves through /api/me/; the names a page
  shows (who filed, who holds a request) come with the objects they see.
- Production systems: reference data; tellers pick one when they file a fault.
- Hosts: the data centre's inventory (names, addresses, operating systems), for the provincial
  centre's staff only: the centre, its operations department and its support groups.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from opsdesk import scoping

__all__: list[str] = []

scoping.register_reference("org.productionsystem")


@scoping.register("org.unit")
def _units(user, queryset: QuerySet) -> QuerySet:
    q = scoping.in_subtrees(scoping.origin_roots(user), "path")
    if user.unit_id:
        q |= Q(code__in=user.unit.ancestor_codes())
    return queryset.filter(q)


@scoping.register("org.user")
def _people(user, queryset: QuerySet) -> QuerySet:
    return queryset.none()


@scoping.register("org.host")
def _hosts(user, queryset: QuerySet) -> QuerySet:
    # A role-less account at the centre is not set up yet: it sees no inventory either.
    return queryset if scoping.is_centre_staff(user) and user.roles else queryset.none()
