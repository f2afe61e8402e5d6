"""Who may read the statistics: the summary tables follow the units they count. Registered with
`opsdesk.scoping` by `ReportsConfig.ready()`; administrators see everything before any rule runs.

A person reads the subtrees of `scoping.report_roots` (managers, support centres, the provincial
dispatchers for the whole province). Figures that are the province's (per production system, the
province's handling) need the whole province; incident figures also go to the people who see
incidents.
"""

from __future__ import annotations

from django.db.models import QuerySet

from opsdesk import scoping
from opsdesk.org.choices import UnitKind
from opsdesk.org.models import Unit

__all__: list[str] = []


def _units_read(user) -> QuerySet[Unit]:
    return Unit.objects.filter(scoping.in_subtrees(scoping.report_roots(user), "path"))


def _reads_the_province(user) -> bool:
    return any(root.depth == 0 for root in scoping.report_roots(user))


@scoping.register("reports.countydaily", "reports.outletdaily", "reports.handlingdaily")
def _request_summaries(user, queryset: QuerySet) -> QuerySet:
    return queryset.filter(county__in=_units_read(user))


@scoping.register("reports.citydaily")
def _city_summaries(user, queryset: QuerySet) -> QuerySet:
    # A city's roll-up sums all its counties: only for who reads the whole city (not a county's reader).
    return queryset.filter(city__in=_units_read(user).filter(kind=UnitKind.CITY))


@scoping.register("reports.unitworkdaily", "reports.persondaily")
def _work_summaries(user, queryset: QuerySet) -> QuerySet:
    return queryset.filter(unit__in=_units_read(user))


@scoping.register("reports.systemdaily", "reports.provincehandlingdaily")
def _province_summaries(user, queryset: QuerySet) -> QuerySet:
    # Production systems are the province's: their figures are province-wide.
    return queryset if _reads_the_province(user) else queryset.none()


@scoping.register("reports.incidentdaily", "reports.systemincidentdaily")
def _incident_summaries(user, queryset: QuerySet) -> QuerySet:
    return queryset if scoping.sees_incidents(user) or _reads_the_province(user) else queryset.none()
