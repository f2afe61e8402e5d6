"""In headless Chromium: the teller's known-incident box follows the system chosen on the form, and a
dispatcher finds requests, dispatches two at once from the search page and reads each outcome."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.tickets.helpers import act, ensure_types, file_fault_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_known_incident_box_follows_the_chosen_system(org, browser_login, live_server):
    from alerts.models import Incident

    ensure_types()
    now = timezone.now()
    Incident.objects.create(dedup_key="xdapp02|proc", source="nagios", host="xdapp02", check_name="PROC_CHK",
                            category="app", severity="critical", system=org.systems[1], summary="进程异常",
                            first_seen=now, last_seen=now)
    page = browser_login(org.people["teller"].username)
    page.goto(f"{live_server.url}/tickets/new/fault_report/")
    box = page.locator(f'.known-incident[data-system="{org.systems[1].pk}"]')
    expect(box).to_be_hidden()
    page.select_option("#id_system", label="信贷系统")
    expect(box).to_be_visible()
    expect(box).to_contain_text("已知故障正在处理中")
    expect(box).not_to_contain_text("xdapp02")
    page.select_option("#id_system", label="核心系统")
    expect(box).to_be_hidden()


def test_the_dispatcher_finds_and_dispatches_two_at_once(org, browser_login, live_server):
    ensure_types()
    p = org.people
    found = []
    for subject in ("网银登录失败", "网银转账超时"):
        request = file_fault_report(org, subject=subject)
        act(request, "escalate", p["county"], "上送")
        act(request, "escalate", p["city"], "上送")
        found.append(request)
    page = browser_login(p["dispatcher"].username)
    page.get_by_role("link", name="查找请求").click()
    page.fill("#id_q", "网银")
    page.get_by_role("button", name="搜索", exact=True).click()
    expect(page.locator("#found")).to_have_text("找到 2 条请求。")
    for request in found:
        page.get_by_label(request.number).check()
    page.select_option("#id_bulk_action", label="分发给支持小组")
    page.select_option("#id_bulk_group", label="支持小组1")
    page.get_by_role("button", name="执行").click()
    expect(page.locator(".messages")).to_contain_text("分发给支持小组：已完成 2 条")
    page.get_by_role("link", name="在支持小组处").click()
    expect(page.locator(f'.group-load[data-group="{org.groups[0].pk}"]')).to_contain_text("网银转账超时")
