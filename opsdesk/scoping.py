"""Who may see what: the one place that answers it. Default deny.

Every query that returns units, service requests or incidents to a person goes through
`restrict(user, queryset)`; views and API viewsets never filter by hand. A model that has no rule
here returns nothing to anybody but administrators.

The rules, in the words of the desk:
- administrators see everything;
- a teller sees the requests of their own outlet;
- county and city support see the requests that started anywhere under their centre;
- a manager sees everything under their unit (a provincial manager: the whole province);
- any unit that has held a request (the provincial operations department after an escalation,
  a support group after a dispatch or transfer) keeps seeing it: that is recorded as an access row
  by the workflow, never inferred here;
- incidents are seen by the provincial centre's people: operators, dispatchers, support groups,
  provincial managers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet

from opsdesk.org.choices import Role, UnitKind
from opsdesk.org.models import Unit

if TYPE_CHECKING:
    from opsdesk.org.models import User

__all__ = [
    "restrict",
    "can_view",
    "visible_units",
    "origin_roots",
    "is_province_staff",
    "register",
    "report_roots",
]

PROVINCE_KINDS = {UnitKind.PROVINCE, UnitKind.OPERATIONS}
# People of the provincial centre who watch the alert board.
INCIDENT_ROLES = {Role.OPERATOR, Role.DISPATCHER, Role.GROUP_MEMBER, Role.GROUP_LEAD}

_rules: dict[str, Callable[[User, QuerySet], QuerySet]] = {}


def register(model_label: str) -> Callable:
    """Declare the scoping rule for a model (label "app_label.ModelName"). Used below only."""

    def decorator(func: Callable[[User, QuerySet], QuerySet]) -> Callable[[User, QuerySet], QuerySet]:
        _rules[model_label.lower()] = func
        return func

    return decorator


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def _is_admin(user) -> bool:
    return _active(user) and user.is_administrator


def is_province_staff(user) -> bool:
    return _active(user) and user.unit_id is not None and user.unit.kind in PROVINCE_KINDS


def origin_roots(user) -> list[Unit]:
    """Units whose whole subtree's requests the person sees because of where they work."""
    if not _active(user) or user.unit_id is None:
        return []
    unit = user.unit
    roots: list[Unit] = []
    if user.has_role(Role.TELLER) and unit.kind == UnitKind.OUTLET:
        roots.append(unit)
    if user.has_role(Role.COUNTY_SUPPORT) and unit.kind == UnitKind.COUNTY:
        roots.append(unit)
    if user.has_role(Role.CITY_SUPPORT) and unit.kind == UnitKind.CITY:
        roots.append(unit)
    if user.has_role(Role.MANAGER):
        # A manager of the provincial centre or its operations department sees the province.
        roots.append(_province_root(unit) if unit.kind in PROVINCE_KINDS else unit)
    return roots


def _province_root(unit: Unit) -> Unit:
    return Unit.objects.get(code=unit.ancestor_codes()[0]) if unit.depth else unit


def restrict(user, queryset: QuerySet, action: str = "view") -> QuerySet:
    """The subset of `queryset` that `user` may see (action "view") or act on."""
    if not _active(user):
        return queryset.none()
    if _is_admin(user):
        return queryset
    rule = _rules.get(queryset.model._meta.label_lower)
    if rule is None:
        return queryset.none()
    return rule(user, queryset)


def can_view(user, obj) -> bool:
    return restrict(user, type(obj)._default_manager.filter(pk=obj.pk)).exists()


def visible_units(user) -> QuerySet[Unit]:
    return restrict(user, Unit.objects.all())


def _subtree_q(roots: list[Unit], field: str) -> Q:
    q = Q(pk__in=[])  # matches nothing: default deny
    for root in roots:
        q |= Q(**{f"{field}__startswith": root.path})
    return q


@register("org.unit")
def _units(user, queryset: QuerySet) -> QuerySet:
    # A person sees their own unit, everything above it (to know where requests go) and the
    # subtrees they are responsible for.
    q = _subtree_q(origin_roots(user), "path")
    if user.unit_id:
        q |= Q(code__in=user.unit.ancestor_codes())
    return queryset.filter(q)


@register("tickets.servicerequest")
def _service_requests(user, queryset: QuerySet) -> QuerySet:
    from tickets.models import RequestAccess

    q = _subtree_q(origin_roots(user), "origin_unit__path")
    if user.unit_id:
        held_by_my_unit = RequestAccess.objects.filter(request=OuterRef("pk"), unit_id=user.unit_id)
        q |= Q(Exists(held_by_my_unit))
    return queryset.filter(q)


def _follows_its_request(user, queryset: QuerySet) -> QuerySet:
    # Comments, attachments and audit entries are seen by whoever sees their request.
    from tickets.models import ServiceRequest

    return queryset.filter(request__in=_service_requests(user, ServiceRequest.objects.all()).values("pk"))


register("tickets.comment")(_follows_its_request)
register("tickets.attachment")(_follows_its_request)
register("tickets.requestevent")(_follows_its_request)


def _sees_incidents(user) -> bool:
    if not is_province_staff(user) and not (user.unit_id and user.unit.kind == UnitKind.SUPPORT_GROUP):
        return False
    return user.has_role(*INCIDENT_ROLES) or user.has_role(Role.MANAGER)


@register("alerts.incident")
def _incidents(user, queryset: QuerySet) -> QuerySet:
    return queryset if _sees_incidents(user) else queryset.none()


@register("alerts.alert")
def _alerts(user, queryset: QuerySet) -> QuerySet:
    return queryset if _sees_incidents(user) else queryset.none()


# --- statistics (reports): summaries follow the units they count ---------------------------

def report_roots(user) -> list[Unit]:
    """Subtrees whose statistics a person reads: a manager's, a support centre's, and the whole
    province for the provincial dispatchers (the statistics menu is theirs too)."""
    if not _active(user):
        return []
    if _is_admin(user):
        return list(Unit.objects.filter(parent__isnull=True))
    roots = [root for root in origin_roots(user) if root.kind != UnitKind.OUTLET]  # not a teller's outlet
    if user.has_role(Role.DISPATCHER) and is_province_staff(user):
        roots.append(_province_root(user.unit))
    return roots


def _sees_province_reports(user) -> bool:
    return any(root.depth == 0 for root in report_roots(user))


@register("reports.countydaily")
@register("reports.outletdaily")
@register("reports.handlingdaily")
def _request_summaries(user, queryset: QuerySet) -> QuerySet:
    return queryset.filter(county__in=Unit.objects.filter(_subtree_q(report_roots(user), "path")))


@register("reports.citydaily")
def _city_summaries(user, queryset: QuerySet) -> QuerySet:
    # A city's roll-up sums all its counties: only for who sees the whole city (not a county's reader).
    return queryset.filter(city__in=Unit.objects.filter(_subtree_q(report_roots(user), "path"), kind=UnitKind.CITY))


@register("reports.unitworkdaily")
@register("reports.persondaily")
def _work_summaries(user, queryset: QuerySet) -> QuerySet:
    return queryset.filter(unit__in=Unit.objects.filter(_subtree_q(report_roots(user), "path")))


@register("reports.systemdaily")
@register("reports.provincehandlingdaily")
def _system_summaries(user, queryset: QuerySet) -> QuerySet:
    # Production systems are the province's: their figures are province-wide.
    return queryset if _sees_province_reports(user) else queryset.none()


@register("reports.incidentdaily")
@register("reports.systemincidentdaily")
def _incident_summaries(user, queryset: QuerySet) -> QuerySet:
    return queryset if (_sees_incidents(user) or _sees_province_reports(user)) else queryset.none()
