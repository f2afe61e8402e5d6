"""Create an organisation to run or measure the desk with: `demo` (small) or `bank` (the article's scale).

Idempotent: every unit, person, system and host has a natural key (code / username / host name)
and is only created when missing, so running the seed twice changes nothing. Bank scale uses bulk
inserts and one shared password hash so 20,000 tellers take seconds, not an hour of PBKDF2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.translation import gettext as _

from opsdesk.org.choices import Role, UnitKind
from opsdesk.org.models import Host, ProductionSystem, Unit, User

__all__ = ["seed_org", "SeedReport", "DEMO_PASSWORD", "SCALES", "BREAK_GLASS_USERNAME", "register_demo_seeder"]

DEMO_PASSWORD = "opsdesk-demo"
# The one superuser the seed creates: for emergencies only, and audited on every request.
BREAK_GLASS_USERNAME = "breakglass"

CITY_NAMES = [
    ("GZ", "广州"), ("SZ", "深圳"), ("ZH", "珠海"), ("ST", "汕头"), ("FS", "佛山"), ("SG", "韶关"),
    ("HY", "河源"), ("MZ", "梅州"), ("HZ", "惠州"), ("SW", "汕尾"), ("DG", "东莞"), ("ZS", "中山"),
    ("JM", "江门"), ("YJ", "阳江"), ("ZJ", "湛江"), ("MM", "茂名"), ("ZQ", "肇庆"), ("QY", "清远"),
    ("CZ", "潮州"), ("JY", "揭阳"), ("YF", "云浮"),
]

SUPPORT_GROUPS = [
    ("core", "核心系统组"), ("network", "网络组"), ("database", "数据库组"), ("middleware", "中间件组"),
    ("application", "应用组"), ("host", "主机组"), ("channel", "渠道组"), ("desktop", "终端组"),
]

# The article's named systems first; bank scale adds more up to 30.
SYSTEMS = [
    ("core", "核心系统", "core"), ("frontend", "前置系统", "middleware"), ("counter", "柜面系统", "application"),
    ("ledger", "总账系统", "core"), ("finance", "财务系统", "application"), ("credit", "信贷系统", "application"),
    ("report", "报表系统", "database"),
]
EXTRA_SYSTEMS = [
    "大额支付系统", "小额支付系统", "农信银系统", "金融结算服务系统", "银行卡系统", "网上银行系统", "手机银行系统",
    "客服中心系统", "反洗钱系统", "征信系统", "票据系统", "国际结算系统", "理财系统", "代收付系统", "短信平台",
    "统一认证系统", "数据仓库", "监管报送系统", "柜员管理系统", "档案影像系统", "风险预警系统", "运维监控系统",
    "邮件系统",
]

# A small host catalogue (fictitious names in the style of the data centre's hosts).
DEMO_HOSTS = [
    ("szhxdb01", "10.1.12.21", "AIX 7.2", "core"), ("szhxdb02", "10.1.12.22", "AIX 7.2", "core"),
    ("szhxapp01", "10.1.12.31", "AIX 7.2", "core"), ("szhxapp02", "10.1.12.32", "AIX 7.2", "core"),
    ("szqzapp01", "10.1.13.31", "AIX 7.1", "frontend"), ("szqzapp02", "10.1.13.32", "AIX 7.1", "frontend"),
    ("szgmapp01", "10.1.14.31", "Linux", "counter"), ("szzzdb01", "10.1.15.21", "HP-UX 11.31", "ledger"),
    ("szxdapp01", "10.1.16.31", "Linux", "credit"), ("gdrc-rpt-app01", "10.1.17.31", "Linux", "report"),
]


@dataclass(frozen=True)
class Scale:
    cities: int
    counties_per_city: tuple[int, ...]  # cycled over the cities
    outlets_per_county: int
    tellers_per_outlet: int
    county_support_per_county: int
    city_support_per_city: int
    group_members: int
    systems: int
    hosts: int


SCALES = {
    "demo": Scale(cities=2, counties_per_city=(2,), outlets_per_county=2, tellers_per_outlet=1,
                  county_support_per_county=2, city_support_per_city=1, group_members=2, systems=7, hosts=10),
    # 21 cities, 60 counties (3,3,3,…,2), ~2,000 outlets, ~20,000 tellers, 8 groups, 30 systems, 120 hosts.
    "bank": Scale(cities=21, counties_per_city=(3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2),
                  outlets_per_county=34, tellers_per_outlet=10, county_support_per_county=3,
                  city_support_per_city=3, group_members=5, systems=30, hosts=120),
}


@dataclass
class SeedReport:
    scale: str
    created: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # username, role, unit


# The demo's working set-up beyond the organisation (SLA policies, escalation chains, duty rosters,
# parsing rules) belongs to the apps above this one: each registers a seeder in its AppConfig.ready(),
# and `seed_org("demo")` runs them once the units and people exist. A seeder is idempotent and returns
# {what: how many it created}.
DemoSeeder = Callable[[], dict[str, int]]
_demo_seeders: dict[str, DemoSeeder] = {}


def register_demo_seeder(name: str, seeder: DemoSeeder) -> None:
    _demo_seeders[name] = seeder


def _ensure_units(rows: list[tuple[str, str, str, Unit | None]]) -> dict[str, Unit]:
    """rows: (code, name, kind, parent). Insert the missing ones in bulk; return all by code."""
    codes = [r[0] for r in rows]
    existing = set(Unit.objects.filter(code__in=codes).values_list("code", flat=True))
    new = []
    for code, name, kind, parent in rows:
        if code in existing:
            continue
        path = Unit.build_path(parent, code)
        new.append(Unit(code=code, name=name, kind=kind, parent=parent, path=path, depth=path.count("/") - 1))
    Unit.objects.bulk_create(new, batch_size=1000)
    return {u.code: u for u in Unit.objects.filter(code__in=codes)}


def seed_org(scale: str = "demo") -> SeedReport:
    spec = SCALES[scale]
    report = SeedReport(scale=scale)
    before = {"units": Unit.objects.count(), "people": User.objects.count(),
              "systems": ProductionSystem.objects.count(), "hosts": Host.objects.count()}
    with transaction.atomic():
        province = _ensure_units([("GD", "省中心", UnitKind.PROVINCE, None)])["GD"]
        ops = _ensure_units([("GD-OPS", "运维部", UnitKind.OPERATIONS, province)])["GD-OPS"]
        groups = _ensure_units([(f"SG-{code}", name, UnitKind.SUPPORT_GROUP, ops) for code, name in SUPPORT_GROUPS])
        cities = _ensure_units(
            [(f"C-{code}", f"{name}地市支持中心", UnitKind.CITY, province) for code, name in CITY_NAMES[: spec.cities]]
        )
        county_rows = []
        for i, (code, name) in enumerate(CITY_NAMES[: spec.cities]):
            n = spec.counties_per_city[i % len(spec.counties_per_city)]
            for j in range(1, n + 1):
                county_rows.append((f"K-{code}{j:02d}", f"{name}第{j}县联社支持中心", UnitKind.COUNTY, cities[f"C-{code}"]))
        counties = _ensure_units(county_rows)
        outlet_rows = []
        for county in sorted(counties.values(), key=lambda u: u.code):
            for k in range(1, spec.outlets_per_county + 1):
                outlet_rows.append((f"O-{county.code[2:]}-{k:03d}", f"{county.name[:-4]}第{k}网点", UnitKind.OUTLET, county))
        outlets = _ensure_units(outlet_rows)

        systems = _ensure_systems(spec, groups)
        _ensure_hosts(spec, systems)
        people = _people_rows(spec, province, ops, groups, cities, counties, outlets)
        _ensure_people(people, report, demo=(scale == "demo"))

    after = {"units": Unit.objects.count(), "people": User.objects.count(),
             "systems": ProductionSystem.objects.count(), "hosts": Host.objects.count()}
    report.created = {k: after[k] - before[k] for k in after}
    report.totals = after
    if scale == "demo":
        for _name, seeder in sorted(_demo_seeders.items()):
            with transaction.atomic():
                report.created.update(seeder())
    return report


def _ensure_systems(spec: Scale, groups: dict[str, Unit]) -> dict[str, ProductionSystem]:
    rows = list(SYSTEMS)
    group_codes = [code for code, _ in SUPPORT_GROUPS]
    for i, name in enumerate(EXTRA_SYSTEMS[: max(0, spec.systems - len(SYSTEMS))]):
        rows.append((f"sys{i + 8:02d}", name, group_codes[i % len(group_codes)]))
    existing = set(ProductionSystem.objects.values_list("code", flat=True))
    ProductionSystem.objects.bulk_create(
        [ProductionSystem(code=c, name=n, owner_group=groups[f"SG-{g}"]) for c, n, g in rows if c not in existing]
    )
    return {s.code: s for s in ProductionSystem.objects.all()}


def _ensure_hosts(spec: Scale, systems: dict[str, ProductionSystem]) -> None:
    rows = list(DEMO_HOSTS)
    codes = sorted(systems)
    i = 0
    while len(rows) < spec.hosts:
        code = codes[i % len(codes)]
        rows.append((f"gd-{code}-{i // len(codes) + 1:02d}", f"10.2.{i // 200}.{i % 200 + 10}", "AIX 7.2", code))
        i += 1
    existing = set(Host.objects.values_list("hostname", flat=True))
    Host.objects.bulk_create(
        [Host(hostname=h, ip_address=ip, os=os_, system=systems[s]) for h, ip, os_, s in rows if h not in existing]
    )


def _people_rows(spec, province, ops, groups, cities, counties, outlets) -> list[tuple[str, str, Unit, list[str]]]:
    """(username, display name, unit, roles) for everyone the scale calls for."""
    rows: list[tuple[str, str, Unit, list[str]]] = [
        # Separated administrators (三权分立); no one of them is a superuser.
        ("admin", "系统管理员", province, [Role.SYSTEM_ADMIN]),
        ("manager", "省中心经理", province, [Role.MANAGER]),
        ("dispatcher", "运维调度员", ops, [Role.DISPATCHER]),
        ("dispatcher2", "运维调度员二", ops, [Role.DISPATCHER]),
        ("operator", "值班员", ops, [Role.OPERATOR]),
        ("operator2", "值班员二", ops, [Role.OPERATOR]),
    ]
    for code, group in sorted(groups.items()):
        short = code[3:]
        rows.append((f"lead-{short}", f"{group.name}组长", group, [Role.GROUP_LEAD]))
        for m in range(1, spec.group_members + 1):
            rows.append((f"member-{short}-{m}", f"{group.name}成员{m}", group, [Role.GROUP_MEMBER]))
    for code, city in sorted(cities.items()):
        short = code[2:].lower()
        rows.append((f"manager-{short}", f"{city.name}经理", city, [Role.MANAGER]))
        for m in range(1, spec.city_support_per_city + 1):
            rows.append((f"city-{short}-{m}", f"{city.name}支持{m}", city, [Role.CITY_SUPPORT]))
    for code, county in sorted(counties.items()):
        short = code[2:].lower()
        for m in range(1, spec.county_support_per_county + 1):
            rows.append((f"county-{short}-{m}", f"{county.name}支持{m}", county, [Role.COUNTY_SUPPORT]))
    for code, outlet in sorted(outlets.items()):
        short = code[2:].lower()
        for m in range(1, spec.tellers_per_outlet + 1):
            rows.append((f"teller-{short}-{m}", f"{outlet.name}柜员{m}", outlet, [Role.TELLER]))
    # Last, so that everyone else keeps the mobile number their place in this list gives them.
    rows += [
        ("secadmin", "安全管理员", province, [Role.SECURITY_ADMIN]),
        ("auditor", "审计管理员", province, [Role.AUDIT_ADMIN]),
        # The one break-glass superuser: no role; every request it makes is audited.
        (BREAK_GLASS_USERNAME, "应急账号", province, []),
    ]
    return rows


def _ensure_people(rows, report: SeedReport, *, demo: bool) -> None:
    existing = set(User.objects.values_list("username", flat=True))
    password = make_password(DEMO_PASSWORD)  # one hash shared by every seeded person
    new = []
    for n, (username, display, unit, roles) in enumerate(rows):
        if username not in existing:
            uses_admin = bool({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN} & set(roles))
            break_glass = username == BREAK_GLASS_USERNAME
            new.append(User(
                username=username, display_name=display, unit=unit, roles=[str(r) for r in roles],
                password=password, is_staff=uses_admin or break_glass, is_superuser=break_glass,
                # Fictitious numbers in the 139 0000 xxxx range so demo SMS are obviously fake.
                mobile=f"1390{n:07d}",
            ))
    User.objects.bulk_create(new, batch_size=2000)
    if demo:
        seen_roles: dict[str, int] = {}
        for username, _display, unit, roles in rows:
            role = str(roles[0]) if roles else ""
            if seen_roles.get(role, 0) < 3:
                seen_roles[role] = seen_roles.get(role, 0) + 1
                label = str(Role(role).label) if role else _("Break-glass superuser (audited)")
                report.logins.append((username, label, unit.name))
