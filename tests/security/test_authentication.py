"""Issue 17, authentication: lockout, password rules and expiry, session limits, API tokens.

Each test is one finding of the issue as an attacker or the bank's security officer tried it on the
old desk (30 wrong passwords then the right one logged in; `12345678` was accepted; sessions lasted
14 days; tokens never expired, survived logout and were readable in the admin).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from opsdesk.org.choices import Role
from tests.factories import PASSWORD, make_person

pytestmark = pytest.mark.django_db

LOCKED = "登录失败次数过多"
STRONG = "Kx9#mTq2vLp7"


def login(client: Client, username: str, password: str, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- Lockout --------------------------------------------------------------------------------------------


def test_thirty_wrong_passwords_lock_the_login_page(org):
    client = Client()
    for i in range(30):
        login(client, "teller1", f"wrong-{i}")
    response = login(client, "teller1", PASSWORD)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not logged_in(client)
    # The account, not just this browser: a fresh client at another address is refused too.
    other = Client(REMOTE_ADDR="10.20.30.40")
    assert login(other, "teller1", PASSWORD).status_code == 429
    assert not logged_in(other)


def test_wrong_passwords_lock_the_token_endpoint_with_a_chinese_json_answer(org):
    client = APIClient()
    for i in range(20):
        assert client.post("/api/auth/token/", {"username": "county1", "password": f"x{i}"}).status_code in (400, 429)
    response = client.post("/api/auth/token/", {"username": "county1", "password": PASSWORD})
    assert response.status_code == 429
    assert LOCKED in response.json()["detail"]
    assert "token" not in response.json()
    assert not AuthToken.objects.filter(user=org.people["county"]).exists()


def test_wrong_passwords_lock_the_admin_login(org):
    client = Client()
    for i in range(30):
        client.post("/admin/login/", {"username": "admin", "password": f"wrong-{i}", "next": "/admin/"})
    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert client.get("/admin/").status_code == 302  # still the login page


def test_failures_on_any_door_count_together(org):
    web, api = Client(), APIClient()
    for i in range(3):
        login(web, "teller1", f"wrong-{i}")
    for i in range(2):
        api.post("/api/auth/token/", {"username": "teller1", "password": f"x{i}"})
    assert login(web, "teller1", PASSWORD).status_code == 429


def test_one_address_trying_many_accounts_is_locked(org):
    spray = Client(REMOTE_ADDR="10.9.9.9")
    for name in ("teller1", "teller8", "county1", "county4", "city1"):
        login(spray, name, "Password123!")
    response = login(spray, "manager", PASSWORD)
    assert response.status_code == 429 and not logged_in(spray)
    # Somebody else, from elsewhere, logs in as that person normally.
    assert login(Client(REMOTE_ADDR="10.9.9.10"), "manager", PASSWORD).status_code == 302


def test_a_forged_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_lockout(org):
    """The attacker talks to the web process directly and invents a new X-Forwarded-For each time."""
    names = ["teller1", "teller8", "county1", "county4", "city1", "city2"]
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for i, name in enumerate(names[:5]):
        login(attacker, name, "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{i + 1}")
    response = login(attacker, names[5], PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert response.status_code == 429 and not logged_in(attacker)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


def test_behind_the_trusted_proxy_each_client_counts_on_its_own(org):
    """nginx (a trusted proxy, 127.0.0.1 here) passes the browser's address: one branch's typos do not
    lock out another branch."""
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    for name in ("teller8", "county1", "county4", "city1", "city2"):
        login(proxy, name, "wrong", HTTP_X_FORWARDED_FOR="10.1.1.1")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.1.1.1"}
    assert login(proxy, "manager", PASSWORD, HTTP_X_FORWARDED_FOR="10.1.1.1").status_code == 429
    # A client may put anything in front: the proxy's own right-most entry is the one believed.
    response = login(proxy, "teller1", PASSWORD, HTTP_X_FORWARDED_FOR="10.1.1.1, 10.2.2.2")
    assert response.status_code == 302 and logged_in(proxy)


def test_logging_in_to_ones_own_account_does_not_wipe_the_count_of_guesses(org):
    """Four guesses at teller1, a login to the attacker's own account from the same address, one more
    guess: five, locked (axes' own reset would have wiped the four)."""
    attacker = Client(REMOTE_ADDR="10.7.7.7")
    for i in range(4):
        login(attacker, "teller1", f"guess-{i}")
    assert login(attacker, "county1", PASSWORD).status_code == 302
    attacker.post("/accounts/logout/")
    login(attacker, "teller1", "guess-4")
    assert login(Client(REMOTE_ADDR="10.7.7.8"), "teller1", PASSWORD).status_code == 429


def test_a_person_who_mistypes_and_then_gets_it_right_starts_afresh(org):
    for _round in range(2):
        client = Client()
        for i in range(4):
            login(client, "teller1", f"typo-{i}")
        assert login(client, "teller1", PASSWORD).status_code == 302


def test_the_lock_lifts_after_the_cool_off(org):
    client = Client()
    for i in range(5):
        login(client, "teller1", f"wrong-{i}")
    assert login(client, "teller1", PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert login(Client(), "teller1", PASSWORD).status_code == 302


def administrator(org, role: str, username: str):
    """Unlocking is the security administrator's duty (opsdesk/org/duties.py gives the axes app to
    Role.SECURITY_ADMIN); the system administrator sees the admin but not that."""
    return make_person(org.province, role, username=username, is_staff=True)


def test_the_security_administrator_unlocks_an_account(org):
    for i in range(5):
        login(Client(), "teller1", f"wrong-{i}")
    assert login(Client(), "teller1", PASSWORD).status_code == 429
    administrator(org, Role.SECURITY_ADMIN, "security")
    admin = Client(REMOTE_ADDR="10.0.0.5")  # the locked teller's address was 127.0.0.1
    assert login(admin, "security", PASSWORD).status_code == 302
    attempts = list(AccessAttempt.objects.filter(username="teller1").values_list("pk", flat=True))
    page = admin.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and "teller1" in page.content.decode()
    response = admin.post("/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": attempts,
                                                         "post": "yes"})
    assert response.status_code == 302
    assert login(Client(), "teller1", PASSWORD).status_code == 302


def test_the_system_administrator_cannot_unlock(org):
    for i in range(5):
        login(Client(), "teller1", f"wrong-{i}")
    administrator(org, Role.SYSTEM_ADMIN, "sysadmin")
    viewer = Client(REMOTE_ADDR="10.0.0.5")
    assert login(viewer, "sysadmin", PASSWORD).status_code == 302
    attempts = list(AccessAttempt.objects.filter(username="teller1").values_list("pk", flat=True))
    viewer.post("/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": attempts,
                                               "post": "yes"})
    assert AccessAttempt.objects.filter(username="teller1").exists()
    assert login(Client(), "teller1", PASSWORD).status_code == 429


# --- Passwords ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("weak", ["12345678", "password", "Password", "opsdesk-demo", "Sh0rt!pw", "qwertyuiop123", "abcdefghijklmnop", "ABCDEFGH12345678"])
def test_weak_passwords_are_refused(org, weak):
    with pytest.raises(ValidationError):
        validate_password(weak, org.people["teller"])


def test_a_strong_password_is_accepted(org):
    validate_password(STRONG, org.people["teller"])


def test_the_complexity_rule_speaks_chinese(org):
    with pytest.raises(ValidationError) as refused:
        validate_password("abcdefghijklmn", org.people["teller"])
    assert any("至少" in message and "类" in message for message in refused.value.messages)


def test_a_person_changes_their_own_password_and_stays_logged_in(org):
    client = Client()
    login(client, "teller1", PASSWORD)
    home = client.get("/", follow=True).content.decode()
    assert 'href="/accounts/password/"' in home  # the link in the top bar
    before = org.people["teller"].password_changed_at

    refused = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": "12345678",
                                                  "new_password2": "12345678"})
    assert refused.status_code == 200 and "密码" in refused.content.decode()

    response = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": STRONG,
                                                   "new_password2": STRONG})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/done/"
    assert logged_in(client) and client.get("/accounts/password/done/").status_code == 200
    org.people["teller"].refresh_from_db()
    assert org.people["teller"].password_changed_at > before
    assert login(Client(), "teller1", STRONG).status_code == 302
    assert login(Client(), "teller1", PASSWORD).status_code == 200  # the old one no longer works


def test_an_expired_password_sends_its_owner_to_the_change_page_until_changed(org, settings):
    settings.OPSDESK_PASSWORD_MAX_AGE_DAYS = 90
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        client = Client()
        assert login(client, "teller1", PASSWORD).status_code == 302
        response = client.get("/tickets/mine/")
        assert response.status_code == 302 and response["Location"] == "/accounts/password/"
        assert "过期" in client.get("/accounts/password/").content.decode()
        assert client.get("/api/me/").status_code == 403
        client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": STRONG,
                                            "new_password2": STRONG})
        assert client.get("/tickets/mine/").status_code == 200


def test_password_expiry_can_be_switched_off(org, settings):
    settings.OPSDESK_PASSWORD_MAX_AGE_DAYS = 0
    with time_machine.travel(timezone.now() + timedelta(days=400)):
        client = Client()
        login(client, "teller1", PASSWORD)
        assert client.get("/tickets/mine/").status_code == 200


# --- Sessions -------------------------------------------------------------------------------------------


def test_an_idle_session_ends_after_thirty_minutes(org):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        login(client, "teller1", PASSWORD)
        assert client.get("/tickets/mine/").status_code == 200
        clock.shift(timedelta(minutes=25))
        assert client.get("/tickets/mine/").status_code == 200  # activity restarts the idle period
        clock.shift(timedelta(minutes=25))
        assert client.get("/tickets/mine/").status_code == 200
        clock.shift(timedelta(minutes=31))
        response = client.get("/tickets/mine/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        assert not logged_in(client)


def test_a_busy_session_still_ends_at_the_absolute_limit(org):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        login(client, "operator", PASSWORD)
        for _ in range(12 * 3):  # a request every 20 minutes for 12 hours
            clock.shift(timedelta(minutes=20))
            assert client.get("/tickets/mine/").status_code == 200
        clock.shift(timedelta(minutes=20))
        response = client.get("/tickets/mine/")
        assert response.status_code == 302 and not logged_in(client)


def test_logout_ends_the_session(org):
    client = Client()
    login(client, "teller1", PASSWORD)
    session_key = client.session.session_key
    client.post("/accounts/logout/")
    assert client.get("/tickets/mine/").status_code == 302
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=session_key).exists()


# --- API tokens -----------------------------------------------------------------------------------------


def obtain(username: str = "county1") -> dict:
    response = APIClient().post("/api/auth/token/", {"username": username, "password": PASSWORD})
    assert response.status_code == 200
    return response.json()


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_tokens_are_stored_hashed(org):
    token = obtain()["token"]
    row = AuthToken.objects.get(user=org.people["county"])
    assert token not in {row.digest, row.token_key} and len(row.digest) == 128
    assert with_token(token).get("/api/me/").status_code == 200


def test_tokens_expire(org, settings):
    issued = obtain()
    assert issued["expiry"]
    with time_machine.travel(timezone.now() + timedelta(hours=settings.OPSDESK_API_TOKEN_TTL_HOURS, minutes=1)):
        assert with_token(issued["token"]).get("/api/me/").status_code in (401, 403)


def test_an_expired_token_is_refused_and_the_daily_purge_deletes_the_expired_ones(org, settings):
    from reports.retention import purge_expired

    old, fresh = obtain(), None
    later = timezone.now() + timedelta(hours=settings.OPSDESK_API_TOKEN_TTL_HOURS, minutes=1)
    with time_machine.travel(later):
        fresh = obtain()  # the same person signs in again: the old token stays refused, the new one works
        assert with_token(old["token"]).get("/api/me/").status_code in (401, 403)
        assert with_token(fresh["token"]).get("/api/me/").status_code == 200
    another = obtain("teller1")
    with time_machine.travel(later):
        purge_expired(kinds=("sessions",))
    # The purge deleted the expired token of someone who never came back, and no live one.
    assert set(AuthToken.objects.values_list("user__username", flat=True)) == {"county1"}
    assert AuthToken.objects.count() == 1
    assert with_token(fresh["token"]).get("/api/me/").status_code == 200
    assert with_token(another["token"]).get("/api/me/").status_code in (401, 403)


def test_api_logout_revokes_the_token(org):
    token = obtain()["token"]
    client = with_token(token)
    assert client.post("/api/auth/logout/").status_code == 204
    assert with_token(token).get("/api/me/").status_code in (401, 403)


def test_logging_out_of_the_desk_revokes_the_persons_tokens(org):
    token = obtain("teller1")["token"]
    client = Client()
    login(client, "teller1", PASSWORD)
    client.post("/accounts/logout/")
    assert with_token(token).get("/api/me/").status_code in (401, 403)


def test_the_admin_shows_no_token_and_issues_none(org):
    token = obtain()["token"]
    digest = AuthToken.objects.get(user=org.people["county"]).digest
    superuser = make_person(org.province, username="root", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(superuser)
    listing = admin.get("/admin/knox/authtoken/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert str(org.people["county"]) in page
    # The digest (the row's key) is a one-way SHA-512 of the token: nothing to log in with.
    assert token not in page and token[:15] not in page
    detail = admin.get(f"/admin/knox/authtoken/{digest}/change/").content.decode()
    assert token not in detail and token[:15] not in detail
    # No "add token" for somebody else: the administrator cannot act as them.
    assert admin.get("/admin/knox/authtoken/add/").status_code == 403
    assert admin.post("/admin/knox/authtoken/add/", {"user": org.people["teller"].pk}).status_code == 403
    assert not AuthToken.objects.filter(user=org.people["teller"]).exists()


# --- Configuration --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("setting", "value"), [
    ("OPSDESK_SESSION_IDLE_MINUTES", "0"), ("OPSDESK_SESSION_MAX_HOURS", "half a day"),
    ("OPSDESK_LOGIN_FAILURE_LIMIT", "0"), ("OPSDESK_LOGIN_LOCKOUT_MINUTES", "-5"),
    ("OPSDESK_PASSWORD_MIN_LENGTH", "4"), ("OPSDESK_PASSWORD_MAX_AGE_DAYS", "-1"),
    ("OPSDESK_API_TOKEN_TTL_HOURS", "0"),
])
def test_a_bad_setting_is_one_line_naming_it(tmp_path, setting, value):
    from tests.project.test_startup import assert_one_clear_line, manage

    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update({"OPSDESK_VAR_DIR": str(tmp_path / "var"), setting: value})
    assert_one_clear_line(manage("check", env=env), setting)


def test_token_calls_open_no_session(org):
    from django.contrib.sessions.models import Session

    response = with_token(obtain()["token"]).get("/api/me/")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies and not Session.objects.exists()
