"""Project-level pages: the home page that sends each person to their start page, health checks."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from opsdesk.org.navigation import start_page_for

__all__ = ["home", "healthz", "readyz"]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    start = start_page_for(request.user)
    if start:
        return redirect(start)
    # Someone without a role yet: tell them, rather than showing an empty desk.
    return render(request, "opsdesk/no_role.html", status=200)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database (and broker, when configured) answer."""
    from opsdesk.preflight import ServiceUnavailable, check_broker

    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means not ready
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        check_broker()
        checks["broker"] = "ok"
    except ServiceUnavailable as exc:
        checks["broker"] = f"error: {exc}"
    ready = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


@login_required
def placeholder(request: HttpRequest, title: str = "") -> HttpResponse:
    """A page whose capability is still being built: says so in the person's language."""
    return render(request, "opsdesk/placeholder.html", {"title": title})
