"""Issue 17, "Leaks" and "Personal data": what each role may read, tried the way the finding did.

- Rosters (names and mobile numbers of the people on duty) are read by the unit's own chain and the
  dispatchers; a teller reads none (404, default deny), on the page and through the API.
- The host inventory is for the people who work with hosts; managers, support centres and tellers
  list nothing and open nothing.
- The "known incident" notice tells a teller the system and since when, never a host or check name.
- A roster holds only people of its unit: refused at the service, the API and the admin, and a shift
  that got in anyway is skipped (and logged) when a hand-off is sent.
- Mobile numbers are masked (138****0000) outside the person's chain, on pages and in the API.
- The mail account password is ciphertext in the database, the poller still logs in to the real
  Dovecot with it, and neither the admin nor the API shows it.
"""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from notifications import roster
from notifications.models import DutyShift, Notification
from notifications.services import notify
from opsdesk.org.choices import Role
from opsdesk.org.privacy import mask_mobile, visible_mobile
from tests.alerts.conftest import imap_env, mail_folder, mailbox  # noqa: F401 (the Dovecot fixtures)
from tests.factories import make_host, make_person
from tests.tickets.helpers import ensure_types, file_fault_report

pytestmark = pytest.mark.django_db

ROLES = ["teller", "county", "city", "dispatcher", "operator", "member", "manager", "admin"]
NOW = timezone.now


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    # What each role may read, not how it logs in: the provincial roles' second factor is tested apart.
    settings.OPSDESK_2FA_REQUIRED = False


def _client(client, person):
    client.force_login(person)
    return client


# --- Leaks: rosters --------------------------------------------------------------------------------

# Whose roster each role reads: P (the provincial centre, "GD" in the demo data), G1 (a support group
# under operations), K1 (the teller's county, under city C1).
ROSTER_SEES = {
    "teller": set(),
    "county": {"K1"},
    "city": {"K1"},  # its counties, not the provincial centre above it
    "dispatcher": {"P", "G1", "K1"},  # hands off to every unit
    "operator": {"G1"},  # the groups under operations
    "member": {"G1"},
    "manager": {"P", "G1", "K1"},  # the provincial centre's manager: everything under it
    "admin": {"P", "G1", "K1"},
}


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("code", ["P", "G1", "K1"])
def test_a_roster_page_is_read_by_the_units_chain_only(client, org, who, code):
    response = _client(client, org.people[who]).get(f"/notifications/rosters/{code}/")
    assert response.status_code == (200 if code in ROSTER_SEES[who] else 404)


def test_a_tellers_roster_pages_show_no_other_units_staff_or_numbers(client, org):
    client.force_login(org.people["teller"])
    listing = client.get("/notifications/rosters/").content.decode()
    for person in (org.people["manager"], org.people["county"], org.people["admin"]):
        assert str(person) not in listing and person.mobile not in listing
        assert mask_mobile(person.mobile) not in listing
    assert client.get("/notifications/rosters/P/").status_code == 404


@pytest.mark.parametrize("who", ROLES)
def test_the_roster_api_follows_the_same_rule(api_client_for, org, who):
    now = NOW()
    for unit, person in ((org.province, org.people["manager"]), (org.groups[0], org.people["member"]),
                         (org.counties[0], org.people["county"])):
        roster.shift_create(unit=unit, person=person, starts_at=now - dt.timedelta(hours=1),
                            ends_at=now + dt.timedelta(hours=7), actor=org.people["admin"])
    api = api_client_for(org.people[who])
    listed = {row["unit"] for row in api.get("/api/rosters/").json()["results"]}
    assert listed == ROSTER_SEES[who]
    on_duty = api.get("/api/rosters/on-duty/", {"unit": "P"})
    assert on_duty.status_code == (200 if "P" in ROSTER_SEES[who] else 400)


# --- Leaks: the host inventory -----------------------------------------------------------------------

HOSTS_SEE = {"teller": False, "county": False, "city": False, "dispatcher": True, "operator": True,
             "member": True, "manager": False, "admin": True}


@pytest.mark.parametrize("who", ROLES)
def test_the_host_inventory_is_for_the_people_who_work_with_hosts(api_client_for, org, who):
    host = make_host(org.systems[0], "szhxdb01")
    api = api_client_for(org.people[who])
    names = [row["hostname"] for row in api.get("/api/hosts/").json()["results"]]
    assert names == (["szhxdb01"] if HOSTS_SEE[who] else [])
    assert api.get(f"/api/hosts/{host.pk}/").status_code == (200 if HOSTS_SEE[who] else 404)


# --- Leaks: the known-incident notice ----------------------------------------------------------------

@pytest.fixture
def core_incident(org):
    from alerts.models import Incident

    first_seen = timezone.localtime().replace(hour=9, minute=12, second=0, microsecond=0)
    return Incident.objects.create(dedup_key="szhxdb01|oracle", source="nagios", host="szhxdb01",
                                   check_name="Oracle 表空间", category="db", severity="critical",
                                   system=org.systems[0], summary="核心数据库表空间不足", first_seen=first_seen,
                                   last_seen=first_seen)


# Who reads the incident by host and check: the alert board's people and administrators.
INTERNAL_NAMES = {"teller": False, "county": False, "city": False, "dispatcher": True, "operator": True,
                  "member": True, "manager": True, "admin": True}


def test_a_teller_is_told_in_plain_words_on_the_form_the_request_and_the_api(client, api_client_for, org,
                                                                             core_incident):
    ensure_types()
    request = file_fault_report(org)
    client.force_login(org.people["teller"])
    for url in ("/tickets/new/fault_report/", f"/tickets/{request.pk}/"):
        body = client.get(url).content.decode()
        assert "核心系统" in body and "已知故障正在处理中，自 09:12 起" in body
        assert "szhxdb01" not in body and "Oracle 表空间" not in body
    notices = api_client_for(org.people["teller"]).get(f"/api/requests/{request.pk}/",
                                                       HTTP_ACCEPT_LANGUAGE="zh-hans").json()["known_incidents"]
    assert notices == ["已知故障正在处理中，自 09:12 起。"]


@pytest.mark.parametrize("who", ROLES)
def test_host_and_check_names_only_for_the_alert_board(api_client_for, org, core_incident, who):
    from tickets.selectors import known_incidents_for_system

    notices = " ".join(known_incidents_for_system(user=org.people[who], system=org.systems[0]))
    assert ("szhxdb01" in notices) is INTERNAL_NAMES[who]
    assert notices  # everyone is told that there is a known fault


# --- Leaks: a person of another unit on a roster -----------------------------------------------------

def _shift(unit_code, username, hours=(-1, 7)):
    now = NOW()
    return {"unit": unit_code, "person": username, "starts_at": (now + dt.timedelta(hours=hours[0])).isoformat(),
            "ends_at": (now + dt.timedelta(hours=hours[1])).isoformat()}


def test_the_roster_api_refuses_a_person_of_another_unit(api_client_for, org):
    admin = api_client_for(org.people["admin"])
    refused = admin.post("/api/rosters/", _shift("G1", "member2"), format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 400
    assert "只有本单位的人员" in refused.json()["person"][0]
    assert not DutyShift.objects.exists()
    assert admin.post("/api/rosters/", _shift("G1", "member1"), format="json").status_code == 201


def test_the_service_refuses_a_person_of_another_unit(org):
    from django.core.exceptions import ValidationError

    now = NOW()
    with pytest.raises(ValidationError) as refused:
        roster.shift_create(unit=org.groups[0], person=org.people["county"], starts_at=now,
                            ends_at=now + dt.timedelta(hours=8))
    assert "person" in refused.value.message_dict
    assert not DutyShift.objects.exists()


def test_the_admin_and_the_roster_page_refuse_a_person_of_another_unit(client, org):
    client.force_login(org.people["admin"])
    start = timezone.localtime() - dt.timedelta(hours=1)
    form = {"unit": org.groups[0].pk, "person": org.people["member_other"].pk,
            "starts_at_0": f"{start:%Y-%m-%d}", "starts_at_1": f"{start:%H:%M:%S}",
            "ends_at_0": f"{start + dt.timedelta(hours=8):%Y-%m-%d}", "ends_at_1": f"{start + dt.timedelta(hours=8):%H:%M:%S}"}
    response = client.post("/admin/notifications/dutyshift/add/", form, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200 and "只有本单位的人员可以排入本单位的值班表" in response.content.decode()
    page = client.post("/notifications/rosters/G1/", {"person": org.people["member_other"].pk,
                                                      "starts_at": f"{start:%Y-%m-%dT%H:%M}",
                                                      "ends_at": f"{start + dt.timedelta(hours=8):%Y-%m-%dT%H:%M}"})
    assert page.status_code == 400  # not even offered: the form lists the unit's own people
    assert str(org.people["member_other"]) not in page.content.decode().split('id="shift-form"')[1]
    assert not DutyShift.objects.exists()


def test_a_foreign_shift_already_stored_is_skipped_and_logged_at_send_time(org, caplog):
    now = NOW()
    # Written past the checks, as the finding's roster API did before them.
    DutyShift.objects.create(unit=org.groups[0], person=org.people["member_other"],
                             starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=7))
    with caplog.at_level(logging.WARNING, logger="notifications.roster"):
        notify(event="request.dispatch", text="派给支持小组1", key="foreign-1", unit=org.groups[0],
               about=org.systems[0])
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert "member2" not in recipients
    assert recipients == {"member1", "lead1"}  # nobody of the unit on shift: the unit's own people
    assert any("member2" in r.getMessage() and "G1" in r.getMessage() for r in caplog.records)


# --- Personal data: masked mobile numbers ------------------------------------------------------------

@pytest.fixture
def system_admin(org):
    return make_person(org.province, Role.SYSTEM_ADMIN, username="sysadmin")


@pytest.fixture
def security_admin(org):
    return make_person(org.province, Role.SECURITY_ADMIN, username="secadmin")


def test_mask_format():
    assert mask_mobile("13800000000") == "138****0000"
    assert mask_mobile("") == ""


# Whether each role reads the county support person's number (K1, under C1, under P) whole.
COUNTY_MOBILE_WHOLE = {"teller": False, "county": True, "city": True, "dispatcher": True, "operator": False,
                       "member": False, "manager": True, "admin": True}  # admin: the legacy security duty


@pytest.mark.parametrize("who", ROLES)
def test_visible_mobile_matrix(org, who):
    county = org.people["county"]
    shown = visible_mobile(org.people[who], county)
    assert shown == (county.mobile if COUNTY_MOBILE_WHOLE[who] else mask_mobile(county.mobile))


def test_the_separated_administrators_see_masked_and_whole(org, system_admin, security_admin):
    county = org.people["county"]
    assert visible_mobile(system_admin, county) == mask_mobile(county.mobile)
    assert visible_mobile(security_admin, county) == county.mobile
    assert visible_mobile(org.people["teller_other"], org.people["teller"]) == mask_mobile(org.people["teller"].mobile)
    assert visible_mobile(org.people["teller"], org.people["teller"]) == org.people["teller"].mobile


def test_the_roster_page_masks_numbers_outside_the_chain(client, org, system_admin):
    county = org.people["county"]
    client.force_login(system_admin)
    body = client.get("/notifications/rosters/K1/").content.decode()
    assert mask_mobile(county.mobile) in body and county.mobile not in body
    client.force_login(org.people["city"])
    assert county.mobile in client.get("/notifications/rosters/K1/").content.decode()


def test_the_people_api_masks_and_me_shows_my_own(api_client_for, org, system_admin):
    county = org.people["county"]
    rows = {row["username"]: row["mobile"] for row in
            api_client_for(system_admin).get("/api/people/", {"page_size": 100}).json()["results"]}
    if rows:  # the people endpoint may be the security administrator's alone; where listed, masked
        assert rows["county1"] == mask_mobile(county.mobile)
        assert county.mobile not in rows.values()
    assert api_client_for(county).get("/api/me/").json()["mobile"] == county.mobile


def test_the_delivery_log_masks_the_numbers_on_the_page_and_in_the_api(client, api_client_for, org, system_admin,
                                                                       security_admin):
    member = org.people["member"]
    notify(event="request.dispatch", text="给组员", key="mask-1", people=[member], about=org.systems[0])
    client.force_login(system_admin)
    page = client.get("/notifications/log/").content.decode()
    assert mask_mobile(member.mobile) in page and member.mobile not in page
    rows = api_client_for(system_admin).get("/api/notifications/").json()["results"]
    assert [row["address"] for row in rows] == [mask_mobile(member.mobile)]
    rows = api_client_for(org.people["admin"]).get("/api/notifications/").json()["results"]
    assert [row["address"] for row in rows] == [member.mobile]  # the legacy administrator holds the security duty


# --- Secrets at rest ---------------------------------------------------------------------------------

def _stored_password(account) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM alerts_mailaccount WHERE id = %s", [account.pk])
        return cursor.fetchone()[0]


def test_the_mail_password_column_holds_ciphertext(org):
    from alerts.models import MailAccount

    account = MailAccount.objects.create(name="mon", host="127.0.0.1", port=143, security="plain",
                                         username="alerts", password="alerts-secret")
    stored = _stored_password(account)
    assert stored.startswith("enc:v1:") and "alerts-secret" not in stored
    assert MailAccount.objects.get(pk=account.pk).password == "alerts-secret"


def test_a_rotated_key_still_reads_old_rows_and_a_missing_key_keeps_the_ciphertext(org, settings, caplog):
    from cryptography.fernet import Fernet

    from alerts.models import MailAccount

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.OPSDESK_FIELD_ENCRYPTION_KEY = old
    account = MailAccount.objects.create(name="mon", host="h", username="u", password="s3cret")
    settings.OPSDESK_FIELD_ENCRYPTION_KEY = f"{new},{old}"
    assert MailAccount.objects.get(pk=account.pk).password == "s3cret"
    settings.OPSDESK_FIELD_ENCRYPTION_KEY = new
    stored = _stored_password(account)
    with caplog.at_level(logging.ERROR, logger="opsdesk.fields"):
        unreadable = MailAccount.objects.get(pk=account.pk)
    assert unreadable.password == "" and "OPSDESK_FIELD_ENCRYPTION_KEY" in caplog.text
    unreadable.save()
    assert _stored_password(account) == stored  # saved unchanged: the secret is not lost
    # The rotation done: encrypted again under the new key while the old one is listed, then the old goes.
    settings.OPSDESK_FIELD_ENCRYPTION_KEY = f"{new},{old}"
    call_command("reencrypt_secrets", stdout=io.StringIO())
    settings.OPSDESK_FIELD_ENCRYPTION_KEY = new
    assert MailAccount.objects.get(pk=account.pk).password == "s3cret"


def test_reencrypting_refuses_to_pretend_with_a_missing_key(org, settings):
    from cryptography.fernet import Fernet

    from alerts.models import MailAccount

    settings.OPSDESK_FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    account = MailAccount.objects.create(name="mon", host="h", username="u", password="s3cret")
    stored = _stored_password(account)
    settings.OPSDESK_FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(CommandError, match="OPSDESK_FIELD_ENCRYPTION_KEY"):
        call_command("reencrypt_secrets", stdout=io.StringIO())
    assert _stored_password(account) == stored


def test_a_bad_key_setting_is_one_clear_line(org, settings):
    from django.core.exceptions import ImproperlyConfigured

    from alerts.models import MailAccount

    settings.OPSDESK_FIELD_ENCRYPTION_KEY = "not-a-key"
    with pytest.raises(ImproperlyConfigured, match="OPSDESK_FIELD_ENCRYPTION_KEY"):
        MailAccount.objects.create(name="mon", host="h", username="u", password="s3cret")


def test_the_admin_never_shows_the_password(client, org):
    from alerts.models import MailAccount

    account = MailAccount.objects.create(name="mon", host="127.0.0.1", port=143, security="plain",
                                         username="alerts", password="alerts-secret")
    client.force_login(org.people["admin"])
    body = client.get(f"/admin/alerts/mailaccount/{account.pk}/change/").content.decode()
    assert "alerts-secret" not in body and _stored_password(account) not in body


@pytest.mark.imap
def test_the_poller_logs_in_to_dovecot_with_the_decrypted_password(org, mailbox, mail_folder):  # noqa: F811
    from alerts.models import IngestedMessage
    from alerts.sources.imap import ImapPoller
    from tests.alerts.test_imap_poller import nagios

    assert _stored_password(mail_folder.account).startswith("enc:v1:")
    assert "alerts-secret" not in _stored_password(mail_folder.account)
    mailbox.append(nagios(1))
    ImapPoller(mail_folder.pk).sync_once()  # logs in (a wrong password raises LoginError)
    assert IngestedMessage.objects.filter(folder=mail_folder).count() == 1
