"""A manager, in a real browser: the province report, a drill into a city and a county, and an XLSX
download whose numbers are the page's."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _page_table(page) -> list[list[str]]:
    rows = page.locator("#report-table tbody tr, #report-table tfoot tr")
    return [[c.strip() for c in rows.nth(i).locator("td").all_inner_texts()] for i in range(rows.count())]


def _value(cell):
    """A cell as a number when it is one (the page shows 50.0 where Excel keeps 50), else text."""
    text = "" if cell is None else str(cell).strip()
    try:
        return float(text)
    except ValueError:
        return text


def test_manager_drills_down_and_downloads_the_same_numbers(org, history, browser_login, live_server, tmp_path):
    page = browser_login(org.people["manager"].username)
    page.goto(f"{live_server.url}/reports/?date_from=2026-11-02&date_to=2026-11-05")
    expect(page.locator("h2")).to_have_text("各单位服务请求")
    expect(page.locator("#report-chart svg rect").first).to_be_visible()  # the chart is drawn
    province = _page_table(page)
    assert [r[:3] for r in province] == [["地市1", "3", "1"], ["地市2", "1", "1"], ["合计", "4", "2"]]

    page.get_by_role("link", name="地市1", exact=True).click()
    expect(page.locator(".crumbs strong")).to_have_text("地市1")
    assert [r[:2] for r in _page_table(page)] == [["县1", "3"], ["县2", "0"], ["合计", "3"]]

    page.locator("#report-table").get_by_role("link", name="县1", exact=True).click()
    expect(page.locator(".crumbs strong")).to_have_text("县1")
    expect(page.locator(".crumbs")).to_contain_text("省中心")
    shown = _page_table(page)
    assert [r[:7] for r in shown] == [["网点1", "3", "3", "1", "1", "0", "2"],
                                      ["网点2", "0", "0", "0", "0", "0", "0"],
                                      ["合计", "3", "3", "1", "1", "0", "2"]]

    with page.expect_download() as info:
        page.locator("a[data-export=xlsx]").click()
    download = info.value
    assert download.suggested_filename == "opsdesk-units-20261102-20261105.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    sheet = load_workbook(saved).active
    values = [[_value(c.value) for c in row] for row in sheet.iter_rows()]
    headers = [h.strip() for h in page.locator("#report-table thead th").all_inner_texts()]
    assert values[0] == headers
    assert values[1:] == [[_value(c) for c in row] for row in shown]
    assert values[1][:4] == ["网点1", 3, 3, 1]
