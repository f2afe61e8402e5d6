"""The audit administrator reads the security audit in headless Chromium: a failed login, a lockout, a
role change and an SLA policy change with its values before and after; the page is saved as a
screenshot (var/screenshots/audit.png)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from notifications.models import SlaPolicy
from opsdesk.org.choices import Role
from tests.factories import make_person

pytestmark = [pytest.mark.browser]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_the_audit_administrator_reads_the_audit(transactional_db, org, browser_login, live_server):
    system = make_person(org.province, Role.SYSTEM_ADMIN, username="sysadmin", is_staff=True)
    security = make_person(org.province, Role.SECURITY_ADMIN, username="secadmin", is_staff=True)
    make_person(org.province, Role.AUDIT_ADMIN, username="auditor")
    for _ in range(settings.AXES_FAILURE_LIMIT):  # a wrong password until the account locks
        Client(REMOTE_ADDR="10.20.30.40").post("/accounts/login/", {"username": "teller8", "password": "nope"})
    policy = SlaPolicy.objects.create(name="故障单省级处理", request_type="fault_report", level="province",
                                      first_response_minutes=30, resolution_minutes=240)
    admin = Client()
    admin.force_login(system)
    admin.post(f"/admin/notifications/slapolicy/{policy.pk}/change/", {
        "name": policy.name, "request_type": "fault_report", "level": "province", "first_response_minutes": 30,
        "resolution_minutes": 480, "near_breach_percent": 80, "is_active": "on"})
    api = Client()
    api.force_login(security)
    api.patch(f"/api/people/{org.people['county'].pk}/", {"roles": ["county_support", "manager"]},
              content_type="application/json")

    page = browser_login("auditor")
    page.goto(f"{live_server.url}/audit/")
    assert page.locator("h1").inner_text() == "安全审计"
    kinds = page.locator("#security-events tbody td:nth-child(2)").all_inner_texts()
    assert {"登录", "登录失败", "账号锁定", "角色变更"} <= set(kinds)
    change = page.locator("#configuration-changes tr[data-model='notifications.SlaPolicy']").first
    assert "240 → 480" in change.inner_text()
    assert "安全审计" in page.locator("nav.nav a").all_inner_texts()  # the audit administrator's one link
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "audit.png"), full_page=True)

    page.select_option("#id_kind", "login_failed")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert set(page.locator("#security-events tbody td:nth-child(2)").all_inner_texts()) == {"登录失败"}
