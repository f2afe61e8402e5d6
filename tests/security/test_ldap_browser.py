"""A directory teller signs in through the real login page in headless Chromium, against the real slapd."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.security import ldap_helpers
from tests.security.ldap_helpers import DIRECTORY_PASSWORD

slapd, directory = ldap_helpers.slapd, ldap_helpers.directory  # the fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_a_directory_teller_signs_in_and_lands_on_their_start_page(org, directory, browser_login, live_server):
    page = browser_login("t1002", DIRECTORY_PASSWORD)  # in no desk group: told so, in Chinese
    expect(page.get_by_role("alert")).to_contain_text("不在任何 OpsDesk 角色组中")
    page = browser_login("t1001", DIRECTORY_PASSWORD)
    assert page.url == f"{live_server.url}/tickets/mine/"
    expect(page.locator("nav.nav")).to_contain_text("我的请求")
    expect(page.locator("body")).to_contain_text("李伟")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "ldap-login.png"), full_page=True)
