"""Who is on duty (值班): the roster decides who receives what is handed to a unit."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import DutyShift
from opsdesk.org.choices import UnitKind
from opsdesk.org.models import Unit, User

__all__ = ["on_duty", "on_duty_with_role", "recipients_for_unit", "shift_create", "shift_delete", "shifts_for_unit"]

logger = logging.getLogger(__name__)


def shifts_for_unit(*, unit: Unit, start: dt.datetime, end: dt.datetime) -> QuerySet[DutyShift]:
    """Shifts of `unit` that overlap [start, end)."""
    return (DutyShift.objects.filter(unit=unit, starts_at__lt=end, ends_at__gt=start)
            .select_related("person", "unit").order_by("starts_at", "is_substitute", "pk"))


def on_duty(unit: Unit, at: dt.datetime | None = None) -> tuple[list[User], list[User]]:
    """(regular people, substitutes) on shift for `unit` at `at` (default now), active only."""
    at = at or timezone.now()
    regular, substitutes = [], []
    shifts = DutyShift.objects.filter(unit=unit, starts_at__lte=at, ends_at__gt=at,
                                      person__is_active=True).select_related("person")
    for shift in shifts.order_by("pk"):
        # Second guard behind DutyShift.clean(): a shift written before that check (or past it, by
        # hand in the database) must not send the unit's requests to a person of another unit.
        if shift.person.unit_id != unit.pk:
            logger.warning("roster of %s: skipped %s, who is not a person of that unit (shift %s)",
                           unit.code, shift.person.username, shift.pk)
            continue
        (substitutes if shift.is_substitute else regular).append(shift.person)
    return _unique(regular), _unique(substitutes)


def recipients_for_unit(unit: Unit, at: dt.datetime | None = None) -> list[User]:
    """Who hears about something handed to `unit`: the people on shift now who have a mobile;
    if none of them can be reached, the substitutes on shift; if the roster has nobody on
    shift (or the unit keeps no roster), the unit's active people with a mobile."""
    regular, substitutes = on_duty(unit, at)
    for group in (regular, substitutes):
        reachable = [p for p in group if p.mobile]
        if reachable:
            return reachable
    return list(unit.people.filter(is_active=True).exclude(mobile="").order_by("pk"))


def on_duty_with_role(role: str, *, kinds: tuple[str, ...] | None = None, at: dt.datetime | None = None) -> list[User]:
    """People holding `role` who are on duty now in units of `kinds` (default: the provincial
    centre and its operations department), e.g. the data-centre operators on shift. Where no such
    unit has anyone on shift, every active holder of the role with a mobile number."""
    kinds = kinds or (UnitKind.PROVINCE, UnitKind.OPERATIONS)
    people: list[User] = []
    for unit in Unit.objects.filter(kind__in=kinds, is_active=True).order_by("path"):
        regular, substitutes = on_duty(unit, at)
        reachable = [p for p in regular if p.mobile and p.has_role(role)] or \
                    [p for p in substitutes if p.mobile and p.has_role(role)]
        people.extend(reachable)
    if people:
        return _unique(people)
    everyone = User.objects.filter(is_active=True, unit__kind__in=kinds).exclude(mobile="").order_by("pk")
    return [p for p in everyone if p.has_role(role)]


def _unique(people: list[User]) -> list[User]:
    seen, result = set(), []
    for person in people:
        if person.pk not in seen:
            seen.add(person.pk)
            result.append(person)
    return result


@transaction.atomic
def shift_create(*, unit: Unit, person: User, starts_at: dt.datetime, ends_at: dt.datetime,
                 is_substitute: bool = False, note: str = "", actor: User | None = None) -> DutyShift:
    shift = DutyShift(unit=unit, person=person, starts_at=starts_at, ends_at=ends_at,
                      is_substitute=is_substitute, note=note, created_by=actor)
    shift.full_clean(exclude=["created_by"])
    clash = DutyShift.objects.filter(unit=unit, person=person, starts_at__lt=ends_at, ends_at__gt=starts_at)
    if clash.exists():
        raise ValidationError({"starts_at": _("This person already has a shift for this unit at that time.")})
    shift.save()
    return shift


@transaction.atomic
def shift_delete(*, shift: DutyShift) -> None:
    shift.delete()
