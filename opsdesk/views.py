"""Project-level pages: the home page that sends each person to their start page, health checks,
and the answer when something fails on the desk's side."""

from __future__ import annotations

import sys

from django.contrib.auth.decorators import login_required
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from opsdesk.org.navigation import start_page_for

__all__ = ["home", "healthz", "readyz", "server_error", "bad_request", "permission_denied", "page_not_found",
           "csrf_failure", "bad_request_response"]

RETRY_AFTER_SECONDS = 5


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
    """Readiness: the process answers and reaches the database.

    Not the broker: pages, the API and filing work without Redis (what could not be queued is in the
    database, and the periodic dispatchers hand it over once the broker is back), so a broker outage
    must not take every web pod out of service. Its health is the metric opsdesk_broker_up and the alert OpsDeskBrokerDown."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means not ready
        checks["database"] = f"error: {exc.__class__.__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 handler (Django calls it while the exception is being handled).

    A database that cannot be reached (restarting, failing over, out of connections) is a passing
    state, not a fault of the request: it answers 503 with Retry-After, so people and API clients
    try again. Every transition and filing is one transaction, so nothing is half-written, but the
    connection may have dropped after a commit, so the message does not claim nothing changed.
    This view itself touches no database (no session, no navigation)."""
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        status = 503
        message = _("The database could not be reached just now. Wait a few seconds, then reload to see "
                    "whether your last step was saved.")
    else:
        status = 500
        message = _("Something went wrong on the desk's side; it has been logged. Try again, or tell the "
                    "administrator what you were doing.")
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=status)
    else:
        response = HttpResponse(_server_error_page(status, message), status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _server_error_page(status: int, message: str) -> str:
    """The site's layout without the request (no context processors: no session, user or
    navigation, hence no database); the bare page if even the templates fail."""
    title = _("Service unavailable") if status == 503 else _("Something went wrong")
    try:
        return render_to_string("opsdesk/error_page.html", {"kind": str(status), "title": title, "message": message})
    except Exception:  # the templates themselves may be what failed
        return (f'<!doctype html><html lang="{escape(get_language() or "zh-hans")}"><head><meta charset="utf-8">'
                f"<title>OpsDesk</title></head><body><h1>{escape(title)}</h1><p>{escape(message)}</p></body></html>")


# The 4xx pages: Chinese first, inside the site's layout (navigation for a logged-in person), and for
# /api/ a JSON body with `detail`, as DRF answers. Django's defaults are bare English pages.

def _error_response(request: HttpRequest, status: int, kind: str, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "opsdesk/error_page.html", {"kind": kind, "title": title, "message": message},
                  status=status)


def bad_request_response(request: HttpRequest, message: str) -> HttpResponse:
    """A 400 with a reason the person can act on (InputSafetyMiddleware, handler400)."""
    return _error_response(request, 400, "400", _("Bad request"), message)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return bad_request_response(request, _("The request could not be understood. Check the address or the "
                                           "values you entered and try again."))


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    # A service's refusal carries its own translated reason; show it, else the general one.
    reason = str(exception) if exception is not None and str(exception) else ""
    return _error_response(request, 403, "403", _("Not allowed"),
                           reason or _("You do not have permission to see or do this."))


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _error_response(request, 404, "404", _("Page not found"),
                           _("There is nothing at this address, or it is not one you may see."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the form was stale or posted from elsewhere; the reason stays in the log."""
    message = _("The form could not be accepted: it was open too long or was sent from another site. Go back, "
                "reload the page and send it again.")
    return _error_response(request, 403, "csrf", _("Form expired"), message)
