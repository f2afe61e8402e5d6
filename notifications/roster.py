"""Who is on duty (值班): the roster decides who receives what is handed to a unit.

A unit may keep one roster per duty (`Duty`): request handling (请求处理: hand-offs of service
requests, SLA reminders) and alert duty (告警值班: incidents, critical alarms, escalation to the
operators). Each caller names the duty its notification concerns; a unit that keeps no roster for
that duty (or has nobody on it now) falls back as before duties existed: everyone reachable."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import Duty, DutyShift
from opsdesk.org.choices import UnitKind
from opsdesk.org.models import Unit, User

__all__ = ["Duty", "on_duty", "on_duty_with_role", "recipients_for_unit", "shift_create", "shift_delete", "shifts_for_unit"]

logger = logging.getLogger(__name__)


def shifts_for_unit(*, unit: Unit, start: dt.datetime, end: dt.datetime,
                    duty: str | None = None) -> QuerySet[DutyShift]:
    """Shifts of `unit` that overlap [start, end) (of one duty, or of all)."""
    shifts = DutyShift.objects.filter(unit=unit, starts_at__lt=end, ends_at__gt=start)
    if duty is not None:
        shifts = shifts.filter(duty=duty)
    return shifts.select_related("person", "unit").order_by("duty", "starts_at", "is_substitute", "pk")


def on_duty(unit: Unit, at: dt.datetime | None = None, *, duty: str | None = None) -> tuple[list[User], list[User]]:
    """(regular people, substitutes) on shift for `unit` at `at` (default now), active only; of
    one `duty`, or of any duty (the roster pages show them all)."""
    at = at or timezone.now()
    regular, substitutes = [], []
    shifts = DutyShift.objects.filter(unit=unit, starts_at__lte=at, ends_at__gt=at,
                                      person__is_active=True).select_related("person")
    if duty is not None:
        shifts = shifts.filter(duty=duty)
    for shift in shifts.order_by("pk"):
        # Second guard behind DutyShift.clean(): a shift written before that check (or past it, by
        # hand in the database) must not send the unit's requests to a person of another unit.
        if shift.person.unit_id != unit.pk:
            logger.warning("roster of %s: skipped %s, who is not a person of that unit (shift %s)",
                           unit.code, shift.person.username, shift.pk)
            continue
        (substitutes if shift.is_substitute else regular).append(shift.person)
    return _unique(regular), _unique(substitutes)


def recipients_for_unit(unit: Unit, at: dt.datetime | None = None, *, duty: str = Duty.REQUESTS) -> list[User]:
    """Who hears about something of `duty` handed to `unit` (default: a request): the people on
    that duty's shift now who have a mobile; if none of them can be reached, the substitutes on
    shift; if that roster has nobody on shift (or the unit keeps none for the duty), the unit's
    active people with a mobile."""
    regular, substitutes = on_duty(unit, at, duty=duty)
    for group in (regular, substitutes):
        reachable = [p for p in group if p.mobile]
        if reachable:
            return reachable
    return list(unit.people.filter(is_active=True).exclude(mobile="").order_by("pk"))


def on_duty_with_role(role: str, *, kinds: tuple[str, ...] | None = None, at: dt.datetime | None = None,
                      duty: str = Duty.ALERTS) -> list[User]:
    """People holding `role` who are on `duty` now (default: alert duty) in units of `kinds`
    (default: the provincial centre and its operations department), e.g. the data-centre operators
    on shift. Where no such unit has anyone on that duty, every active holder of the role with a
    mobile number."""
    kinds = kinds or (UnitKind.PROVINCE, UnitKind.OPERATIONS)
    people: list[User] = []
    for unit in Unit.objects.filter(kind__in=kinds, is_active=True).order_by("path"):
        regular, substitutes = on_duty(unit, at, duty=duty)
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
                 is_substitute: bool = False, note: str = "", actor: User | None = None,
                 duty: str = Duty.REQUESTS) -> DutyShift:
    shift = DutyShift(unit=unit, person=person, starts_at=starts_at, ends_at=ends_at,
                      is_substitute=is_substitute, note=note, created_by=actor, duty=duty or Duty.REQUESTS)
    shift.full_clean(exclude=["created_by"])
    clash = DutyShift.objects.filter(unit=unit, person=person, duty=shift.duty, starts_at__lt=ends_at,
                                     ends_at__gt=starts_at)
    if clash.exists():
        raise ValidationError({"starts_at": _("This person already has a shift for this unit at that time.")})
    shift.save()
    return shift


@transaction.atomic
def shift_delete(*, shift: DutyShift) -> None:
    shift.delete()
