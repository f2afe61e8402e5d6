"""The TOTP journey in a real browser: an administrator enrols (QR code and typed key), keeps the recovery
codes, logs out, logs in again with a code and reaches the admin. The enrolment page is saved as
var/screenshots/two-factor.png."""

from __future__ import annotations

import re
from base64 import b32decode
from pathlib import Path

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_an_administrator_enrols_and_logs_in_again_with_a_code(org, page, live_server, settings):
    settings.OPSDESK_2FA_REQUIRED = True
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    # The password alone leads to enrolment, in Chinese, with a QR code drawn in the page.
    expect(page.locator("h1")).to_have_text("设置双因素登录")
    assert page.url.startswith(f"{live_server.url}/accounts/two-factor/enrol/")
    expect(page.locator("figure.qr svg")).to_be_visible()
    typed = page.locator("#two-factor-secret").inner_text().replace(" ", "")
    key = b32decode(typed + "=" * (-len(typed) % 8))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "two-factor.png"), full_page=True)

    # Nothing else opens before the code.
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("h1")).to_have_text("设置双因素登录")

    page.fill("#id_code", f"{totp(key):06d}")
    page.get_by_role("button", name="确认").click()
    expect(page.locator("h1")).to_have_text("您的恢复码")
    codes = page.locator("ol.recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z0-9]{5}-[a-z0-9]{5}", c) for c in codes)
    page.click("a.button")
    assert page.url == f"{live_server.url}/admin/"

    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="退出").click()
    expect(page.locator("h1")).to_have_text("登录 OpsDesk")

    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("请输入验证码")
    # The enrolment code was this 30-second step's and is spent; the app's next code is accepted
    # (one step of tolerance) without waiting for the clock.
    page.fill("#id_code", f"{totp(key, drift=1):06d}")
    page.get_by_role("button", name="验证").click()
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    assert page.url == f"{live_server.url}/admin/"
