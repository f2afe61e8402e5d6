"""An operator teaches the desk in headless Chromium: from a misread incident to a rule in force,
through the rule tester; the page is saved as a screenshot (var/screenshots/teach-rule.png)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.models import Incident, ParsingRule, RuleChange
from tests.alerts.test_teaching import ingest, script_mail

pytestmark = [pytest.mark.browser]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_operator_corrects_a_severity_from_the_incident_page(transactional_db, org, browser_login, live_server):
    ingest(script_mail(1), script_mail(2, host="szqzapp03"))
    incident = Incident.objects.get(host="szqzapp02")
    page = browser_login("operator")
    page.goto(f"{live_server.url}/alerts/incidents/{incident.pk}/")
    page.click("[data-action=teach]")
    page.wait_for_selector("#teach-correction")
    assert page.locator("h1").inner_text() == "纠正邮件的解读"
    assert "进程qzsvr不存在" in page.locator("#teach-mail").inner_text()
    page.select_option("#id_severity", "critical")
    page.click("[data-action=preview]")
    page.wait_for_selector("#rule-tester")
    assert page.locator("[data-field=tester-summary]").inner_text() == "在最近的 2 封邮件中，这条规则会改变其中 2 封的解读。"
    assert page.locator("#rule-tester tr[data-message]").count() == 2
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "teach-rule.png"), full_page=True)

    page.click("[data-action=apply]")
    page.wait_for_selector(".messages li.success")
    assert page.url.endswith(f"/alerts/incidents/{incident.pk}/")
    assert page.locator("h1 .badge").get_attribute("class") == "badge sev-critical"
    rule = ParsingRule.objects.get()
    assert RuleChange.objects.get(rule=rule).actor == org.people["operator"]
    ingest(script_mail(3, host="szqzapp07"))
    assert Incident.objects.get(host="szqzapp07").severity == "critical"
