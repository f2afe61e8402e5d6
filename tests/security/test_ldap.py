"""Directory login against a real OpenLDAP slapd shaped like the bank's Active Directory.

The tree, groups and settings are in tests/security/ldap_helpers.py; the units are build_org()'s.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from opsdesk.org.models import User
from tests.factories import PASSWORD
from tests.security import ldap_helpers
from tests.security.ldap_helpers import COUNTY, DIRECTORY_PASSWORD, TELLER

slapd, directory = ldap_helpers.slapd, ldap_helpers.directory  # the fixtures

LOGIN = "/accounts/login/"
WRONG = "用户名和密码不匹配"  # the login page's usual refusal


def sign_in(client, username, password=DIRECTORY_PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def test_a_teller_signs_in_with_the_directory_password_and_gets_role_and_outlet(org, directory, client):
    response = sign_in(client, "t1001")
    assert response.status_code == 302
    person = User.objects.get(username="t1001")
    assert person.roles == ["teller"]
    assert person.unit == org.outlets[0]  # `department: O1`
    assert person.display_name == "李伟"
    assert person.mobile == "13800138001"  # "+86 138-0013-8001" normalised
    assert not person.has_usable_password()  # the desk never holds a directory password
    assert client.get("/", follow=True).redirect_chain[-1][0] == "/tickets/mine/"


def test_the_unit_can_come_from_the_ou_holding_the_entry(org, directory, client):
    assert sign_in(client, "k2001").status_code == 302
    person = User.objects.get(username="k2001")
    assert (person.roles, person.unit) == (["county_support"], org.counties[0])  # OU=K1, no department


def test_a_group_change_in_the_directory_shows_at_the_next_login(org, directory, client):
    assert sign_in(client, "k2001").status_code == 302
    directory.add_member("OpsDesk-Managers", COUNTY)
    try:
        client.logout()
        assert sign_in(client, "k2001").status_code == 302
        assert User.objects.get(username="k2001").roles == ["county_support", "manager"]
    finally:
        directory.remove_member("OpsDesk-Managers", COUNTY)
    client.logout()
    assert sign_in(client, "k2001").status_code == 302
    assert User.objects.get(username="k2001").roles == ["county_support"]


def test_taken_out_of_every_desk_group_a_person_can_no_longer_sign_in(org, directory, client):
    assert sign_in(client, "t1001").status_code == 302
    client.logout()
    directory.remove_member("OpsDesk-Tellers", TELLER)
    try:
        response = sign_in(client, "t1001")
        assert response.status_code == 200
        assert "不在任何 OpsDesk 角色组中" in response.content.decode()
        assert User.objects.get(username="t1001").roles == []  # the old role does not linger
    finally:
        directory.add_member("OpsDesk-Tellers", TELLER)


def test_a_directory_user_in_no_mapped_group_is_refused_with_the_reason(org, directory, client):
    response = sign_in(client, "t1002")
    assert response.status_code == 200
    page = response.content.decode()
    assert "不在任何 OpsDesk 角色组中" in page and "安全管理员" in page
    assert not User.objects.filter(username="t1002").exists()  # no role-less account is made
    assert "_auth_user_id" not in client.session


def test_a_directory_user_whose_unit_the_desk_does_not_know_is_refused(org, directory, client):
    response = sign_in(client, "t1003")
    assert response.status_code == 200
    assert "X99" in response.content.decode() and "机构" in response.content.decode()
    assert not User.objects.filter(username="t1003").exists()


def test_a_wrong_directory_password_is_refused(org, directory, client):
    response = sign_in(client, "t1001", "not-the-password")
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_local_break_glass_account_is_never_taken_over_by_a_directory_namesake(org, directory, client):
    # The directory holds an "admin" too, in the tellers' group: its password opens nothing here.
    assert sign_in(client, "admin", DIRECTORY_PASSWORD).status_code == 200
    admin = User.objects.get(username="admin")
    assert admin.roles == ["administrator"] and admin.has_usable_password()
    assert sign_in(client, "admin", PASSWORD).status_code == 302


def test_with_the_directory_down_break_glass_works_and_directory_users_are_told_why(org, directory, client):
    assert sign_in(client, "t1001").status_code == 302
    client.logout()
    directory.stop()
    try:
        response = sign_in(client, "t1001")
        assert response.status_code == 200
        assert "目录服务器" in response.content.decode() and "无法连接" in response.content.decode()
        assert sign_in(client, "admin", PASSWORD).status_code == 302  # the local break-glass account
    finally:
        directory.start()
    client.logout()
    assert sign_in(client, "t1001").status_code == 302


def test_without_a_server_uri_directory_login_is_off(org, slapd, client):
    from django.conf import settings

    assert "opsdesk.org.ldap.DirectoryBackend" not in settings.AUTHENTICATION_BACKENDS
    assert sign_in(client, "t1001").status_code == 200
    assert sign_in(client, "teller1", PASSWORD).status_code == 302  # local accounts as ever


@pytest.mark.parametrize("variable, value, named", [
    ("OPSDESK_LDAP_ROLE_GROUPS", "cashier=CN=Cashiers,DC=bank,DC=example", "unknown role 'cashier'"),
    ("OPSDESK_LDAP_ROLE_GROUPS", '{"teller": ', "expected JSON"),
    ("OPSDESK_LDAP_USER_SEARCH_BASE", "", "required with OPSDESK_LDAP_SERVER_URI"),
    ("OPSDESK_LDAP_SERVER_URI", "ad.bank.example", "expected ldap://"),
    ("OPSDESK_LDAP_UNIT_FROM_OU", "perhaps", "expected true/false"),
])
def test_a_wrong_directory_setting_stops_start_up_with_one_line_naming_it(slapd, variable, value, named):
    from tests.security.ldap_helpers import directory_environment

    env = {**os.environ, **directory_environment(slapd.uri), variable: value}
    env.pop("DATABASE_URL", None)
    result = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [result.stderr.strip().splitlines()[-1]]
    assert variable in result.stderr and named in result.stderr and "Traceback" not in result.stderr
