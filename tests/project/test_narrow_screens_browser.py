"""Usable on a phone: the teller's form, "my requests" and the alert board fit a 390 px wide screen
(iPhone 12–15) without scrolling sideways."""

from __future__ import annotations

import pytest

from tests.tickets.helpers import ensure_types, file_fault_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 390, 844


def _overflow(page) -> dict:
    """The page's width and the elements that reach past the right edge of the screen."""
    return page.evaluate("""() => {
        const width = document.documentElement.scrollWidth;
        const wide = [...document.querySelectorAll('body *')].filter(e => {
            const r = e.getBoundingClientRect();
            return r.width > 0 && r.right > window.innerWidth + 1 && !e.closest('table.list');
        }).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));
        return {width, wide};
    }""")


def test_the_teller_form_my_requests_and_the_board_fit_390_px(org, incident, browser_login, live_server):
    ensure_types()
    file_fault_report(org, subject="柜面系统交易报错，客户在等待，请尽快处理" * 2)
    page = browser_login(org.people["teller"].username)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    for path in ("/tickets/new/fault_report/", "/tickets/mine/", "/tickets/new/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        seen = _overflow(page)
        assert seen["width"] <= WIDTH, (path, seen)
    # The request's fields and its "send" button are on the screen, not beside it.
    page.goto(f"{live_server.url}/tickets/new/fault_report/")
    box = page.locator("button[type=submit]").last.bounding_box()
    assert box is not None and box["x"] + box["width"] <= WIDTH

    page.context.clear_cookies()
    page = browser_login(org.people["operator"].username)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    page.goto(f"{live_server.url}/alerts/board/")
    page.wait_for_selector("body[data-board-loaded='1']")
    page.locator("tr[data-incident]").first.wait_for()
    seen = _overflow(page)
    assert seen["width"] <= WIDTH, seen
