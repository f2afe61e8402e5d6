"""Administration by forms: escalation chains with severities ticked (not typed), and the rule
tester, reachable from the navigation, reading a pasted mail with the built-in parsers beside the
rules."""

from __future__ import annotations

import re

import pytest

from notifications.models import EscalationPolicy
from opsdesk.org.choices import Role
from tests.alerts.test_imap_poller import nagios
from tests.factories import make_person

pytestmark = pytest.mark.django_db


def superuser(org):
    return make_person(org.province, Role.ADMINISTRATOR, username="root", is_staff=True, is_superuser=True)


def test_escalation_severities_are_ticked_and_stored_as_before(org, client):
    client.force_login(superuser(org))
    page = client.get("/admin/notifications/escalationpolicy/add/").content.decode()
    assert 'type="checkbox" name="severities" value="critical"' in page and "严重" in page
    assert "Comma-separated" not in page and "逗号" not in page
    response = client.post("/admin/notifications/escalationpolicy/add/", {
        "name": "夜间升级", "severities": ["major", "critical"], "is_active": "on",
        "steps-TOTAL_FORMS": "1", "steps-INITIAL_FORMS": "0", "steps-MIN_NUM_FORMS": "0", "steps-MAX_NUM_FORMS": "1000",
        "steps-0-order": "1", "steps-0-wait_minutes": "5", "steps-0-role": "operator"})
    assert response.status_code == 302, response.content.decode()[:3000]
    policy = EscalationPolicy.objects.get(name="夜间升级")
    assert policy.severities == "critical,major"  # the same comma-separated codes the engine reads
    assert policy.applies_to("critical") and not policy.applies_to("minor")
    assert policy.steps.get().role == "operator"
    changed = client.get(f"/admin/notifications/escalationpolicy/{policy.pk}/change/").content.decode()
    assert re.search(r'value="critical"[^>]*checked', changed) and not re.search(r'value="minor"[^>]*checked', changed)
    listing = client.get("/admin/notifications/escalationpolicy/").content.decode()
    assert "致命、严重" in listing


def test_the_rule_tester_is_in_the_navigation_of_administrators_only(org, client):
    client.force_login(org.people["admin"])
    assert 'data-nav="alerts:rule_test"' in client.get("/notifications/mine/").content.decode()
    client.force_login(org.people["operator"])
    assert 'data-nav="alerts:rule_test"' not in client.get("/notifications/mine/").content.decode()


def _section(html: str, key: str) -> str:
    return html.split(f'data-reading="{key}"')[1].split("</section>")[0]


def test_the_rule_tester_shows_the_built_in_reading_beside_the_rules(org, client):
    client.force_login(org.people["admin"])
    mail = nagios(7, host="szhxdb01", service="Oracle Listener").decode()
    rule = {"name": "我的规则", "priority": 10, "source": "script", "match_subject": "Service Alert",
            "extract_subject": r"Alert: (?P<host>[\w-]+)/(?P<check>.+?) is (?P<severity>[A-Z]+)",
            "check_kind": "custom", "email": mail}
    html = client.post("/alerts/rules/test/", rule).content.decode()
    builtin, with_rules = _section(html, "builtin"), _section(html, "rules")
    assert "仅用内置解析器" in builtin and "<code>nagios</code>" in builtin and "我的规则" not in builtin
    assert "<code>szhxdb01</code>" in builtin and "致命" in builtin
    assert "我的规则" in with_rules and "<code>szhxdb01</code>" in with_rules
    # A mail no built-in parser can place, read by the rule only.
    odd = ("From: ops@bank.example\r\nSubject: [动环] 严重 UPS01 告警\r\n\r\n设备: ups-room1\r\n")
    html = client.post("/alerts/rules/test/", {**rule, "name": "动环", "match_subject": "动环",
                                                "extract_subject": r"\[动环\]\s*(?P<severity>严重)\s*(?P<check>\S+)",
                                                "extract_body": r"设备:\s*(?P<host>[\w-]+)", "email": odd}).content.decode()
    builtin, with_rules = _section(html, "builtin"), _section(html, "rules")
    assert "<code>ups-room1</code>" in with_rules and "<code>ups01</code>" in with_rules and "动环" in with_rules
    assert "<code>ups-room1</code>" not in builtin  # the built-in script reader takes UPS01 for the host


def test_the_rule_tester_reads_a_mail_without_a_draft_rule(org, client):
    from alerts.models import ParsingRule

    ParsingRule.objects.create(name="动环规则", priority=5, match_subject="动环",
                               extract_subject=r"\[动环\]\s*(?P<severity>严重)\s*(?P<check>\S+)",
                               extract_body=r"设备:\s*(?P<host>[\w-]+)")
    client.force_login(org.people["admin"])
    odd = "From: ops@bank.example\r\nSubject: [动环] 严重 UPS01 告警\r\n\r\n设备: ups-room1\r\n"
    response = client.post("/alerts/rules/test/", {"priority": 100, "source": "script", "email": odd})
    html = response.content.decode()
    assert response.status_code == 200 and "errorlist" not in html
    with_rules = _section(html, "rules")
    assert "加上现行规则" in with_rules and "动环规则" in with_rules and "<code>ups-room1</code>" in with_rules
    assert "<code>ups-room1</code>" not in _section(html, "builtin")


def test_the_rule_tester_explains_a_broken_rule_in_chinese(org, client):
    client.force_login(org.people["admin"])
    base = {"name": "坏规则", "priority": 10, "source": "script", "email": "Subject: x\r\n\r\ny\r\n"}
    html = client.post("/alerts/rules/test/", {**base, "match_subject": "x"}).content.decode()
    assert "提取规则需要一个从主题或正文中提取的模式。" in html
    html = client.post("/alerts/rules/test/", {**base, "extract_body": "node#(?P<host"}).content.decode()
    assert "（extract_body）无效：" in html and 'data-reading' not in html
