"""The organisation and its people imported from the teller-management export: XLSX and GBK CSV."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from opsdesk.org.models import Unit, User

pytestmark = pytest.mark.django_db

HEADER = ["机构号", "机构名称", "上级机构号", "机构类型", "柜员号", "姓名", "手机号", "角色"]
ROWS = [
    ["O9", "网点9", "K1", "网点", "T9001", "张三", "138 0013 8000", "柜员"],
    ["O9", "网点9", "K1", "网点", "T9002", "李四", "+8613900139000", "teller"],
    ["K1", "县1联社", "C1", "县", "K9001", "王五", "13700137000", "县级支持、经理"],
    ["O1", "网点1", "K1", "网点", "teller1", "网点一柜员", "", "柜员"],  # an existing person, renamed
    ["O8", "网点8", "K4", "网点", "T9003", "坏号码", "1234", "柜员"],  # bad mobile
    ["OX", "孤儿网点", "NOPE", "网点", "T9004", "赵六", "", "柜员"],  # unknown parent
    ["O2", "网点2", "K1", "网点", "T9005", "钱七", "", "出纳"],  # unknown role
    ["K2", "县2", "O9", "县", "", "", "", ""],  # parent cycle? no: K2 under O9 is allowed by tree, kind fits
]


def write_xlsx(path, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def run(path, *args):
    out = io.StringIO()
    try:
        call_command("import_people", str(path), *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), str(exc)
    return out.getvalue(), ""


def test_dry_run_prints_the_diff_and_changes_nothing(org, tmp_path):
    path = write_xlsx(tmp_path / "export.xlsx", ROWS[:5])
    before = (Unit.objects.count(), User.objects.count())
    out, error = run(path, "--dry-run")
    assert (Unit.objects.count(), User.objects.count()) == before
    assert "O9 网点9" in out.splitlines()[1]  # the new outlet
    assert "T9001" in out and "张三" in out
    assert "teller1" in out and "网点一柜员" in out  # the update, with the new name
    assert any("6" in line and "1234" in line for line in out.splitlines())  # the bad mobile, its row number
    assert error == ""


def test_import_creates_updates_reports_row_errors_and_a_rerun_changes_nothing(org, tmp_path):
    path = write_xlsx(tmp_path / "export.xlsx", ROWS[:7])
    out, error = run(path)
    assert "3" in error  # three rows skipped, the good ones imported
    outlet = Unit.objects.get(code="O9")
    assert (outlet.name, outlet.kind, outlet.parent.code, outlet.path) == ("网点9", "outlet", "K1", "P/C1/K1/O9/")
    assert Unit.objects.get(code="K1").name == "县1联社"
    zhang = User.objects.get(username="T9001")
    assert (zhang.display_name, zhang.unit, zhang.mobile, zhang.roles) == ("张三", outlet, "13800138000", ["teller"])
    assert not zhang.has_usable_password()  # they sign in through the directory or get a password from the admin
    assert User.objects.get(username="T9002").mobile == "13900139000"
    assert User.objects.get(username="K9001").roles == ["county_support", "manager"]
    assert User.objects.get(username="teller1").display_name == "网点一柜员"
    assert not User.objects.filter(username__in=["T9003", "T9004", "T9005"]).exists()
    assert not Unit.objects.filter(code="OX").exists()
    for row, why in ((6, "1234"), (7, "NOPE"), (8, "出纳")):
        assert any(f"{row}" in line and why in line for line in out.splitlines()), (row, out)

    units, people = list(Unit.objects.values_list("code", "name", "path")), list(
        User.objects.values_list("username", "display_name", "mobile", "roles", "unit_id", "is_active"))
    again, _error = run(path, "--dry-run")
    assert again.splitlines()[0].count(" 0") >= 5  # nothing to create, update or deactivate
    run(path)
    assert list(Unit.objects.values_list("code", "name", "path")) == units
    assert list(User.objects.values_list("username", "display_name", "mobile", "roles", "unit_id",
                                         "is_active")) == people


def test_strict_changes_nothing_when_a_row_is_wrong(org, tmp_path):
    path = write_xlsx(tmp_path / "export.xlsx", ROWS[:5])
    _out, error = run(path, "--strict")
    assert "--strict" in error
    assert not User.objects.filter(username="T9001").exists() and not Unit.objects.filter(code="O9").exists()


def test_a_parent_cycle_is_a_row_error(org, tmp_path):
    rows = [["K1", "县1", "O1", "县", "", "", "", ""]]  # O1 is under K1: K1 under O1 would be a circle
    out, _error = run(write_xlsx(tmp_path / "cycle.xlsx", rows))
    assert "cycle" in out or "循环" in out
    assert Unit.objects.get(code="K1").parent.code == "C1"


def test_a_gbk_csv_from_the_bank_imports_like_the_xlsx(org, tmp_path):
    text = io.StringIO()
    csv.writer(text).writerows([HEADER, *ROWS[:2]])
    path = tmp_path / "export.csv"
    path.write_bytes(text.getvalue().encode("gbk"))
    out, error = run(path)
    assert error == ""
    assert User.objects.get(username="T9001").display_name == "张三"
    assert User.objects.get(username="T9002").unit.code == "O9"


def test_english_headers_are_accepted(org, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("unit_code,unit_name,parent_code,unit_kind,teller_number,name,mobile,roles\n"
                    "O9,Outlet 9,K1,outlet,T9001,Zhang San,13800138000,teller\n", encoding="utf-8")
    run(path)
    assert User.objects.get(username="T9001").unit.name == "Outlet 9"


def test_people_are_never_deleted_only_deactivated_on_request(org, tmp_path):
    path = write_xlsx(tmp_path / "export.xlsx", [["O1", "网点1", "K1", "网点", "T9001", "张三", "", "柜员"]])
    run(path)
    assert User.objects.get(username="teller1").is_active  # not in the file, kept as it was
    run(path, "--deactivate-missing")
    assert not User.objects.get(username="teller1").is_active
    assert User.objects.filter(username="teller1").exists()


def test_an_unreadable_file_is_one_clear_line(org, tmp_path):
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"not a workbook")
    _out, error = run(path)
    assert "export.xlsx" in error and "\n" not in error
