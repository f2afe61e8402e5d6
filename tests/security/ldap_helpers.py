"""A throw-away OpenLDAP slapd shaped like the bank's Active Directory, for the directory-login tests.

Debian's slapd (deploy/local/install-slapd.sh) runs as a child process on a free loopback port from a
cn=config built with `slapadd -n0` in a temporary directory; the system instance is never touched.
The tree mimics AD: sAMAccountName and department (a small schema with AD's attribute OIDs), people
under OU=Branches/OU=<city>/OU=<county>/OU=<outlet>, and OpsDesk-* groups (groupOfNames, `member`).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import ldap
import pytest

from tests.helpers import wait_for

__all__ = ["Slapd", "slapd", "directory", "bank_directory", "directory_environment", "user_dn", "group_dn"]

BASE = "dc=bank,dc=example"
ADMIN_DN = f"cn=admin,{BASE}"
ADMIN_PASSWORD = "admin-secret"
GROUPS = f"OU=Groups,{BASE}"
BRANCHES = f"OU=Branches,{BASE}"
SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"

# sAMAccountName and department with Active Directory's own OIDs; adUser adds them to inetOrgPerson.
AD_SCHEMA = """\
dn: cn=adlike,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: adlike
olcAttributeTypes: ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch
  SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.2.141 NAME 'department' EQUALITY caseIgnoreMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcObjectClasses: ( 1.2.840.113556.1.5.9.99 NAME 'adUser' SUP top AUXILIARY
  MAY ( sAMAccountName $ department ) )
"""


def user_dn(cn: str, *ous: str) -> str:
    return ",".join([f"CN={cn}", *(f"OU={ou}" for ou in ous), BRANCHES])


def group_dn(name: str) -> str:
    return f"CN={name},{GROUPS}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Slapd:
    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def build(self, entries: list[tuple[str, dict[str, list[str]]]]) -> None:
        """A fresh cn=config and database holding `entries` (dn, attributes)."""
        config, db = self.directory / "slapd.d", self.directory / "db"
        for d in (config, db):
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
        (self.directory / "config.ldif").write_text(f"""\
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {self.directory}/slapd.pid

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

{AD_SCHEMA}
dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcDbDirectory: {db}
olcSuffix: {BASE}
olcRootDN: {ADMIN_DN}
olcRootPW: {ADMIN_PASSWORD}
olcDbMaxSize: 104857600
olcAccess: to attrs=userPassword by anonymous auth by * none
olcAccess: to * by * read
""")
        subprocess.run([SLAPADD, "-n0", "-F", str(config), "-l", str(self.directory / "config.ldif")],
                       check=True, capture_output=True)
        lines = []
        for dn, attrs in entries:
            lines.append(f"dn: {dn}")
            lines += [f"{name}: {value}" for name, values in attrs.items() for value in values]
            lines.append("")
        (self.directory / "data.ldif").write_text("\n".join(lines))
        subprocess.run([SLAPADD, "-n1", "-F", str(config), "-l", str(self.directory / "data.ldif")],
                       check=True, capture_output=True)

    def start(self) -> None:
        # -d 0: stay in the foreground as our child, so stop() and the session's end reap it.
        self.process = subprocess.Popen(
            [SLAPD, "-d", "0", "-F", str(self.directory / "slapd.d"), "-h", f"{self.uri}/"],
            stdout=subprocess.DEVNULL, stderr=(self.directory / "slapd.log").open("ab"))
        wait_for(self._answers, 60, f"slapd to answer on {self.uri}")

    def _answers(self) -> bool:
        try:
            self.admin().unbind_s()
            return True
        except ldap.SERVER_DOWN:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited: {(self.directory / 'slapd.log').read_text()[-2000:]}") from None
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def admin(self) -> ldap.ldapobject.LDAPObject:
        conn = ldap.initialize(self.uri, bytes_mode=False)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 2)
        conn.simple_bind_s(ADMIN_DN, ADMIN_PASSWORD)
        return conn

    def add_member(self, group: str, member: str) -> None:
        conn = self.admin()
        conn.modify_s(group_dn(group), [(ldap.MOD_ADD, "member", [member.encode()])])
        conn.unbind_s()

    def remove_member(self, group: str, member: str) -> None:
        conn = self.admin()
        conn.modify_s(group_dn(group), [(ldap.MOD_DELETE, "member", [member.encode()])])
        conn.unbind_s()


# --- The bank's directory as the tests see it ----------------------------------------------------------
# Units are those of tests.factories.build_org(): outlet O1 under county K1 under city C1.
PLACEHOLDER = f"CN=placeholder,{BASE}"  # groupOfNames needs one member even when the last person leaves
TELLER = user_dn("Li Wei", "O1", "K1", "C1")
COUNTY = user_dn("Wang Fang", "K1", "C1")
NO_GROUP = user_dn("Zhao Min", "O1", "K1", "C1")
NO_UNIT = user_dn("Qian Lei", "Lost")
NAMESAKE = user_dn("Directory Admin", "O1", "K1", "C1")
DIRECTORY_PASSWORD = "Directory-Pass-1"


def _person(dn: str, account: str, name: str, *, department: str | None = None, mobile: str | None = None):
    attrs = {"objectClass": ["inetOrgPerson", "adUser"], "cn": [dn.split(",")[0][3:]], "sn": [name[:1]],
             "displayName": [name], "sAMAccountName": [account], "mail": [f"{account}@bank.example"],
             "userPassword": [DIRECTORY_PASSWORD]}
    if department:
        attrs["department"] = [department]
    if mobile:
        attrs["mobile"] = [mobile]
    return dn, attrs


def bank_directory() -> list[tuple[str, dict[str, list[str]]]]:
    ou = lambda dn, name: (dn, {"objectClass": ["organizationalUnit"], "ou": [name]})  # noqa: E731
    group = lambda name, *members: (group_dn(name), {"objectClass": ["groupOfNames"], "cn": [name],  # noqa: E731
                                                     "member": [PLACEHOLDER, *members]})
    return [
        (BASE, {"objectClass": ["dcObject", "organization"], "dc": ["bank"], "o": ["Bank"]}),
        ou(BRANCHES, "Branches"), ou(f"OU=C1,{BRANCHES}", "C1"), ou(f"OU=K1,OU=C1,{BRANCHES}", "K1"),
        ou(f"OU=O1,OU=K1,OU=C1,{BRANCHES}", "O1"), ou(f"OU=Lost,{BRANCHES}", "Lost"), ou(GROUPS, "Groups"),
        # The teller's unit comes from `department`, the county person's from the OU holding the entry.
        _person(TELLER, "t1001", "李伟", department="O1", mobile="+86 138-0013-8001"),
        _person(COUNTY, "k2001", "王芳"),
        _person(NO_GROUP, "t1002", "赵敏", department="O1"),
        _person(NO_UNIT, "t1003", "钱磊", department="X99"),
        _person(NAMESAKE, "admin", "目录里的 admin", department="O1"),
        group("OpsDesk-Tellers", TELLER, NO_UNIT, NAMESAKE),
        group("OpsDesk-County", COUNTY),
        group("OpsDesk-Managers"),
        group("OpsDesk-Admins"),
        group("Staff-Canteen", NO_GROUP),  # a group the desk does not map
    ]


def directory_environment(uri: str) -> dict[str, str]:
    """The environment an operator would set for the bank's AD (role groups by DN and by name)."""
    return {
        "OPSDESK_LDAP_SERVER_URI": uri,
        "OPSDESK_LDAP_BIND_DN": ADMIN_DN,
        "OPSDESK_LDAP_BIND_PASSWORD": ADMIN_PASSWORD,
        "OPSDESK_LDAP_USER_SEARCH_BASE": BRANCHES,
        "OPSDESK_LDAP_GROUP_SEARCH_BASE": GROUPS,
        "OPSDESK_LDAP_ROLE_GROUPS": (f"teller={group_dn('OpsDesk-Tellers')};county_support=CN=OpsDesk-County, "
                                     f"OU=Groups, DC=bank, DC=example;manager=OpsDesk-Managers;"
                                     f"administrator={group_dn('OpsDesk-Admins')}"),
        "OPSDESK_LDAP_UNIT_ATTRIBUTE": "department",
        "OPSDESK_LDAP_UNIT_FROM_OU": "true",
        "OPSDESK_LDAP_TIMEOUT": "2",
    }


@pytest.fixture(scope="session")
def slapd(tmp_path_factory):
    server = Slapd(tmp_path_factory.mktemp("slapd"))
    server.build(bank_directory())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def directory(slapd, settings):
    """Directory login switched on against the test slapd, exactly as opsdesk/settings.py reads it."""
    from opsdesk import settings as project_settings

    for name, value in project_settings.directory_login(directory_environment(slapd.uri)).items():
        setattr(settings, name, value)
    backends = list(settings.AUTHENTICATION_BACKENDS)
    backends.insert(backends.index("opsdesk.org.backends.UnitModelBackend"), "opsdesk.org.ldap.DirectoryBackend")
    settings.AUTHENTICATION_BACKENDS = backends
    return slapd
