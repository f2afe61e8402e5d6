"""Import the organisation and its people from the bank's teller-management export (XLSX or CSV).

One row may describe a unit (机构号 with 机构名称/上级机构号/机构类型), a person (柜员号 with 姓名/手机号/
角色, in the unit 机构号), or both; a unit repeated on many people's rows is read once. Keys: the unit
code and the teller number (the person's user name, the same as their directory account). A run is
planned first (`plan_import`): units and people to create or update, and per-row errors (bad mobile,
unknown parent or unit, a parent cycle, unknown role or kind), which never stop the good rows unless
`strict`. `apply_import` then writes the plan in one transaction. Re-running a file changes nothing.
Nobody is ever deleted: with `deactivate_missing`, active people of the file's units whom the file no
longer lists are marked inactive.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from opsdesk.org.choices import ROLE_UNIT_KINDS, Role, UnitKind
from opsdesk.org.models import Unit, User, normalize_mobile, unit_code_validator, validate_mobile

__all__ = ["HEADERS", "ImportPlan", "ImportFileError", "read_rows", "plan_import", "apply_import"]

# Accepted column headers (case and surrounding spaces ignored): Chinese as the export writes them, or English.
HEADERS: dict[str, tuple[str, ...]] = {
    "unit_code": ("机构号", "机构代码", "机构编号", "unit_code", "unit code", "unit"),
    "unit_name": ("机构名称", "机构名", "unit_name", "unit name"),
    "parent_code": ("上级机构号", "上级机构", "上级机构代码", "parent_code", "parent code", "parent"),
    "unit_kind": ("机构类型", "机构级别", "unit_kind", "unit kind", "kind"),
    "teller_number": ("柜员号", "工号", "teller_number", "teller number", "teller", "username"),
    "name": ("姓名", "name"),
    "mobile": ("手机号", "手机号码", "手机", "mobile"),
    "roles": ("角色", "roles", "role"),
}
ROLE_SEPARATORS = ("、", "，", ",", ";", "；", "/")


class ImportFileError(Exception):
    """The file as a whole cannot be read (format, encoding, no known headers)."""


@dataclass
class ImportPlan:
    units_to_create: list[dict] = field(default_factory=list)
    units_to_update: list[tuple[Unit, dict]] = field(default_factory=list)  # unit, {field: (old, new)}
    people_to_create: list[dict] = field(default_factory=list)
    people_to_update: list[tuple[User, dict]] = field(default_factory=list)
    people_to_deactivate: list[User] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number in the file, message)

    @property
    def changes(self) -> int:
        return (len(self.units_to_create) + len(self.units_to_update) + len(self.people_to_create)
                + len(self.people_to_update) + len(self.people_to_deactivate))

    def lines(self) -> list[str]:
        """The diff, one line per change or error, for the operator."""
        out = [_("Units: %(c)d to create, %(u)d to update. People: %(pc)d to create, %(pu)d to update, "
                 "%(pd)d to deactivate. Errors: %(e)d.") % {
            "c": len(self.units_to_create), "u": len(self.units_to_update), "pc": len(self.people_to_create),
            "pu": len(self.people_to_update), "pd": len(self.people_to_deactivate), "e": len(self.errors)}]
        out += [f"+ {_('unit')} {u['code']} {u['name']} ({u['kind']}, ↑{u['parent'] or '-'})" for u in self.units_to_create]
        out += [f"~ {_('unit')} {unit.code}: " + "; ".join(f"{k} {o} → {n}" for k, (o, n) in diff.items())
                for unit, diff in self.units_to_update]
        out += [f"+ {_('person')} {p['username']} {p['display_name']} ({p['unit']}, {', '.join(p['roles'])})"
                for p in self.people_to_create]
        out += [f"~ {_('person')} {person.username}: " + "; ".join(f"{k} {o} → {n}" for k, (o, n) in diff.items())
                for person, diff in self.people_to_update]
        out += [f"- {_('person')} {person.username} {person.display_name}: {_('deactivated')}"
                for person in self.people_to_deactivate]
        out += [_("row %(row)d: %(message)s") % {"row": row, "message": message} for row, message in self.errors]
        return out


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(row number, {field: value}) for every non-empty data row of an .xlsx or a UTF-8/GBK .csv."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        import openpyxl

        try:
            sheet = openpyxl.load_workbook(path, read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise ImportFileError(_("%(file)s: not a readable .xlsx workbook (%(error)s)") % {
                "file": path.name, "error": exc}) from None
        table = [["" if v is None else str(v).strip() for v in row] for row in sheet.iter_rows(values_only=True)]
    elif suffix == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):  # GB18030 reads every GBK file
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ImportFileError(_("%(file)s: neither UTF-8 nor GBK text") % {"file": path.name})
        table = [[v.strip() for v in row] for row in csv.reader(io.StringIO(text))]
    else:
        raise ImportFileError(_("%(file)s: expected an .xlsx or .csv file") % {"file": path.name})
    aliases = {alias.lower(): key for key, names in HEADERS.items() for alias in names}
    for index, row in enumerate(table):
        if any(row):
            columns = [aliases.get(cell.lower()) for cell in row]
            header_row = index
            break
    else:
        raise ImportFileError(_("%(file)s: the file is empty") % {"file": path.name})
    if "unit_code" not in columns:
        raise ImportFileError(_("%(file)s: no unit code column (机构号 / unit_code) in the first row") % {
            "file": path.name})
    rows = []
    for index, row in enumerate(table[header_row + 1:], start=header_row + 2):
        values = {key: (row[i] if i < len(row) else "") for i, key in enumerate(columns) if key}
        if any(values.values()):
            rows.append((index, values))
    return rows


def _kind_lookup() -> dict[str, str]:
    lookup = {k.lower(): k for k in UnitKind.values}
    with translation.override("zh-hans"):
        lookup |= {str(label): value for value, label in UnitKind.choices}
    # The names the bank's export uses for its levels.
    lookup |= {"省联社": UnitKind.PROVINCE, "省中心": UnitKind.PROVINCE, "地市": UnitKind.CITY,
               "市": UnitKind.CITY, "县": UnitKind.COUNTY, "县联社": UnitKind.COUNTY, "网点": UnitKind.OUTLET,
               "营业网点": UnitKind.OUTLET, "支持小组": UnitKind.SUPPORT_GROUP}
    return lookup


def _role_lookup() -> dict[str, str]:
    lookup = {r.lower(): r for r in Role.values}
    with translation.override("zh-hans"):
        lookup |= {str(label): value for value, label in Role.choices}
    # Short names the export uses.
    lookup |= {"县级支持": Role.COUNTY_SUPPORT, "地市支持": Role.CITY_SUPPORT, "调度员": Role.DISPATCHER,
               "值班员": Role.OPERATOR, "经理": Role.MANAGER, "组长": Role.GROUP_LEAD, "组员": Role.GROUP_MEMBER}
    return lookup


def plan_import(rows: list[tuple[int, dict[str, str]]], *, deactivate_missing: bool = False) -> ImportPlan:
    plan = ImportPlan()
    kinds, role_names = _kind_lookup(), _role_lookup()
    existing_units = {u.code: u for u in Unit.objects.all()}
    # --- units: one definition per code, the first row that names it
    defined: dict[str, dict] = {}
    for number, row in rows:
        code = row.get("unit_code", "")
        if not code or not (row.get("unit_name") or row.get("unit_kind") or row.get("parent_code")):
            continue
        try:
            unit_code_validator(code)
        except ValidationError:
            plan.errors.append((number, _("unit code %(code)r: use 1–32 letters, digits, '-' or '_'") % {"code": code}))
            continue
        kind = kinds.get(row.get("unit_kind", "").lower()) or kinds.get(row.get("unit_kind", ""))
        if not kind:
            plan.errors.append((number, _("unit %(code)s: unknown unit kind %(kind)r") % {
                "code": code, "kind": row.get("unit_kind", "")}))
            continue
        entry = {"row": number, "code": code, "name": row.get("unit_name") or code, "kind": kind,
                 "parent": row.get("parent_code", "") or None}
        if code in defined:
            if any(defined[code][k] != entry[k] for k in ("name", "kind", "parent")):
                plan.errors.append((number, _("unit %(code)s: described differently on row %(first)d") % {
                    "code": code, "first": defined[code]["row"]}))
            continue
        defined[code] = entry
    # Parents: known in the database or in the file; no cycles (the file's parents replace the database's).
    parent_of: dict[str, str | None] = {code: None for code in existing_units}
    for u in Unit.objects.select_related("parent").exclude(parent=None):
        parent_of[u.code] = u.parent.code
    for code, entry in list(defined.items()):
        parent_of[code] = entry["parent"]
    bad: set[str] = set()
    for code, entry in defined.items():
        if entry["parent"] and entry["parent"] not in parent_of:
            plan.errors.append((entry["row"], _("unit %(code)s: unknown parent unit %(parent)s") % {
                "code": code, "parent": entry["parent"]}))
            bad.add(code)
            continue
        seen, cursor = {code}, entry["parent"]
        while cursor:
            if cursor in seen:
                plan.errors.append((entry["row"], _("unit %(code)s: its parent %(parent)s makes a cycle") % {
                    "code": code, "parent": entry["parent"]}))
                bad.add(code)
                break
            seen.add(cursor)
            cursor = parent_of.get(cursor)
    # A unit under a refused unit cannot be placed either.
    changed = True
    while changed:
        changed = False
        for code, entry in defined.items():
            if code not in bad and entry["parent"] in bad and entry["parent"] not in existing_units:
                plan.errors.append((entry["row"], _("unit %(code)s: its parent %(parent)s has an error") % {
                    "code": code, "parent": entry["parent"]}))
                bad.add(code)
                changed = True
    good = {code: entry for code, entry in defined.items() if code not in bad}

    def depth(code: str) -> int:
        d, cursor = 0, parent_of.get(code)
        while cursor:
            d, cursor = d + 1, parent_of.get(cursor)
        return d

    for code in sorted(good, key=depth):  # parents first
        entry = good[code]
        unit = existing_units.get(code)
        if unit is None:
            plan.units_to_create.append(entry)
            continue
        diff = {}
        for name, old in (("name", unit.name), ("kind", unit.kind),
                          ("parent", unit.parent.code if unit.parent_id else None)):
            if old != entry[name]:
                diff[name] = (old, entry[name])
        if diff:
            plan.units_to_update.append((unit, diff))
    final_kind = {code: u.kind for code, u in existing_units.items()} | {c: e["kind"] for c, e in good.items()}
    # --- people
    existing_people = {u.username.lower(): u for u in User.objects.select_related("unit")}
    listed: set[str] = set()
    for number, row in rows:
        username = row.get("teller_number", "")
        if not username:
            continue
        code = row.get("unit_code", "")
        if username.lower() in listed:
            plan.errors.append((number, _("teller %(teller)s appears twice") % {"teller": username}))
            continue
        listed.add(username.lower())
        if code not in final_kind or code in bad:
            plan.errors.append((number, _("teller %(teller)s: unknown unit %(code)s") % {"teller": username, "code": code}))
            continue
        mobile = normalize_mobile(row.get("mobile", ""))
        try:
            validate_mobile(mobile)
        except ValidationError:
            plan.errors.append((number, _("teller %(teller)s: bad mobile number %(mobile)r") % {
                "teller": username, "mobile": row.get("mobile", "")}))
            continue
        words = [row.get("roles", "")]
        for separator in ROLE_SEPARATORS:
            words = [part for word in words for part in word.split(separator)]
        words = [w.strip() for w in words if w.strip()]
        roles = [role_names.get(w.lower()) or role_names.get(w) for w in words]
        if not words or None in roles:
            plan.errors.append((number, _("teller %(teller)s: unknown role %(role)r") % {
                "teller": username, "role": row.get("roles", "")}))
            continue
        misfit = [r for r in roles if final_kind[code] not in ROLE_UNIT_KINDS[r]]
        if misfit:
            plan.errors.append((number, _("teller %(teller)s: role %(role)s does not fit unit %(code)s") % {
                "teller": username, "role": ", ".join(misfit), "code": code}))
            continue
        wanted = {"username": username, "display_name": row.get("name", "")[:60], "unit": code,
                  "mobile": mobile, "roles": list(dict.fromkeys(roles))}
        person = existing_people.get(username.lower())
        if person is None:
            plan.people_to_create.append(wanted)
            continue
        current = {"display_name": person.display_name, "unit": person.unit.code if person.unit_id else None,
                   "mobile": person.mobile, "roles": list(person.roles)}
        diff = {k: (current[k], wanted[k]) for k in current if current[k] != wanted[k]}
        if not person.is_active:
            diff["is_active"] = (False, True)
        if diff:
            plan.people_to_update.append((person, diff))
    if deactivate_missing:
        units_in_file = {row.get("unit_code") for _n, row in rows if row.get("teller_number")}
        plan.people_to_deactivate = [
            p for p in existing_people.values()
            if p.is_active and not p.is_superuser and p.unit_id and p.unit.code in units_in_file
            and p.username.lower() not in listed]
    return plan


@transaction.atomic
def apply_import(plan: ImportPlan) -> None:
    """Write the plan: units parents first, then people (new ones without a password: they sign in
    through the directory, or an administrator sets one)."""
    units = {u.code: u for u in Unit.objects.select_for_update()}
    for entry in plan.units_to_create:
        units[entry["code"]] = Unit.objects.create(
            code=entry["code"], name=entry["name"], kind=entry["kind"], parent=units.get(entry["parent"] or ""))
    for unit, diff in plan.units_to_update:
        unit = units[unit.code]
        for name, (_old, new) in diff.items():
            if name == "parent":
                unit.parent = units.get(new or "")
            else:
                setattr(unit, name, new)
        unit.save()
    for wanted in plan.people_to_create:
        person = User(username=wanted["username"], display_name=wanted["display_name"], unit=units[wanted["unit"]],
                      mobile=wanted["mobile"], roles=wanted["roles"])
        person.set_unusable_password()
        person.save()
    for person, diff in plan.people_to_update:
        for name, (_old, new) in diff.items():
            setattr(person, name, units[new] if name == "unit" else new)
        person.save()
    for person in plan.people_to_deactivate:
        person.is_active = False
        person.save(update_fields=["is_active"])
