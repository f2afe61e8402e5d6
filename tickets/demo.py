"""The demo's SLA policies (`seed_org --scale demo`): a first-response and a resolution target for
each request type at each level a request is held at, so a new user sees the clocks run, near-breach
reminders go out and an overdue fault report escalate by itself. Idempotent: a type and level that
already has an active policy is left as the administrator set it."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from notifications.models import SlaPolicy
from opsdesk.org.choices import UnitKind
from opsdesk.org.seeding import register_demo_seeder
from tickets.choices import BuiltinType

__all__ = ["seed_demo_sla_policies", "DEMO_SLA_MINUTES"]

T = BuiltinType
COUNTY, CITY, OPS, GROUP = UnitKind.COUNTY, UnitKind.CITY, UnitKind.OPERATIONS, UnitKind.SUPPORT_GROUP

# (type, level): (first response, resolution) in minutes. Fault reports are the tightest: a teller
# with a customer at the counter is waiting; data extraction the loosest.
DEMO_SLA_MINUTES: dict[tuple[str, str], tuple[int, int]] = {
    (T.FAULT_REPORT, COUNTY): (15, 60), (T.FAULT_REPORT, CITY): (15, 60),
    (T.FAULT_REPORT, OPS): (10, 30), (T.FAULT_REPORT, GROUP): (30, 240),
    (T.DATA_ADJUSTMENT, COUNTY): (30, 240), (T.DATA_ADJUSTMENT, CITY): (30, 240),
    (T.DATA_ADJUSTMENT, OPS): (30, 120), (T.DATA_ADJUSTMENT, GROUP): (60, 480),
    (T.BUSINESS_CONSULTATION, COUNTY): (30, 240), (T.BUSINESS_CONSULTATION, CITY): (60, 480),
    (T.BUSINESS_CONSULTATION, OPS): (30, 240), (T.BUSINESS_CONSULTATION, GROUP): (60, 960),
    (T.OPERATION_CONSULTATION, COUNTY): (30, 240), (T.OPERATION_CONSULTATION, CITY): (60, 480),
    (T.OPERATION_CONSULTATION, OPS): (30, 240), (T.OPERATION_CONSULTATION, GROUP): (60, 960),
    (T.DATA_EXTRACTION, COUNTY): (60, 480), (T.DATA_EXTRACTION, CITY): (60, 480),
    (T.DATA_EXTRACTION, OPS): (60, 480), (T.DATA_EXTRACTION, GROUP): (120, 2880),
}
# A fault report left too long at a county or city centre goes up a level by itself.
AUTO_ESCALATE = {(T.FAULT_REPORT, COUNTY), (T.FAULT_REPORT, CITY)}
# Any other type or level: a day to resolve.
DEFAULT_MINUTES = (120, 1440)


def seed_demo_sla_policies() -> dict[str, int]:
    with translation.override(settings.LANGUAGE_CODE):  # the policies' names, in the desk's language
        return _seed()


def _seed() -> dict[str, int]:
    taken = set(SlaPolicy.objects.filter(is_active=True).values_list("request_type", "level"))
    new = []
    for (type_code, level), (first, resolution) in DEMO_SLA_MINUTES.items():
        if (type_code, level) in taken:
            continue
        new.append(SlaPolicy(name=f"{T(type_code).label} · {UnitKind(level).label}", request_type=type_code,
                             level=level, first_response_minutes=first, resolution_minutes=resolution,
                             auto_escalate=(type_code, level) in AUTO_ESCALATE))
    if ("", "") not in taken:
        new.append(SlaPolicy(name="默认时限", request_type="", level="", first_response_minutes=DEFAULT_MINUTES[0],
                             resolution_minutes=DEFAULT_MINUTES[1]))
    for policy in new:
        policy.full_clean()
    SlaPolicy.objects.bulk_create(new)
    return {"SLA policies": len(new)}


register_demo_seeder("tickets", seed_demo_sla_policies)
