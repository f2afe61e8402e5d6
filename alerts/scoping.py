"""Who may see incidents, alerts and maintenance windows. Registered with `opsdesk.scoping` by
`AlertsConfig.ready()`; administrators see everything before any rule runs.

- Incidents and the alerts they gather: the provincial centre's people on the alert board
  (`INCIDENT_ROLES`) and its managers (`scoping.sees_incidents`). Incidents are the province's,
  not a unit's: whoever sees one sees them all.
- Maintenance windows (silences): the people on the board, who open and end them
  (`INCIDENT_ROLES`, the same people `workflow.incidents` lets act on incidents).
"""

from __future__ import annotations

from django.db.models import QuerySet

from opsdesk import scoping
from opsdesk.org.choices import INCIDENT_ROLES

__all__: list[str] = []


@scoping.register("alerts.incident", "alerts.alert")
def _incidents(user, queryset: QuerySet) -> QuerySet:
    return queryset if scoping.sees_incidents(user) else queryset.none()


@scoping.register("alerts.silence")
def _silences(user, queryset: QuerySet) -> QuerySet:
    return queryset if user.has_role(*INCIDENT_ROLES) else queryset.none()
