"""The demo's escalation chain and parsing rules (`seed_org --scale demo`), so a new user sees an
unacknowledged critical incident page the next person, and what admin rules look like.

The chain: a critical or major incident nobody acknowledges pages the operator on duty, then the
provincial dispatchers, then the managers of the provincial centre. The rules read two in-house
formats (the machine-room environment monitor, the batch-job scheduler) and correct one tool's
severity. Idempotent: chains and rules are found by name and left as the administrator set them."""

from __future__ import annotations

from django.db.models import Q

from alerts.models import ParsingRule
from alerts.teaching import record_rule_change
from notifications.models import EscalationPolicy, EscalationStep
from opsdesk.org.choices import Role, UnitKind
from opsdesk.org.models import Unit
from opsdesk.org.seeding import register_demo_seeder

__all__ = ["seed_demo_alerting", "DEMO_CHAIN_NAME", "DEMO_RULES"]

DEMO_CHAIN_NAME = "严重/重要事件升级链"
# (minutes without acknowledgement before the step, role, unit kind: None = the province)
DEMO_CHAIN_STEPS = [
    (5, Role.OPERATOR, UnitKind.OPERATIONS),
    (10, Role.DISPATCHER, UnitKind.OPERATIONS),
    (15, Role.MANAGER, None),
]

DEMO_RULES = [
    {"name": "机房动环监控", "priority": 20, "mode": "extract", "source": "script", "category": "hardware",
     "check_kind": "environment",
     "match_subject": r"^\[动环\]",
     "extract_subject": r"^\[动环\]\s*(?P<severity>严重|重要|一般)?\s*(?P<check>\S+?)\s*(?P<status>告警|恢复)?$",
     "extract_body": r"^设备[:：]\s*(?P<host>[\w.-]+)"},
    {"name": "批量作业调度", "priority": 30, "mode": "extract", "source": "script", "category": "transaction",
     "check_kind": "batch_job",
     "match_sender": r"(?i)^batch@",
     "extract_subject": r"作业\s*(?P<check>[\w.-]+)\s*(?P<message>失败|超时)",
     "extract_body": r"^主机[:：]\s*(?P<host>[\w.-]+)"},
    {"name": "核心库监听告警定为严重", "priority": 50, "mode": "correct", "source": "script",
     "match_subject": r"listener", "match_check": r"(?i)listener", "set_severity": "critical",
     "set_category": "db"},
]


def seed_demo_alerting() -> dict[str, int]:
    return {"escalation chains": _ensure_chain(), "parsing rules": _ensure_rules()}


def _ensure_chain() -> int:
    if EscalationPolicy.objects.filter(name=DEMO_CHAIN_NAME).exists():
        return 0
    ops = Unit.objects.filter(kind=UnitKind.OPERATIONS, is_active=True).order_by("path").first()
    policy = EscalationPolicy.objects.create(name=DEMO_CHAIN_NAME, severities="critical,major")
    for order, (wait, role, kind) in enumerate(DEMO_CHAIN_STEPS, start=1):
        unit = ops if kind == UnitKind.OPERATIONS else None
        EscalationStep.objects.create(policy=policy, order=order, wait_minutes=wait, role=role, unit=unit)
    return 1


def _ensure_rules() -> int:
    names = {rule["name"] for rule in DEMO_RULES}
    existing = set(ParsingRule.objects.filter(Q(name__in=names)).values_list("name", flat=True))
    created = 0
    for values in DEMO_RULES:
        if values["name"] in existing:
            continue
        rule = ParsingRule(**values)
        rule.full_clean()
        rule.save()
        record_rule_change(actor=None, rule=rule, action="created")
        created += 1
    return created


register_demo_seeder("alerts", seed_demo_alerting)
