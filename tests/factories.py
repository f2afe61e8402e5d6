"""Test data built through the same models and services the desk uses."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from opsdesk.org.choices import Role, UnitKind
from opsdesk.org.models import Host, ProductionSystem, Unit, User

__all__ = ["make_unit", "make_person", "make_system", "OrgTree", "build_org", "PASSWORD"]

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def make_unit(kind: str, parent: Unit | None = None, *, code: str | None = None, name: str | None = None) -> Unit:
    n = next(_seq)
    return Unit.objects.create(code=code or f"{kind[:3].upper()}{n:04d}", name=name or f"{kind}-{n}", kind=kind,
                               parent=parent)


def make_person(unit: Unit | None, *roles: str, username: str | None = None, mobile: str | None = None,
                **extra) -> User:
    n = next(_seq)
    person = User(username=username or f"user{n}", display_name=f"测试用户{n}", unit=unit,
                  roles=[str(r) for r in roles], mobile=mobile if mobile is not None else f"138{n % 100_000_000:08d}",
                  **extra)
    person.set_password(PASSWORD)
    person.full_clean()
    person.save()
    return person


def make_system(group: Unit, *, code: str | None = None, name: str | None = None) -> ProductionSystem:
    n = next(_seq)
    return ProductionSystem.objects.create(code=code or f"sys{n}", name=name or f"系统{n}", owner_group=group)


def make_host(system: ProductionSystem, hostname: str) -> Host:
    return Host.objects.create(hostname=hostname, system=system)


@dataclass
class OrgTree:
    """A province with two cities, each with two counties of two outlets, two groups and people."""

    province: Unit
    ops: Unit
    groups: list[Unit]
    cities: list[Unit]
    counties: list[Unit]  # counties[0:2] under cities[0], counties[2:4] under cities[1]
    outlets: list[Unit]  # outlets[2k:2k+2] under counties[k]
    people: dict[str, User] = field(default_factory=dict)
    systems: list[ProductionSystem] = field(default_factory=list)


def build_org() -> OrgTree:
    province = make_unit(UnitKind.PROVINCE, code="P", name="省中心")
    ops = make_unit(UnitKind.OPERATIONS, province, code="OPS", name="运维部")
    groups = [make_unit(UnitKind.SUPPORT_GROUP, ops, code=f"G{i}", name=f"支持小组{i}") for i in (1, 2)]
    cities = [make_unit(UnitKind.CITY, province, code=f"C{i}", name=f"地市{i}") for i in (1, 2)]
    counties = [make_unit(UnitKind.COUNTY, cities[i // 2], code=f"K{i + 1}", name=f"县{i + 1}") for i in range(4)]
    outlets = [make_unit(UnitKind.OUTLET, counties[i // 2], code=f"O{i + 1}", name=f"网点{i + 1}") for i in range(8)]
    tree = OrgTree(province, ops, groups, cities, counties, outlets)
    p = tree.people
    p["admin"] = make_person(province, Role.ADMINISTRATOR, username="admin", is_staff=True)
    p["teller"] = make_person(outlets[0], Role.TELLER, username="teller1")
    p["teller_other"] = make_person(outlets[7], Role.TELLER, username="teller8")
    p["county"] = make_person(counties[0], Role.COUNTY_SUPPORT, username="county1")
    p["county_other"] = make_person(counties[3], Role.COUNTY_SUPPORT, username="county4")
    p["city"] = make_person(cities[0], Role.CITY_SUPPORT, username="city1")
    p["city_other"] = make_person(cities[1], Role.CITY_SUPPORT, username="city2")
    p["dispatcher"] = make_person(ops, Role.DISPATCHER, username="dispatcher")
    p["member"] = make_person(groups[0], Role.GROUP_MEMBER, username="member1")
    p["lead"] = make_person(groups[0], Role.GROUP_LEAD, username="lead1")
    p["member_other"] = make_person(groups[1], Role.GROUP_MEMBER, username="member2")
    p["operator"] = make_person(ops, Role.OPERATOR, username="operator")
    p["manager"] = make_person(province, Role.MANAGER, username="manager")
    p["city_manager"] = make_person(cities[0], Role.MANAGER, username="manager_c1")
    tree.systems = [make_system(groups[0], code="core", name="核心系统"),
                    make_system(groups[1], code="credit", name="信贷系统")]
    return tree
