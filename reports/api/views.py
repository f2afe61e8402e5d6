"""The statistics through the REST API: the same tables as the pages, as JSON. The viewset has no
queryset of its own: `reports.selectors` restricts every summary it reads (`Scope.SELECTORS` of the
API base), with the rules in `reports/scoping.py`."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.reverse import reverse

from opsdesk.api.base import ScopedViewSet
from opsdesk.api.errors import service_errors
from reports.exports import plain_value
from reports.forms import ReportFilterForm
from reports.selectors import REPORTS, report_table

__all__ = ["ReportViewSet"]


FILTER_PARAMETERS = [
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="first day (default: 29 days before date_to)"),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="last day (default: today)"),
    OpenApiParameter("unit", OpenApiTypes.INT, description="the unit drilled into (default: your scope)"),
    OpenApiParameter("grain", OpenApiTypes.STR, enum=["day", "week", "month"], description="trends only"),
    OpenApiParameter("compare_from", OpenApiTypes.DATE, description="compare only"),
    OpenApiParameter("compare_to", OpenApiTypes.DATE, description="compare only"),
]


@extend_schema_view(
    list=extend_schema(operation_id="reports_list", responses=OpenApiTypes.OBJECT),
    retrieve=extend_schema(operation_id="reports_table", parameters=FILTER_PARAMETERS,
                           responses=OpenApiTypes.OBJECT),
)
class ReportViewSet(ScopedViewSet):
    """`/api/reports/` lists the reports; `/api/reports/<name>/?date_from=&date_to=&unit=&grain=
    &compare_from=&compare_to=` returns one, scoped to the caller."""

    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = "[a-z_]+"

    def list(self, request):
        return Response([{"name": slug, "title": str(label),
                          "url": reverse("report-detail", args=[slug], request=request)}
                         for slug, (label, _fn) in REPORTS.items()])

    def retrieve(self, request, pk=None):
        if pk not in REPORTS:
            raise exceptions.NotFound()
        form = ReportFilterForm(request.query_params)
        if not form.is_valid():
            raise exceptions.ValidationError(form.errors)
        filters = form.cleaned_data["filter"]
        with service_errors():
            table = report_table(request.user, pk, filters)
        keys = table.column_keys()
        return Response({
            "name": table.slug, "title": str(table.title), "filters": filters.as_params(),
            "unit": {"id": table.root.pk, "name": table.root.name, "kind": table.root.kind} if table.root else None,
            "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind} for c in table.columns],
            "rows": [{**{k: plain_value(r.get(k)) for k in keys}, **({"unit_id": r["unit_id"]} if "unit_id" in r else {})}
                     for r in table.rows],
            "total": {k: plain_value(table.total.get(k)) for k in keys} if table.total else None,
        })
