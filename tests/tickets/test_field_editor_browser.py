"""The request-type field editor in a real browser: the preview follows the rows as they are
edited, before anything is saved."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from opsdesk.org.choices import Role
from tests.factories import make_person
from tests.tickets.helpers import ensure_types

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_preview_shows_an_added_field_before_it_is_saved(org, browser_login, live_server):
    consult = ensure_types()["business_consultation"]
    make_person(org.province, Role.ADMINISTRATOR, username="root", is_staff=True, is_superuser=True)
    page = browser_login("root")
    page.goto(f"{live_server.url}/admin/tickets/requesttype/{consult.pk}/change/")
    live = page.locator("#field-preview-live")
    expect(live).to_have_attribute("data-fields", "1")
    expect(live).to_contain_text("问题")
    new_row = page.locator("tr.field-row").last
    new_row.locator("[name$='-label']").fill("客户账号")
    new_row.locator("[name$='-name']").fill("account_no")
    new_row.locator("[name$='-kind']").select_option("choice")
    new_row.locator("[name$='-choices']").fill("personal|个人账户\ncorporate|对公账户")
    new_row.locator("[name$='-required']").check()
    expect(live).to_have_attribute("data-fields", "2")
    expect(live).to_contain_text("客户账号 *")
    expect(live.locator("select option")).to_have_text(["个人账户", "对公账户"])
    # Not saved: the preview of the saved form, and the type itself, are unchanged.
    expect(page.locator("#field-preview")).not_to_contain_text("客户账号")
    consult.refresh_from_db()
    assert [spec["name"] for spec in consult.fields] == ["question"]


def test_the_field_editor_fits_the_admin_page_at_1280_pixels(org, browser_login, live_server):
    fault = ensure_types()["fault_report"]  # the type with the most fields
    make_person(org.province, Role.ADMINISTRATOR, username="root", is_staff=True, is_superuser=True)
    page = browser_login("root")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/tickets/requesttype/{fault.pk}/change/")
    fits = page.evaluate("""() => {
        const box = document.querySelector('#field-editor').getBoundingClientRect();
        const table = document.querySelector('#field-editor table').getBoundingClientRect();
        const deletes = [...document.querySelectorAll('#field-editor [name$="-DELETE"]')].map(e => e.getBoundingClientRect());
        return {table: table.right <= box.right + 1, page: document.documentElement.scrollWidth <= 1280,
                deletes: deletes.every(d => d.right <= box.right)};
    }""")
    assert fits == {"table": True, "page": True, "deletes": True}
