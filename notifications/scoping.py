"""Who may see notifications and on-duty rosters. Registered with `opsdesk.scoping` by
`NotificationsConfig.ready()`; administrators see everything before any rule runs.

- The delivery log (every notification, its address, attempts and errors) is the administrators':
  nobody else sees a row of it. A person reads their own notifications through
  /api/my-notifications/, which the API base scopes to the caller (`Scope.OWN`), not through this rule.
- Rosters (duty shifts, with the names and numbers of the people on them) are seen by the unit's own
  chain, the people who need them: the unit itself and its centres above it (a city support centre
  reads its counties' rosters), and the provincial dispatchers, who hand off to every unit. A teller
  reads none; a person does not read a sibling's or a parent's roster (`roster_units`).
"""

from __future__ import annotations

from django.db.models import QuerySet

from opsdesk import scoping
from opsdesk.org.choices import Role
from opsdesk.org.models import Unit

__all__ = ["roster_units"]


def roster_units(user) -> QuerySet[Unit]:
    """The units whose roster `user` may read (default deny: nobody without a unit reads any)."""
    units = Unit.objects.all()
    if not (user and user.is_authenticated and user.is_active):
        return units.none()
    if user.is_administrator or (user.has_role(Role.DISPATCHER) and scoping.is_province_staff(user)):
        return units
    if not scoping.has_working_role(user):
        return units.none()
    return units.filter(path__startswith=user.unit.path)


@scoping.register("notifications.notification")
def _delivery_log(user, queryset: QuerySet) -> QuerySet:
    return queryset.none()


@scoping.register("notifications.dutyshift")
def _duty_shifts(user, queryset: QuerySet) -> QuerySet:
    return queryset.filter(unit__in=roster_units(user))
