"""The journey of issue 3 in headless Chromium: a teller files a fault report, county and city
escalate, operations dispatches, group A transfers to group B, B completes, the province approves,
city and county pass the answer down, the teller confirms with a rating; the timeline shows it all."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.tickets.helpers import ensure_types, fill_fault_fields
from tickets.models import ServiceRequest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_fault_report_journey(org, browser_login, live_server, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_types()
    p = org.people

    page = browser_login(p["teller"].username)
    page.get_by_role("link", name="提交请求").first.click()
    page.locator('a[data-type="fault_report"]').click()
    expect(page.locator("h1")).to_have_text("故障报告")
    page.fill("#id_subject", "存款交易报错 E1021")
    page.select_option("#id_system", label="核心系统")
    fill_fault_fields(page)
    page.fill("#id_f_occurred_at", "2026-11-20T09:30")
    page.get_by_role("button", name="发送到县级支持中心").click()
    expect(page.locator(".messages")).to_contain_text("已发送到您所在的县级支持中心")
    expect(page.locator("#state")).to_have_text("县级支持中心处理中")
    detail_url = page.url
    request_id = int(re.search(r"/tickets/(\d+)/", detail_url).group(1))

    def as_person(who: str) -> None:
        page.context.clear_cookies()
        browser_login(p[who].username)

    def do(action: str, *, comment: str = "", group: str | None = None, rating: str | None = None) -> None:
        page.goto(detail_url)
        form = page.locator(f'form[data-action="{action}"]')
        if comment:
            form.locator("textarea").fill(comment)
        if group:
            form.locator("select").select_option(label=group)
        if rating:
            form.locator("select").select_option(rating)
        form.get_by_role("button").click()
        expect(page.locator(".messages")).to_contain_text("已完成")

    # The county sees it in its queue, oldest first, with its waiting time, and escalates.
    as_person("county")
    row = page.locator(f'tr[data-request="{request_id}"]')
    expect(row).to_contain_text("存款交易报错")
    expect(row.locator(".waiting")).not_to_be_empty()
    row.get_by_role("link", name=re.compile(r"^SR")).click()
    expect(page.locator("#holder")).to_contain_text("县1")
    do("escalate", comment="县中心无法处理，上送地市")
    as_person("city")
    do("escalate", comment="地市无法处理，上送省中心")
    as_person("dispatcher")
    expect(page.locator(f'tr[data-request="{request_id}"]')).to_be_visible()  # on the triage board
    do("dispatch", group="支持小组1")
    as_person("member")
    expect(page.locator(f'tr[data-request="{request_id}"]')).to_be_visible()  # on the group board
    do("transfer", comment="属于小组2的问题", group="支持小组2")
    as_person("member_other")
    do("complete", comment="已修复参数，请重新办理")
    as_person("dispatcher")
    do("approve", comment="答复可以")
    as_person("city")
    do("pass_down", comment="地市补充：注意核对金额")
    as_person("county")
    do("pass_down")

    # The teller sees the answer in "my requests" and confirms with a rating.
    as_person("teller")
    row = page.locator(f'tr[data-request="{request_id}"]')
    expect(row).to_contain_text("已答复，待确认")
    row.get_by_role("link", name=re.compile(r"^SR")).click()
    expect(page.locator(".answer")).to_contain_text("已修复参数")
    do("confirm", comment="问题已解决", rating="5")
    expect(page.locator("#state")).to_have_text("已关闭")

    timeline = page.locator("#timeline li")
    expect(timeline).to_have_count(10)
    steps = ["提交", "向上发送", "向上发送", "分发给支持小组", "流转给其他小组", "处理完成并答复", "把关通过",
             "向下答复", "向下答复", "确认已解决"]
    for i, label in enumerate(steps):
        expect(timeline.nth(i).locator("strong")).to_have_text(label)
    expect(timeline.nth(7)).to_contain_text("地市补充：注意核对金额")
    page.screenshot(path=str(tmp_path / "journey.png"), full_page=True)
    final = ServiceRequest.objects.get(pk=request_id)
    assert (final.state, final.rating) == ("closed", 5)
