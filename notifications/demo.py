"""The demo's duty rosters (`seed_org --scale demo`): every unit that receives requests or alarms
(operations, support groups, city and county centres) gets a two-week roster of 12-hour shifts
(08:00–20:00, 20:00–08:00) taking turns among its working people, starting with the shift on now.

One roster per unit and duty: request handling for every such unit (the operations department's
is its dispatchers'), and alert duty for the operations department's operators. Idempotent: a unit
and duty that already has a shift is left as it is."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from notifications.models import Duty, DutyShift
from opsdesk.org.choices import Role, UnitKind
from opsdesk.org.models import Unit, User
from opsdesk.org.seeding import register_demo_seeder

__all__ = ["seed_demo_rosters", "DEMO_ROSTER_DAYS"]

DEMO_ROSTER_DAYS = 14
SHIFT_HOURS = 12
# (duty, unit kind) → the roles that take its shifts.
CREWS: dict[tuple[str, str], set[str]] = {
    (Duty.REQUESTS, UnitKind.OPERATIONS): {Role.DISPATCHER},
    (Duty.ALERTS, UnitKind.OPERATIONS): {Role.OPERATOR},
    (Duty.REQUESTS, UnitKind.SUPPORT_GROUP): {Role.GROUP_MEMBER, Role.GROUP_LEAD},
    (Duty.REQUESTS, UnitKind.CITY): {Role.CITY_SUPPORT},
    (Duty.REQUESTS, UnitKind.COUNTY): {Role.COUNTY_SUPPORT},
}


def seed_demo_rosters(now: dt.datetime | None = None) -> dict[str, int]:
    local = timezone.localtime(now or timezone.now())
    # The first shift is the one on now (before 08:00: yesterday's night shift).
    start = local.replace(hour=8, minute=0, second=0, microsecond=0)
    if local < start:
        start -= dt.timedelta(hours=SHIFT_HOURS)
    slots = [start + dt.timedelta(hours=SHIFT_HOURS * i) for i in range(DEMO_ROSTER_DAYS * 24 // SHIFT_HOURS)]
    kinds = {kind for _duty, kind in CREWS}
    new: list[DutyShift] = []
    for unit in Unit.objects.filter(kind__in=kinds, is_active=True).order_by("path"):
        people = list(User.objects.filter(unit=unit, is_active=True).order_by("username"))
        for (duty, kind), roles in CREWS.items():
            crew = [p for p in people if roles & set(p.roles)]
            if kind != unit.kind or not crew or DutyShift.objects.filter(unit=unit, duty=duty).exists():
                continue
            for slot, person in zip(slots, itertools.cycle(crew), strict=False):
                shift = DutyShift(unit=unit, person=person, duty=duty, starts_at=slot,
                                  ends_at=slot + dt.timedelta(hours=SHIFT_HOURS), note="演示排班")
                shift.full_clean(exclude=["created_by"])
                new.append(shift)
    DutyShift.objects.bulk_create(new, batch_size=1000)
    return {"duty shifts": len(new)}


register_demo_seeder("notifications", seed_demo_rosters)
