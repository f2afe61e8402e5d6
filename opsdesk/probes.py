"""Probes and the scrape, answered whatever the Host header.

Kubernetes' liveness/readiness probes and Prometheus reach a pod by its IP address, so their `Host`
is `10.x.y.z:8000`, which is not (and should not be) in DJANGO_ALLOWED_HOSTS: CommonMiddleware's
host validation would answer 400 and the pod would never become Ready nor be scraped. This
middleware sits first in MIDDLEWARE and serves `/healthz`, `/readyz` and `/metrics` itself, before
anything calls `request.get_host()`, and before SecurityMiddleware could redirect the plain-HTTP
probe to HTTPS. The views are the ones the URLconf maps to those paths (opsdesk/urls.py), so
`/metrics` keeps its own protection (allowed networks, bearer token: opsdesk/metrics.py), which
reads only the socket peer and headers, never the host.

Every other path goes through the whole middleware stack as usual.
"""

from __future__ import annotations

from django.urls import Resolver404, resolve

__all__ = ["ProbeMiddleware", "PROBE_PATHS"]

# Exact paths only: "/healthz/" or "/healthz?x" with another path goes the ordinary way.
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class ProbeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info not in PROBE_PATHS:
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:  # the URLconf no longer maps it: the ordinary way answers 404
            return self.get_response(request)
        # What the URL resolver would have recorded: the HTTP metrics label requests by it.
        request.resolver_match = match
        return match.func(request, *match.args, **match.kwargs)
