"""Issue 17, two factors: TOTP (django-otp) after the password for administrators and provincial roles.

On the old desk a stolen password was enough for any account, the administrator's included. Codes are
computed here as an authenticator app does, from the key the enrolment page shows
(django_otp.oath.totp); time is held still with time-machine so "the same 30-second step" and "after
the throttle's wait" are exact, not timed.
"""

from __future__ import annotations

import re
from base64 import b32decode
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from opsdesk.audit.models import SecurityEvent, SecurityEventKind
from opsdesk.org.choices import Role
from opsdesk.org.two_factor import requires_two_factor, verify_second_factor
from tests.factories import PASSWORD, make_person

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
ENROL = "/accounts/two-factor/enrol/"
VERIFY = "/accounts/two-factor/"


@pytest.fixture(autouse=True)
def _two_factor_on(settings):
    # The suite runs with the rule off (pyproject [tool.pytest_env]); here it is the production default.
    settings.OPSDESK_2FA_REQUIRED = True
    settings.OPSDESK_2FA_REQUIRED_ROLES = []
    settings.OPSDESK_2FA_FOR_ALL = False


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def login(client: Client, username: str):
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert "_auth_user_id" in client.session, response.content.decode()[:500]
    return response


def secret_on_page(html: str) -> bytes:
    match = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', html)
    assert match, "the enrolment page shows the key for typing"
    secret = match.group(1).replace(" ", "")
    return b32decode(secret + "=" * (-len(secret) % 8))


def code_for(key: bytes) -> str:
    return f"{totp(key):06d}"


def enrol(client: Client, username: str) -> tuple[bytes, list[str]]:
    """Log in, follow the redirect to enrolment, confirm with a computed code: (key, recovery codes)."""
    response = login(client, username)
    assert response.status_code == 302
    page = client.get(response.url, follow=True)
    assert page.request["PATH_INFO"] == ENROL
    key = secret_on_page(page.content.decode())
    confirmed = client.post(ENROL, {"code": code_for(key), "next": "/"}, follow=True)
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", confirmed.content.decode())
    return key, codes


# --- Who must -------------------------------------------------------------------------------------------


def test_administrators_and_provincial_roles_must_use_two_factor_others_may(org, settings):
    p = org.people
    security = make_person(org.province, Role.SECURITY_ADMIN)
    audit = make_person(org.province, Role.AUDIT_ADMIN)
    superuser = make_person(None, username="root", is_superuser=True, is_staff=True)
    for who in (p["admin"], p["dispatcher"], p["operator"], p["manager"], security, audit, superuser):
        assert requires_two_factor(who), who.username
    for who in (p["teller"], p["county"], p["city"], p["city_manager"], p["member"], p["lead"]):
        assert not requires_two_factor(who), who.username
    # Any administrator role added later counts, by its name.
    p["lead"].roles = ["backup_admin"]
    assert requires_two_factor(p["lead"])
    settings.OPSDESK_2FA_REQUIRED_ROLES = [Role.TELLER]
    assert requires_two_factor(p["teller"]) and not requires_two_factor(p["county"])
    settings.OPSDESK_2FA_FOR_ALL = True
    assert requires_two_factor(p["county"])


def test_a_teller_logs_in_with_the_password_alone(org):
    client = Client()
    login(client, "teller1")
    assert client.get("/tickets/mine/").status_code == 200
    assert not TOTPDevice.objects.filter(user=org.people["teller"]).exists()


# --- The unverified session ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/tickets/triage/", "/reports/", "/admin/", "/admin/org/user/",
                                  "/audit/", "/accounts/password/"])
def test_an_administrator_with_only_the_password_reaches_nothing_but_enrolment(org, path):
    client = Client()
    login(client, "admin")
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith(ENROL + "?next=")


def test_an_unverified_session_is_refused_by_the_api_in_chinese(org):
    client = Client()
    login(client, "dispatcher")
    response = client.get("/api/requests/")
    assert response.status_code == 403
    assert response.json()["detail"] == "请先在网页上完成双因素验证，再使用 API。"
    assert client.get("/api/me/").status_code == 403


def test_probes_static_and_logout_stay_open_before_the_second_factor(org):
    client = Client()
    login(client, "operator")
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


# --- Enrolment and the code step -------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_drawn_here_and_the_key_then_ten_recovery_codes(org, clock):
    client = Client()
    login(client, "admin")
    page = client.get(ENROL)
    html = page.content.decode()
    assert "设置双因素登录" in html
    assert "<svg" in html and "http" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org/2000/svg", "")  # inline, no external image service
    key = secret_on_page(html)
    assert key == TOTPDevice.objects.get(user=org.people["admin"]).bin_key
    wrong = client.post(ENROL, {"code": "000000" if code_for(key) != "000000" else "111111"})
    assert "验证码不正确或已使用过" in wrong.content.decode()
    clock.shift(timedelta(seconds=31))  # past the throttle's wait and into the next step
    shown = client.post(ENROL, {"code": code_for(key), "next": "/admin/"}, follow=True)
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", shown.content.decode())
    assert len(set(codes)) == 10
    assert "只显示这一次" in shown.content.decode()
    # Shown once: the page does not show them again, and only hashes are kept.
    assert client.get("/accounts/two-factor/recovery-codes/").status_code == 302
    stored = set(StaticToken.objects.filter(device__user=org.people["admin"]).values_list("token", flat=True))
    assert len(stored) == 10 and not stored & {c for c in codes} and not stored & {c.replace("-", "") for c in codes}
    # Verified: the admin opens.
    assert client.get("/admin/").status_code == 200


def test_next_login_asks_for_the_code_and_the_admin_opens_after_it(org, clock):
    client = Client()
    key, _ = enrol(client, "admin")
    client.post("/accounts/logout/")
    clock.shift(timedelta(seconds=30))
    response = login(client, "admin")
    assert client.get("/admin/").url.startswith(VERIFY + "?next=")
    page = client.get(VERIFY)
    assert "请输入验证码" in page.content.decode()
    response = client.post(VERIFY, {"code": code_for(key), "next": "/admin/"})
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_code_is_never_accepted_twice(org, clock):
    client = Client()
    key, _ = enrol(client, "operator")  # uses this step's code
    client.post("/accounts/logout/")
    login(client, "operator")
    replay = client.post(VERIFY, {"code": code_for(key)})
    assert replay.status_code == 200 and "验证码不正确或已使用过" in replay.content.decode()
    assert client.get("/alerts/board/").status_code == 302
    assert not verify_second_factor(org.people["operator"], code_for(key))


def test_wrong_codes_are_throttled_so_guessing_does_not_pay(org, clock):
    client = Client()
    key, _ = enrol(client, "dispatcher")
    client.post("/accounts/logout/")
    clock.shift(timedelta(seconds=30))
    login(client, "dispatcher")
    right = code_for(key)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(3):
        client.post(VERIFY, {"code": wrong})
    # A wrong code makes the next try wait (1 s, doubling with each failure); tries in the wait are
    # refused without a look, the right code too.
    refused = client.post(VERIFY, {"code": right})
    assert "错误次数过多" in refused.content.decode()
    assert client.get("/tickets/triage/").status_code == 302
    clock.shift(timedelta(seconds=5))
    accepted = client.post(VERIFY, {"code": right, "next": "/tickets/triage/"})
    assert accepted.status_code == 302 and accepted.url == "/tickets/triage/"


def test_a_recovery_code_logs_in_once(org, clock):
    client = Client()
    _, codes = enrol(client, "manager")
    client.post("/accounts/logout/")
    login(client, "manager")
    response = client.post(VERIFY, {"code": codes[0].upper(), "next": "/reports/"})
    assert response.status_code == 302 and response.url == "/reports/"
    assert client.get("/reports/").status_code == 200
    client.post("/accounts/logout/")
    clock.shift(timedelta(seconds=5))
    login(client, "manager")
    again = client.post(VERIFY, {"code": codes[0]})
    assert "验证码不正确或已使用过" in again.content.decode()
    assert StaticToken.objects.filter(device__user=org.people["manager"]).count() == 9


def test_a_person_with_a_device_cannot_replace_it_with_only_the_password(org, clock):
    client = Client()
    enrol(client, "admin")
    client.post("/accounts/logout/")
    login(client, "admin")
    response = client.get(ENROL)
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=org.people["admin"]).count() == 1


def test_the_code_step_does_not_redirect_outside_the_desk(org, clock):
    client = Client()
    key, _ = enrol(client, "admin")
    client.post("/accounts/logout/")
    clock.shift(timedelta(seconds=30))
    login(client, "admin")
    response = client.post(VERIFY, {"code": code_for(key), "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == "/"


def test_a_teller_may_enrol_by_choice_and_is_then_asked_too(org, clock):
    client = Client()
    login(client, "teller1")
    key = secret_on_page(client.get(ENROL).content.decode())
    client.post(ENROL, {"code": code_for(key)})
    client.post("/accounts/logout/")
    login(client, "teller1")
    assert client.get("/tickets/mine/").url.startswith(VERIFY)


# --- The API token endpoint's check ----------------------------------------------------------------------


def test_verify_second_factor_takes_a_totp_or_a_recovery_code_once(org, clock):
    client = Client()
    key, codes = enrol(client, "dispatcher")
    person = org.people["dispatcher"]
    clock.shift(timedelta(seconds=30))
    assert verify_second_factor(person, code_for(key))
    assert not verify_second_factor(person, code_for(key))
    assert verify_second_factor(person, codes[1])
    assert not verify_second_factor(person, codes[1])
    assert not verify_second_factor(org.people["operator"], code_for(key))  # another person's device


def test_the_token_endpoint_asks_for_the_second_factor_of_those_who_use_one(org, clock):
    key, codes = enrol(Client(), "dispatcher")
    api = APIClient()
    url = "/api/auth/token/"
    missing = api.post(url, {"username": "dispatcher", "password": PASSWORD}, format="json")
    assert missing.status_code == 400
    assert missing.json()["otp"] == ["请输入身份验证器应用显示的 6 位验证码，或一个恢复码。"]
    replayed = api.post(url, {"username": "dispatcher", "password": PASSWORD, "otp": code_for(key)}, format="json")
    assert replayed.status_code == 400  # the enrolment spent this step's code
    clock.shift(timedelta(seconds=30))
    issued = api.post(url, {"username": "dispatcher", "password": PASSWORD, "otp": code_for(key)}, format="json")
    assert issued.status_code == 200 and issued.json()["token"]
    by_recovery = api.post(url, {"username": "dispatcher", "password": PASSWORD, "otp": codes[2]}, format="json")
    assert by_recovery.status_code == 200
    # Someone who must but never enrolled gets no token either; a teller needs only the password.
    assert api.post(url, {"username": "operator", "password": PASSWORD}, format="json").status_code == 400
    assert api.post(url, {"username": "teller1", "password": PASSWORD}, format="json").status_code == 200


# --- Reset by the security administrator -----------------------------------------------------------------


def test_the_security_administrator_resets_a_lost_phone_in_the_admin(org, clock):
    lost = org.people["dispatcher"]
    enrol(Client(), "dispatcher")
    security = make_person(org.province, Role.SECURITY_ADMIN, username="security", is_staff=True)
    client = Client()
    enrol(client, "security")
    changelist = client.get("/admin/org/user/")
    assert "reset_two_factor_devices" in changelist.content.decode()
    response = client.post("/admin/org/user/", {"action": "reset_two_factor_devices",
                                                "_selected_action": [lost.pk]}, follow=True)
    assert "已重置 1 人的双因素设备" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=lost).exists()
    assert not StaticDevice.objects.filter(user=lost).exists()
    # The security audit names who reset whose devices.
    reset = SecurityEvent.objects.filter(kind=SecurityEventKind.DEVICE_RESET, target="dispatcher")
    assert reset.exists() and {event.actor_id for event in reset} == {security.pk}
    # The dispatcher's next login starts a new enrolment.
    again = Client()
    login(again, "dispatcher")
    assert again.get("/tickets/triage/").url.startswith(ENROL)
    assert security.has_perm("otp_totp.delete_totpdevice")


def test_only_the_security_duty_may_reset_and_nobody_reads_a_key(org, clock):
    enrol(Client(), "dispatcher")
    device = TOTPDevice.objects.get(user=org.people["dispatcher"])
    make_person(org.province, Role.SYSTEM_ADMIN, username="sysadmin", is_staff=True)
    system = Client()
    enrol(system, "sysadmin")
    assert "reset_two_factor_devices" not in system.get("/admin/org/user/").content.decode()
    client = Client()
    enrol(client, "admin")  # the legacy administrator holds the security duty
    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200
    assert device.key not in page.content.decode()
    assert "qrcode" not in page.content.decode()
    assert client.get("/admin/otp_totp/totpdevice/add/").status_code == 403
