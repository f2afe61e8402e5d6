"""Who may see the organisation: units, people, production systems and hosts. Registered with
`opsdesk.scoping` by `OrgConfig.ready()`; administrators see everything before any rule runs.

- Units: a person's own unit, everything above it (to know where requests go) and the subtrees they
  are responsible for.
- People: administrators and the security administrator only. Everyone else reads themselves through /api/me/; the names a page
  shows (who filed, who holds a request) come with the objects they see.
- Production systems: reference data; tellers pick one when they file a fault.
- Hosts: the data centre's inventory (names, addresses, operating systems), for the people who work
  with hosts: the provincial centre's operators, dispatchers and support-group members and leads (the
  alert board's roles, `INCIDENT_ROLES`). Managers, support centres and tellers read none.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from opsdesk import scoping
from opsdesk.org.choices import INCIDENT_ROLES
from opsdesk.org.duties import Duty, has_duty

__all__: list[str] = []

scoping.register_reference("org.productionsystem")


@scoping.register("org.unit")
def _units(user, queryset: QuerySet) -> QuerySet:
    if has_duty(user, Duty.SECURITY):  # places accounts anywhere in the tree
        return queryset
    q = scoping.in_subtrees(scoping.origin_roots(user), "path")
    if user.unit_id:
        q |= Q(code__in=user.unit.ancestor_codes())
    return queryset.filter(q)


@scoping.register("org.user")
def _people(user, queryset: QuerySet) -> QuerySet:
    # The security administrator manages the accounts (opsdesk/org/duties.py).
    return queryset if has_duty(user, Duty.SECURITY) else queryset.none()


@scoping.register("org.host")
def _hosts(user, queryset: QuerySet) -> QuerySet:
    return queryset if scoping.is_centre_staff(user) and user.has_role(*INCIDENT_ROLES) else queryset.none()
