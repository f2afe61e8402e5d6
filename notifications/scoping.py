"""Who may see notifications and on-duty rosters. Registered with `opsdesk.scoping` by
`NotificationsConfig.ready()`; administrators see everything before any rule runs.

- The delivery log (every notification, its address, attempts and errors) is the administrators':
  nobody else sees a row of it. A person reads their own notifications through
  /api/my-notifications/, which the API base scopes to the caller (`Scope.OWN`), not through this rule.
- Duty shifts are seen with their unit: the shifts of the units the person sees.
"""

from __future__ import annotations

from django.db.models import QuerySet

from opsdesk import scoping

__all__: list[str] = []


@scoping.register("notifications.notification")
def _delivery_log(user, queryset: QuerySet) -> QuerySet:
    return queryset.none()


@scoping.register("notifications.dutyshift")
def _duty_shifts(user, queryset: QuerySet) -> QuerySet:
    return queryset.filter(unit__in=scoping.visible_units(user))
