"""An operator opens a maintenance window on the desk in headless Chromium and sees it listed."""

from __future__ import annotations

import pytest

from alerts.models import Silence

pytestmark = [pytest.mark.browser]


def test_operator_opens_a_window_from_the_board_and_ends_it(transactional_db, org, browser_login, live_server):
    hostile = '<img src=x onerror=alert(1)>变更"窗口"'
    page = browser_login("operator")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live_server.url}/alerts/board/")
    page.wait_for_selector("body[data-board-loaded='1']")
    page.click("#silences-link")
    page.wait_for_selector("#silence-form")
    assert page.locator("h1").inner_text() == "维护窗口"
    assert page.locator("#no-silences").is_visible()

    page.fill("#id_host_pattern", "szhxdb*")
    page.select_option("#id_system", label="核心系统")
    page.fill("#id_duration_minutes", "60")
    page.fill("#id_reason", hostile)
    page.click("#silence-form button[type=submit]")

    row = page.locator("#silences tr[data-silence]")
    row.wait_for()
    assert row.count() == 1
    assert row.locator("td[data-col=host]").inner_text() == "szhxdb*"
    assert row.locator("td[data-col=system]").inner_text() == "核心系统"
    assert row.locator("td[data-col=reason]").inner_text() == hostile  # shown as text
    assert row.locator("td[data-col=author]").inner_text() == str(org.people["operator"])
    assert row.locator("td[data-col=alerts]").inner_text() == "0"
    assert page.locator(".content img, .content [onerror]").count() == 0
    assert Silence.objects.get().author == org.people["operator"]

    row.locator("[data-action=end]").click()
    page.wait_for_selector("#no-silences")
    assert not Silence.objects.active().exists()
    assert dialogs == []
