"""A real browser logs in as each kind of person and lands on their page, in Chinese."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("who, path, nav", [
    ("teller", "/tickets/mine/", "我的请求"),
    ("county", "/tickets/queue/", "待办队列"),
    ("dispatcher", "/tickets/triage/", "分发台"),
    ("operator", "/alerts/board/", "告警看板"),
    ("manager", "/reports/", "统计报表"),
])
def test_login_and_land(org, browser_login, live_server, who, path, nav):
    page = browser_login(org.people[who].username)
    assert page.url == f"{live_server.url}{path}"
    expect(page.locator("nav.nav")).to_contain_text(nav)
    page.get_by_role("button", name="退出").click()
    expect(page.locator("h1")).to_have_text("登录 OpsDesk")
