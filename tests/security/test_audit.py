"""Issue 17, separated administrators and a security audit that cannot be edited.

- every login, failed login, lockout, logout, role and permission change and every request of the
  break-glass superuser is recorded with who, when, from where and whether it succeeded;
- configuration changes keep their before/after values (django-pghistory), with who and from where;
- PostgreSQL itself refuses UPDATE and DELETE of the audit, of the configuration history and of the
  request and incident events;
- the admin offers no delete for incidents, raw mail and the SMS log;
- the system, security and audit administrators each do their own duty only, and nobody changes their
  own account;
- the audit page and its CSV are the audit administrator's (and the break-glass superuser's), with
  formula-safe cells.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from pghistory.models import Events

from alerts.models import Incident, IngestedMessage
from notifications.models import Notification, SlaPolicy
from opsdesk.audit.models import SecurityEvent, SecurityEventKind
from opsdesk.org.choices import Role
from opsdesk.org.models import User
from tests.factories import PASSWORD, make_person
from tests.tickets.helpers import file_fault_report

pytestmark = pytest.mark.django_db

FROM = "10.20.30.40"


@pytest.fixture
def admins(org):
    """The three separated administrators, the legacy all-in-one one and the break-glass superuser."""
    return {
        "system": make_person(org.province, Role.SYSTEM_ADMIN, username="sysadmin", is_staff=True),
        "security": make_person(org.province, Role.SECURITY_ADMIN, username="secadmin", is_staff=True),
        "audit": make_person(org.province, Role.AUDIT_ADMIN, username="auditor", is_staff=True),
        "legacy": org.people["admin"],
        "breakglass": make_person(org.province, username="breakglass", is_staff=True, is_superuser=True),
    }


def client_of(person, **defaults) -> Client:
    client = Client(REMOTE_ADDR=FROM, **defaults)
    client.force_login(person)
    return client


def last(kind: str) -> SecurityEvent:
    return SecurityEvent.objects.filter(kind=kind).latest("pk")


def history_of(obj):
    # pghistory's Events.tracks() needs client-side parameter binding (cursor.mogrify); filter instead.
    return Events.objects.filter(pgh_obj_model=obj._meta.label, pgh_obj_id=str(obj.pk))


def login(username: str, password: str = PASSWORD, address: str = FROM):
    return Client(REMOTE_ADDR=address, HTTP_USER_AGENT="Mozilla/5.0 test").post(
        "/accounts/login/", {"username": username, "password": password})


# --- Each event kind: who, when, from where, success -----------------------------------------------------------

def test_a_login_is_recorded_with_who_when_where(org):
    before = timezone.now()
    assert login("teller1").status_code == 302
    event = last(SecurityEventKind.LOGIN)
    assert (event.actor, event.username, event.ip_address, event.success) == (org.people["teller"], "teller1",
                                                                              FROM, True)
    assert before <= event.at <= timezone.now()
    assert event.user_agent == "Mozilla/5.0 test"


def test_a_failed_login_is_recorded_for_known_and_unknown_names(org):
    assert login("teller1", "wrong-password").status_code == 200
    event = last(SecurityEventKind.LOGIN_FAILED)
    assert (event.actor, event.username, event.ip_address, event.success) == (org.people["teller"], "teller1",
                                                                              FROM, False)
    login("nobody-here", "x", address="10.9.9.9")
    event = last(SecurityEventKind.LOGIN_FAILED)
    assert (event.actor, event.username, event.ip_address) == (None, "nobody-here", "10.9.9.9")


def test_a_lockout_is_recorded(org):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login("teller1", "wrong-password")
    event = last(SecurityEventKind.LOCKOUT)
    assert (event.actor, event.username, event.ip_address, event.success) == (org.people["teller"], "teller1",
                                                                              FROM, False)


def test_a_logout_is_recorded(org):
    client = client_of(org.people["teller"])
    client.post("/accounts/logout/")
    event = last(SecurityEventKind.LOGOUT)
    assert (event.actor, event.ip_address, event.success) == (org.people["teller"], FROM, True)


def test_a_role_change_names_who_made_it_and_the_values_before_and_after(org, admins, api_client_for):
    teller = org.people["teller"]
    client = api_client_for(admins["security"])
    response = client.patch(f"/api/people/{teller.pk}/", {"roles": []}, format="json", REMOTE_ADDR=FROM)
    assert response.status_code == 200, response.content
    event = last(SecurityEventKind.ROLE_CHANGE)
    assert (event.actor, event.target, event.ip_address) == (admins["security"], "teller1", FROM)
    assert event.details["before"]["roles"] == ["teller"] and event.details["after"]["roles"] == []


def test_a_permission_change_is_recorded(org, admins):
    teller = org.people["teller"]
    teller.is_staff = True
    teller.save()
    event = last(SecurityEventKind.PERMISSION_CHANGE)
    assert event.target == "teller1"
    assert (event.details["before"]["is_staff"], event.details["after"]["is_staff"]) == (False, True)
    teller.groups.add(Group.objects.create(name="值班组"))
    event = last(SecurityEventKind.PERMISSION_CHANGE)
    assert event.details["field"] == "groups" and event.details["action"] == "add"


def test_every_request_of_the_superuser_is_audited(admins):
    client = client_of(admins["breakglass"])
    assert client.get("/admin/").status_code == 200
    event = last(SecurityEventKind.SUPERUSER_USED)
    assert (event.actor, event.target, event.ip_address, event.success) == (admins["breakglass"], "GET /admin/",
                                                                            FROM, True)
    # An ordinary administrator's requests are not "superuser used".
    client_of(admins["system"]).get("/admin/")
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.SUPERUSER_USED).count() == 1


def test_the_seed_hands_out_one_superuser_only(db):
    call_command("seed_org", "--scale", "demo")
    assert list(User.objects.filter(is_superuser=True).values_list("username", flat=True)) == ["breakglass"]
    assert User.objects.get(username="admin").roles == [Role.SYSTEM_ADMIN]
    assert User.objects.get(username="secadmin").roles == [Role.SECURITY_ADMIN]
    assert User.objects.get(username="auditor").roles == [Role.AUDIT_ADMIN]


# --- Configuration changes: before/after ------------------------------------------------------------------------

def _sla_form(policy: SlaPolicy, **changes) -> dict:
    data = {"name": policy.name, "request_type": policy.request_type, "level": policy.level,
            "first_response_minutes": policy.first_response_minutes,
            "resolution_minutes": policy.resolution_minutes, "near_breach_percent": policy.near_breach_percent,
            "is_active": "on"}
    data.update(changes)
    return data


def test_an_sla_policy_change_keeps_before_and_after_with_who_and_where(org, admins):
    policy = SlaPolicy.objects.create(name="故障 4 小时", request_type="fault_report", level="province",
                                      first_response_minutes=30, resolution_minutes=240)
    client = client_of(admins["system"])
    response = client.post(f"/admin/notifications/slapolicy/{policy.pk}/change/",
                           _sla_form(policy, resolution_minutes=480))
    assert response.status_code == 302, response.content
    update = history_of(policy).filter(pgh_label="update").get()
    assert update.pgh_diff == {"resolution_minutes": [240, 480]}
    assert update.pgh_context["user"] == admins["system"].pk
    assert update.pgh_context["ip"] == FROM
    # The audit administrator reads it on the audit page, with the values before and after.
    page = client_of(admins["audit"]).get("/audit/").content.decode()
    assert "resolution_minutes" in page and "240 → 480" in page


# --- Append-only in PostgreSQL itself ----------------------------------------------------------------------------

def _refused(sql: str, params=()) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as exc:
        return "pgtrigger" in str(exc) or "Cannot" in str(exc) or "protect" in str(exc).lower()
    return False


def test_the_database_refuses_to_change_or_delete_audit_rows(org, incident, admins):
    login("teller1", "wrong-password")
    request = file_fault_report(org)
    incident_event = incident.events.create(action="acknowledge", source_state="open", target_state="acknowledged")
    policy = SlaPolicy.objects.create(name="p", first_response_minutes=5, resolution_minutes=60)
    history = history_of(policy).get()
    rows = [
        (SecurityEvent._meta.db_table, "id", SecurityEvent.objects.latest("pk").pk),
        (request.events.model._meta.db_table, "id", request.events.latest("pk").pk),
        (incident_event._meta.db_table, "id", incident_event.pk),
        # pghistory's event table of SLA policies (the configuration history).
        (apps.get_model("notifications", "SlaPolicyEvent")._meta.db_table, "pgh_id", history.pgh_id),
    ]
    for table, key, pk in rows:
        assert _refused(f'UPDATE "{table}" SET {key} = {key} WHERE {key} = %s', [pk]), table
        assert _refused(f'DELETE FROM "{table}" WHERE {key} = %s', [pk]), table
    assert SecurityEvent.objects.filter(pk=rows[0][2]).exists()


def test_deleting_a_request_or_an_incident_cannot_take_its_events(org, incident):
    request = file_fault_report(org)
    incident.events.create(action="acknowledge", source_state="open", target_state="acknowledged")
    for table, pk in (("tickets_servicerequest", request.pk), ("alerts_incident", incident.pk)):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys are checked at commit otherwise
            cursor.execute(f'DELETE FROM "{table}" WHERE id = %s', [pk])
    assert request.events.exists() and incident.events.exists()


# --- No delete in the admin for incidents, raw mail, the SMS log --------------------------------------------------

def test_the_admin_offers_no_delete_for_incidents_raw_mail_and_the_sms_log(org, incident, admins):
    message = IngestedMessage.objects.create(origin="imap", fingerprint="f" * 64, received_at=timezone.now(),
                                             outcome="alert", raw=b"Subject: x\r\n\r\nbody")
    notification = Notification.objects.create(channel="sms", address="13800000000", text="测试", event="test",
                                               idempotency_key="audit-test-1")
    for client in (client_of(admins["breakglass"]), client_of(admins["system"])):
        for url, pk in (("alerts/incident", incident.pk), ("notifications/notification", notification.pk),
                        ("alerts/ingestedmessage", message.pk)):
            assert client.get(f"/admin/{url}/{pk}/delete/").status_code == 403, url
            changelist = client.get(f"/admin/{url}/")
            assert changelist.status_code == 200, url
            assert b"delete_selected" not in changelist.content, url
    assert Incident.objects.filter(pk=incident.pk).exists()


# --- Separated administrators: each role vs each admin action ------------------------------------------------------

# who → (change a person in the admin, change roles through the API, change an SLA policy in the admin,
#        add a unit through the API, read the audit page)
MATRIX = {
    "system": (False, False, True, True, False),
    "security": (True, True, False, False, False),
    "audit": (False, False, False, False, True),
    "legacy": (True, True, True, True, False),
    "breakglass": (True, True, True, True, True),
}


@pytest.mark.parametrize("who", MATRIX)
def test_each_administrator_does_their_own_duty_only(who, org, admins, api_client_for):
    person = admins[who]
    target = org.people["county"]
    policy = SlaPolicy.objects.create(name="p", first_response_minutes=5, resolution_minutes=60)
    client = client_of(person)
    api = api_client_for(person)
    person_admin = client.post(f"/admin/org/user/{target.pk}/change/", {
        "username": target.username, "display_name": "改名", "unit": target.unit_id, "mobile": target.mobile,
        "roles": '["county_support"]', "is_active": "on", "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00"}).status_code in (200, 302)
    person_admin = person_admin and client.get(f"/admin/org/user/{target.pk}/change/").status_code == 200 and \
        b'name="display_name"' in client.get(f"/admin/org/user/{target.pk}/change/").content
    roles_api = api.patch(f"/api/people/{target.pk}/", {"roles": ["county_support", "manager"]},
                          format="json").status_code == 200
    sla_admin = client.post(f"/admin/notifications/slapolicy/{policy.pk}/change/",
                            _sla_form(policy, resolution_minutes=90)).status_code == 302
    unit_api = api.post("/api/units/", {"code": f"N{who}", "name": "新网点", "kind": "outlet",
                                        "parent": org.counties[0].code}, format="json").status_code == 201
    audit_page = client.get("/audit/").status_code == 200
    assert (person_admin, roles_api, sla_admin, unit_api, audit_page) == MATRIX[who]


@pytest.mark.parametrize("who", ["security", "legacy", "breakglass"])
def test_nobody_gives_themselves_a_role(who, admins, api_client_for):
    person = admins[who]
    response = api_client_for(person).patch(f"/api/people/{person.pk}/", {"roles": [Role.MANAGER]},
                                            format="json")
    assert response.status_code == 403
    page = client_of(person).get(f"/admin/org/user/{person.pk}/change/")
    assert page.status_code == 200 and b'name="roles"' not in page.content  # read-only for themselves
    refused = client_of(person).post(f"/admin/org/user/{person.pk}/change/", {"roles": '["manager"]'})
    assert refused.status_code == 403
    person.refresh_from_db()
    assert Role.MANAGER not in person.roles


def test_the_audit_administrator_sees_no_business_data(org, admins, api_client_for):
    api = api_client_for(admins["audit"])
    assert api.get("/api/people/").json()["count"] == 0
    assert api.post("/api/systems/", {}, format="json").status_code == 403
    assert client_of(admins["audit"]).get("/admin/notifications/slapolicy/").status_code == 403


# --- The audit page: access, filters, CSV -----------------------------------------------------------------------

@pytest.mark.parametrize("who,status", [("teller", 403), ("manager", 403), ("dispatcher", 403), ("admin", 403)])
def test_only_the_audit_administrator_opens_the_audit(who, status, org, admins):
    for url in ("/audit/", "/audit/events.csv", "/audit/changes.csv"):
        assert client_of(org.people[who]).get(url).status_code == status, url
    for other in ("system", "security"):
        assert client_of(admins[other]).get("/audit/").status_code == 403
    assert Client().get("/audit/").status_code == 302  # to the login page
    page = client_of(admins["audit"]).get("/audit/")
    assert page.status_code == 200
    assert "安全审计" in page.content.decode()


def test_the_superuser_reads_the_audit_and_is_audited_doing_so(admins):
    assert client_of(admins["breakglass"]).get("/audit/").status_code == 200
    assert last(SecurityEventKind.SUPERUSER_USED).target == "GET /audit/"


def test_the_audit_page_filters_by_date_person_kind_and_result(org, admins):
    login("teller1")
    login("teller8", "wrong-password")
    old = SecurityEvent.objects.create(kind=SecurityEventKind.LOGIN, username="county1",
                                       at=timezone.now() - dt.timedelta(days=200))
    client = client_of(admins["audit"])

    def rows(**query) -> list[tuple[str, str]]:
        body = client.get("/audit/events.csv", query).content.decode("utf-8-sig")
        return [(r[1], r[2]) for r in list(csv.reader(io.StringIO(body)))[1:]]

    assert ("登录失败", "teller8") in rows(success="no") and ("登录", "teller1") not in rows(success="no")
    body = client.get("/audit/events.csv", {"person": "teller1"}).content.decode("utf-8-sig")
    assert all("teller1" in (r[2], r[3]) for r in list(csv.reader(io.StringIO(body)))[1:])
    assert all(kind == "登录" for kind, _name in rows(kind="login"))
    today = timezone.localdate().isoformat()
    assert ("登录", "county1") not in rows(start=today, end=today)
    assert ("登录", "county1") in rows(end=(timezone.localdate() - dt.timedelta(days=199)).isoformat())
    assert old.pk  # kept: nothing purges the audit
    assert client.get("/audit/", {"start": "0001-01-01"}).status_code == 400


def test_the_csv_cannot_carry_a_live_formula(org, admins):
    login("=cmd|' /C calc'!A0", "x")
    login("@SUM(1+1)", "x")
    response = client_of(admins["audit"]).get("/audit/events.csv")
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0][0] == "时间"
    names = {row[2] for row in table[1:]}
    assert "'=cmd|' /C calc'!A0" in names and "'@SUM(1+1)" in names
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in table[1:] for cell in row)


def test_only_the_security_administrator_unlocks_and_the_unlock_is_audited(org, admins):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        login("teller1", "wrong-password")
    attempt = AccessAttempt.objects.get(username="teller1")
    url = f"/admin/axes/accessattempt/{attempt.pk}/delete/"
    for who in ("system", "audit"):
        assert client_of(admins[who]).post(url, {"post": "yes"}).status_code == 403, who
    assert client_of(admins["security"]).post(url, {"post": "yes"}).status_code == 302
    assert not AccessAttempt.objects.filter(pk=attempt.pk).exists()
    event = last(SecurityEventKind.UNLOCK)
    assert (event.actor, event.target, event.ip_address) == (admins["security"], "teller1", FROM)
    assert login("teller1").status_code == 302  # unlocked
