"""The desk's own HTTP traffic, measured in every web process: requests, latency and exceptions by view.

Unlike the business figures (opsdesk/metrics.py, read from the database at scrape time), these
exist only in the processes that served the requests. gunicorn runs several worker processes and
Prometheus' scrape reaches one of them, so the figures are kept in prometheus_client's
multiprocess mode: with PROMETHEUS_MULTIPROC_DIR set, every worker writes its counters to its own
memory-mapped files in that directory and the worker answering `/metrics` adds up all of them,
including those of workers that have since exited (a recycled worker's requests still count).
deploy/gunicorn.conf.py sets the directory (a private one per gunicorn if the variable is unset),
empties it when gunicorn starts and marks each exiting worker dead. Without the variable
(runserver, the test suite) the figures are this process's own registry.

Labels are bounded: the view is the URL pattern's name (`tickets:detail`, never the path with its
id), "unmatched" when no pattern matched (404s, refused hosts); the method is one of the usual
seven or "other"; the status is its class (2xx … 5xx). Latency is to the response's headers (a
long download streams after that).
"""

from __future__ import annotations

import logging
import os
import sys
import time

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import got_request_exception
from django.dispatch import receiver
from django.urls import resolve
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["HttpMetricsMiddleware", "http_registry", "multiprocess_dir", "LATENCY_BUCKETS_S", "UNMATCHED"]

log = logging.getLogger("opsdesk.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Pages and API calls take tens of milliseconds (README, "Figures measured here"); 1 s is the alert line.
LATENCY_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# This process's registry. In multiprocess mode the values live in the directory's files instead,
# and http_registry() reads those.
_registry = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("opsdesk_http_requests", "HTTP requests answered by the desk, by view, method and status class.",
                   ["view", "method", "status"], registry=_registry)
LATENCY = Histogram("opsdesk_http_request_duration_seconds",
                    "Time from receiving an HTTP request to its response, by view.",
                    ["view"], buckets=LATENCY_BUCKETS_S, registry=_registry)
EXCEPTIONS = Counter("opsdesk_http_exceptions",
                     "Unhandled exceptions in a view that ended in a 5xx answer, by view and exception class.",
                     ["view", "exception"], registry=_registry)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def http_registry() -> CollectorRegistry:
    """What to expose: every web process's figures (multiprocess mode) or this process's."""
    path = multiprocess_dir()
    if path is None:
        return _registry
    registry = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(registry, path=path)
    return registry


def view_label(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None and getattr(request, "path_info", None):
        # A middleware answered (or failed: a database outage while loading the session) before the
        # URL was resolved: still count it against the view the path names.
        try:
            match = resolve(request.path_info)
        except Exception:  # Resolver404 and anything odd in the path: counted as unmatched
            match = None
    # view_name: "namespace:url_name", or the view's dotted path for a pattern without a name.
    return match.view_name if match is not None else UNMATCHED


class HttpMetricsMiddleware:
    """Outermost in MIDDLEWARE, so it also sees what the others answer themselves (probes, a refused
    Host, a redirect to HTTPS). Measuring must never break a request: a failure is logged once."""

    _failure_logged = False

    def __init__(self, get_response):
        self.get_response = get_response
        path = multiprocess_dir()
        if path is not None and not (os.path.isdir(path) and os.access(path, os.W_OK)):
            raise ImproperlyConfigured(f"{MULTIPROC_ENV}: {path!r} is not a writable directory (the web "
                                       "processes share their HTTP metrics there; unset it for one process)")

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        try:
            self.record(request, response.status_code, time.perf_counter() - started)
        except Exception as exc:  # a full disk or a removed directory must not become a 500
            if not HttpMetricsMiddleware._failure_logged:
                HttpMetricsMiddleware._failure_logged = True
                log.warning("HTTP metrics could not be recorded: %s: %s", exc.__class__.__name__, exc)
        return response

    def process_exception(self, request, exception):
        # Remembered, counted once the answer is known to be a 5xx (an Http404 is not an error).
        request._opsdesk_exception = exception.__class__.__name__

    @staticmethod
    def record(request, status: int, seconds: float) -> None:
        view = view_label(request)
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(view, method, f"{status // 100}xx").inc()
        LATENCY.labels(view).observe(seconds)
        exception = getattr(request, "_opsdesk_exception", None)
        if exception and status >= 500:
            EXCEPTIONS.labels(view, exception).inc()


@receiver(got_request_exception)
def remember_exception(sender, request=None, **kwargs):
    # An exception raised in a middleware (a database outage while the session loads) never reaches
    # process_exception; Django still sends this signal while handling it.
    exc = sys.exc_info()[1]
    if request is not None and exc is not None and not hasattr(request, "_opsdesk_exception"):
        request._opsdesk_exception = exc.__class__.__name__
