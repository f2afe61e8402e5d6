"""Who may see what: the one mechanism, the registry of rules, and the helpers rules share. Default deny.

Every query that returns objects to a person goes through `restrict(user, queryset)`: the API base
(`opsdesk.api.base`) applies it to every viewset, selectors apply it to what pages show; views never
filter by hand. Each app declares the rules of its own models in its `scoping.py`, imported by its
`AppConfig.ready()`:

    from opsdesk import scoping

    @scoping.register("tickets.comment")
    def _comments(user, queryset): ...

- Administrators see everything: `restrict()` answers before any rule.
- A model with no rule returns nothing to anybody but administrators.
- Reference data that every logged-in person needs (request types, production systems) is declared
  with `register_reference(label)`: an explicit allow-list, listed by `reference_models()`.

The helpers, in the words of the desk (the rules are built from them):
- `origin_roots`: a teller sees the requests of their own outlet; county and city support those
  that started anywhere under their centre; a manager everything under their unit (a provincial
  manager: the whole province);
- `report_roots`: the subtrees whose statistics a person reads (managers, support centres, and the
  provincial dispatchers for the whole province);
- `is_province_staff` / `is_centre_staff`: people of the provincial centre (with its support groups);
- `sees_incidents`: the people on the alert board (`INCIDENT_ROLES`) and the centre's managers;
- `in_subtrees`: the filter "this unit path lies under one of these roots".

Imports no app but the organisation tree, in whose units and roles every rule is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet

from opsdesk.org.choices import INCIDENT_ROLES, Role, UnitKind
from opsdesk.org.models import Unit

if TYPE_CHECKING:
    from opsdesk.org.models import User

__all__ = [
    "Rule",
    "register",
    "register_reference",
    "reference_models",
    "ruled_models",
    "restrict",
    "visible_units",
    "origin_roots",
    "report_roots",
    "is_province_staff",
    "is_centre_staff",
    "sees_incidents",
    "in_subtrees",
    "ADMINISTRATIVE_ROLES",
    "has_working_role",
]

# A rule narrows a queryset of its model to what an active, non-administrator person may see.
Rule = Callable[["User", QuerySet], QuerySet]

PROVINCE_KINDS = frozenset({UnitKind.PROVINCE, UnitKind.OPERATIONS})
CENTRE_KINDS = PROVINCE_KINDS | {UnitKind.SUPPORT_GROUP}

_rules: dict[str, Rule] = {}
_reference: set[str] = set()


def register(*model_labels: str) -> Callable[[Rule], Rule]:
    """Declare the rule of one or more models ("app_label.modelname"). One rule per model: a second
    registration for the same model is a configuration error, not a silent override."""

    def decorator(rule: Rule) -> Rule:
        for label in model_labels:
            label = label.lower()
            known = _rules.get(label)
            if known is not None and known.__qualname__ != rule.__qualname__:
                raise ImproperlyConfigured(
                    f"{label} already has a scoping rule: {known.__module__}.{known.__qualname__}")
            _rules[label] = rule
        return rule

    return decorator


def _everything(user, queryset: QuerySet) -> QuerySet:
    return queryset


def register_reference(*model_labels: str) -> None:
    """Declare models as reference data: every active person sees every row (request types, production
    systems). The allow-list is explicit so that nothing becomes visible to all by default."""
    register(*model_labels)(_everything)
    _reference.update(label.lower() for label in model_labels)


def reference_models() -> frozenset[str]:
    """The labels of the models every active person sees in full."""
    return frozenset(_reference)


def ruled_models() -> frozenset[str]:
    """The labels of the models that have a rule (every other model: administrators only)."""
    return frozenset(_rules)


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def restrict(user, queryset: QuerySet) -> QuerySet:
    """The subset of `queryset` that `user` may see: all of it for administrators, what the model's
    rule allows for other active people, nothing for anybody else or for a model without a rule."""
    if not _active(user):
        return queryset.none()
    if user.is_administrator:
        return queryset
    rule = _rules.get(queryset.model._meta.label_lower)
    if rule is None:
        return queryset.none()
    return rule(user, queryset)


def visible_units(user) -> QuerySet[Unit]:
    return restrict(user, Unit.objects.all())


def in_subtrees(roots: list[Unit], field: str) -> Q:
    """`field` (a unit path, e.g. "origin_unit__path") lies under one of `roots`. No roots: matches
    nothing (default deny)."""
    q = Q(pk__in=[])
    for root in roots:
        q |= Q(**{f"{field}__startswith": root.path})
    return q


# Roles that run the desk rather than work in a unit: on their own they give no claim on a unit's data
# (its rosters, its people's numbers). Administrators see what they administer through `restrict()`.
ADMINISTRATIVE_ROLES = frozenset({Role.ADMINISTRATOR, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})


def has_working_role(user) -> bool:
    """Holds a role of the unit's work (teller, support, dispatch, groups, operators, managers)."""
    return _active(user) and user.unit_id is not None and bool(set(user.roles) - ADMINISTRATIVE_ROLES)


def _unit_kind(user) -> str | None:
    return user.unit.kind if _active(user) and user.unit_id is not None else None


def is_province_staff(user) -> bool:
    """Works at the provincial centre or its operations department."""
    return _unit_kind(user) in PROVINCE_KINDS


def is_centre_staff(user) -> bool:
    """Works at the provincial centre: the centre, its operations department or a support group."""
    return _unit_kind(user) in CENTRE_KINDS


def sees_incidents(user) -> bool:
    """The people on the alert board and the centre's managers (who read, but do not act)."""
    return is_centre_staff(user) and user.has_role(*INCIDENT_ROLES, Role.MANAGER)


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


def report_roots(user) -> list[Unit]:
    """Subtrees whose statistics a person reads: a manager's, a support centre's, and the whole
    province for the provincial dispatchers (the statistics menu is theirs too)."""
    if not _active(user):
        return []
    if user.is_administrator:
        return list(Unit.objects.filter(parent__isnull=True))
    roots = [root for root in origin_roots(user) if root.kind != UnitKind.OUTLET]  # not a teller's outlet
    if user.has_role(Role.DISPATCHER) and is_province_staff(user):
        roots.append(_province_root(user.unit))
    return roots


def _province_root(unit: Unit) -> Unit:
    return Unit.objects.get(code=unit.ancestor_codes()[0]) if unit.depth else unit
