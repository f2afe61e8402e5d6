"""The audit administrator's page: the security audit and the configuration history, filtered, and
their CSV exports. Nobody else opens it (403); the break-glass superuser does, and is audited."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from opsdesk.audit import exports, selectors
from opsdesk.audit.forms import AuditFilterForm

__all__ = ["index", "export_events", "export_changes"]


def _filters(request: HttpRequest) -> tuple[AuditFilterForm, dict]:
    if not selectors.may_read_audit(request.user):
        raise PermissionDenied(_("Only the audit administrator may read the security audit."))
    form = AuditFilterForm(request.GET or None)
    return form, (form.filters() if form.is_valid() else {})


@login_required
def index(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    events = selectors.security_event_list(user=request.user, **filters)
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    change_filters = {k: filters[k] for k in ("start", "end", "person") if k in filters}
    changes = selectors.configuration_change_list(user=request.user, limit=100, **change_filters)
    return render(request, "audit/index.html", {
        "title": _("Security audit"), "form": form, "page": page, "changes": changes,
        "history_available": selectors.history_available(), "query": request.GET.urlencode(),
    }, status=400 if form.errors else 200)


def _csv(body: str, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


@login_required
def export_events(request: HttpRequest) -> HttpResponse:
    _form, filters = _filters(request)
    return _csv(exports.security_events_csv(selectors.security_event_list(user=request.user, **filters)),
                "security-audit")


@login_required
def export_changes(request: HttpRequest) -> HttpResponse:
    _form, filters = _filters(request)
    change_filters = {k: filters[k] for k in ("start", "end", "person") if k in filters}
    return _csv(exports.configuration_changes_csv(
        selectors.configuration_change_list(user=request.user, limit=100_000, **change_filters)),
        "configuration-history")
