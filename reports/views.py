"""The statistics pages and their CSV/XLSX downloads: thin, the selectors compute everything."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from opsdesk import scoping
from reports.exports import table_csv, table_xlsx
from reports.forms import ReportFilterForm
from reports.selectors import REPORTS, REQUESTS_KEY, drill_path, report_table

__all__ = ["report_page", "report_export", "requests_url"]

EXPORTS = {
    "csv": ("text/csv; charset=utf-8", table_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", table_xlsx),
}


def _tabs(user) -> list[tuple[str, str]]:
    province_wide = any(r.depth == 0 for r in scoping.report_roots(user))
    return [(slug, label) for slug, (label, _fn) in REPORTS.items()
            if province_wide or slug not in ("systems", "incidents")]


def requests_url(filters: dict) -> str:
    """The request search showing the requests behind a number (filters in the search's words)."""
    return f"{reverse('tickets:search')}?{urlencode(filters)}"


def _cells(table, row: dict, drill_url: str | None) -> list[tuple]:
    """(column key, kind, value, drill-down link, requests link) per cell, worked out here so the
    template only loops."""
    cells = []
    behind = row.get(REQUESTS_KEY) or {}
    for i, column in enumerate(table.columns):
        value = row.get(column.key)
        link = f"{drill_url}{row['unit_id']}" if i == 0 and drill_url and row.get("drill") else None
        requests = requests_url(behind[column.key]) if column.key in behind and value not in (None, "") else None
        cells.append((column.key, column.kind, "" if value is None else value, link, requests))
    return cells


def _chart(table) -> dict:
    """The chart's data: the rows of one unit of measure only (`where` in the table's chart)."""
    where = table.chart.get("where", {})
    rows = [{k: v for k, v in row.items() if k != REQUESTS_KEY} for row in table.rows
            if all(row.get(k) == v for k, v in where.items())]
    return {**{k: v for k, v in table.chart.items() if k != "where"}, "rows": rows,
            "labels": {c.key: str(c.label) for c in table.columns}}


@login_required
def report_page(request, slug: str = "units"):
    if slug not in REPORTS:
        raise Http404
    if not scoping.report_roots(request.user):
        raise PermissionDenied(_("You have no statistics to read."))
    form = ReportFilterForm(request.GET or None)
    status = 200
    table = None
    if request.GET and not form.is_valid():
        status = 400
    else:
        if not request.GET:
            form = ReportFilterForm({})
            form.is_valid()
        filters = form.cleaned_data["filter"]
        table = report_table(request.user, slug, filters)
        # The boxes show the range in force, the defaults included (not blank while they apply).
        form = ReportFilterForm(filters.as_params())
        form.is_valid()
    context = {"slug": slug, "tabs": _tabs(request.user), "form": form, "table": table, "title": REPORTS[slug][0]}
    if table is not None:
        params = filters.as_params()
        drill_url = reverse("reports:report", args=[slug]) + "?" + urlencode(
            {k: v for k, v in params.items() if k != "unit"}) + "&unit="
        context.update(
            filters=filters, query=urlencode(params),
            base_query=urlencode({k: v for k, v in params.items() if k != "unit"}),
            crumbs=drill_path(request.user, table.root) if table.root else [],
            chart=_chart(table),
            body=[_cells(table, row, drill_url) for row in table.rows],
            foot=_cells(table, table.total, None) if table.total else None,
        )
    return render(request, "reports/report.html", context, status=status)


@login_required
def report_export(request, slug: str, fmt: str):
    if slug not in REPORTS or fmt not in EXPORTS:
        raise Http404
    form = ReportFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponse("; ".join(m for ms in form.errors.values() for m in ms), status=400,
                            content_type="text/plain; charset=utf-8")
    filters = form.cleaned_data["filter"]
    table = report_table(request.user, slug, filters)
    content_type, render_file = EXPORTS[fmt]
    response = HttpResponse(render_file(table), content_type=content_type)
    name = f"opsdesk-{slug}-{filters.date_from:%Y%m%d}-{filters.date_to:%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
