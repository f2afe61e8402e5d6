"""A report `Table` as CSV or XLSX, with the same values the page shows."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from reports.selectors import Table

__all__ = ["table_csv", "table_xlsx", "table_records", "plain_value", "inert"]


def table_records(table: Table) -> list[list]:
    """Header, rows and the total row as plain lists of values (labels as text)."""
    keys = table.column_keys()
    out = [[str(c.label) for c in table.columns]]
    for row in table.rows:
        out.append([plain_value(row.get(k)) for k in keys])
    if table.total:
        out.append([plain_value(table.total.get(k)) for k in keys])
    return out


def plain_value(value):
    if value is None or isinstance(value, (int, float)):
        return value
    return str(value)


# A text cell starting with one of these is a formula to Excel/WPS/LibreOffice (CSV and XLSX alike):
# a unit or system name "=HYPERLINK(…)" would run when the manager opens the export (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value):
    """A text value a spreadsheet shows as text: a leading formula character gets a ' before it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def table_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for record in table_records(table):
        writer.writerow(["" if v is None else inert(v) for v in record])
    # A byte-order mark, so that spreadsheet programs read the Chinese right.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_xlsx(table: Table) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.slug
    records = table_records(table)
    for record in records:
        sheet.append([inert(v) for v in record])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    if table.total:
        for cell in sheet[len(records)]:
            cell.font = Font(bold=True)
    for i, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width = max(10, len(str(column.label)) * 2)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
