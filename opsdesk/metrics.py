"""Prometheus metrics of the desk: `/metrics`, computed from the database at scrape time.

Two kinds of figures share the one `/metrics`:
- the business figures (this module): what the desk did, read from the database at scrape time;
- the desk's own HTTP traffic (opsdesk/http_metrics.py): requests, latency and exceptions by view,
  which only the web processes that served the requests know. Those are kept in
  prometheus_client's multiprocess directory (PROMETHEUS_MULTIPROC_DIR, shared by one gunicorn's
  workers) and added up across its workers at each scrape.
So a business figure is the same whichever web pod answers (alerting rules take `max without
(instance)`), while an HTTP figure is that pod's own (rules and dashboards `sum` over the pods;
Prometheus should therefore scrape every web pod, see deploy/prometheus/prometheus.yml).

Why the business figures come from the database (and not from prometheus_client's multiprocess
mode or one exporter per process): the work is done by many processes on many machines — gunicorn workers, Celery workers, the
pollers — and each of them writes its result into PostgreSQL in the same transaction as the work
itself. The database is therefore the shared truth: a collector that reads a few aggregates from it
at scrape time reports the same, correct figures whichever web worker answers the scrape, needs no
multiprocess directory (nothing to clean up when a worker dies, nothing lost when a pod is
replaced) and counts work done by processes that expose no HTTP port at all (workers, pollers).
Celery queue depth is read from the broker (Redis LLEN of each queue) the same way.

The cost: every scrape runs about a dozen aggregate queries. Each is a GROUP BY on an indexed
column or a COUNT with a filter on an indexed column (see the models' Meta.indexes); the
notification latency histogram is one conditional-count query over sent notifications. On a
desk-sized database (hundreds of thousands of rows) that is a few milliseconds to a few tens of
milliseconds; scrape every 30 s (deploy/prometheus/prometheus.yml). Each web pod is scraped (its
HTTP figures are its own), so with three pods the queries run three times per interval. Results
(both kinds) are cached per process for OPSDESK_METRICS_CACHE_SECONDS (default 5) so several
Prometheus servers scraping at once do not multiply the load. What the database cannot know — per-process CPU and memory — is left to the
node exporter / kubelet, not exported here.

Protection: `/metrics` answers only clients inside OPSDESK_METRICS_ALLOWED_NETWORKS (comma-separated
CIDRs, default loopback only; `*` for anywhere) and, when OPSDESK_METRICS_TOKEN is set, only with
`Authorization: Bearer <token>` as well. The client address is the socket peer (REMOTE_ADDR),
never X-Forwarded-For.

Counters here are counts of append-only rows (audit events, received messages), so they only go
up; a figure that can go down (requests by state, incidents open) is a gauge.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from alerts.models import Alert, Incident, IncidentEvent, IngestedMessage, MailFolder
from notifications.models import Notification, NotificationStatus, SlaClock
from opsdesk.http_metrics import http_registry
from opsdesk.preflight import ServiceUnavailable, check_broker
from tickets.models import RequestEvent, ServiceRequest
from workflow.incidents import IncidentState

__all__ = [
    "OpsDeskCollector",
    "metrics_view",
    "render_metrics",
    "client_allowed",
    "CELERY_QUEUES",
    "LATENCY_BUCKETS_S",
]

log = logging.getLogger("opsdesk.metrics")

# Celery queues whose depth is exported (opsdesk/celery.py routes tasks to these).
CELERY_QUEUES = ("default", "notifications", "alerts")
# kombu's Redis transport keeps priority sub-queues "<queue>\x06\x16<step>" beside the plain one.
_KOMBU_PRIORITY_SEP = "\x06\x16"
_KOMBU_PRIORITY_STEPS = (3, 6, 9)

# SMS delivery latency (written → accepted by the gateway). Includes intended holds (digest
# window, rate limit, quiet hours), so the upper buckets matter as much as the lower ones.
LATENCY_BUCKETS_S = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)


def _setting(name: str, default: str) -> str:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, default)
    return str(value)


# --- who may scrape ---------------------------------------------------------------------------

def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None:
    """None means anywhere (`*`)."""
    raw = _setting("OPSDESK_METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
    entries = [item.strip() for item in raw.split(",") if item.strip()]
    if "*" in entries:
        return None
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            log.error("OPSDESK_METRICS_ALLOWED_NETWORKS: %r is not a network; ignored", entry)
    return networks


def _in_networks(address: str, networks) -> bool:
    if networks is None:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


def client_allowed(request: HttpRequest) -> tuple[bool, int, str]:
    """(allowed, status if not, reason). Network first, then the bearer token when one is set."""
    if not _in_networks(request.META.get("REMOTE_ADDR", ""), _allowed_networks()):
        return False, 403, "metrics are not served to this network\n"
    token = _setting("OPSDESK_METRICS_TOKEN", "")
    if token:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            return False, 401, "a bearer token is required\n"
    return True, 200, ""


# --- what is measured -------------------------------------------------------------------------

class OpsDeskCollector(Collector):
    """Business figures of the desk, read from the database (and the broker) on each collect()."""

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        failures: list[str] = []
        for name, part in (
            ("requests", self._requests),
            ("incidents", self._incidents),
            ("alerts", self._alerts),
            ("pollers", self._pollers),
            ("notifications", self._notifications),
            ("sla", self._sla),
            ("queues", self._queues),
        ):
            try:
                yield from list(part())
            except Exception as exc:  # one broken source must not hide the others' figures
                log.warning("metrics: %s could not be collected: %s: %s", name, exc.__class__.__name__, exc)
                failures.append(name)
        errors = GaugeMetricFamily("opsdesk_metrics_collect_failed",
                                   "1 when this part of the figures could not be read at this scrape.",
                                   labels=["part"])
        for name in ("requests", "incidents", "alerts", "pollers", "notifications", "sla", "queues"):
            errors.add_metric([name], 1.0 if name in failures else 0.0)
        yield errors
        yield GaugeMetricFamily("opsdesk_metrics_collect_duration_seconds",
                                "Time taken to compute these figures from the database and broker.",
                                value=time.perf_counter() - started)

    # Service requests -------------------------------------------------------------------------
    def _requests(self) -> Iterable[Metric]:
        by_state = GaugeMetricFamily("opsdesk_service_requests",
                                     "Service requests by state and by the level (unit kind) holding them.",
                                     labels=["state", "level"])
        for row in ServiceRequest.objects.order_by().values("state", "level").annotate(n=Count("pk")):
            by_state.add_metric([row["state"], row["level"] or ""], row["n"])
        yield by_state
        transitions = CounterMetricFamily("opsdesk_request_transitions",
                                          "Service-request workflow steps recorded (audit trail), by action.",
                                          labels=["action"])
        for row in RequestEvent.objects.order_by().values("name").annotate(n=Count("pk")):
            transitions.add_metric([row["name"]], row["n"])
        yield transitions

    # Incidents --------------------------------------------------------------------------------
    def _incidents(self) -> Iterable[Metric]:
        unresolved = GaugeMetricFamily("opsdesk_incidents_unresolved",
                                       "Incidents not yet resolved, by state (open, acknowledged) and severity.",
                                       labels=["state", "severity"])
        rows = (Incident.objects.exclude(state=IncidentState.RESOLVED).order_by()
                .values("state", "severity").annotate(n=Count("pk")))
        for row in rows:
            unresolved.add_metric([row["state"], row["severity"]], row["n"])
        yield unresolved
        transitions = CounterMetricFamily("opsdesk_incident_transitions",
                                          "Incident workflow steps recorded (audit trail), by action.",
                                          labels=["action"])
        for row in IncidentEvent.objects.order_by().values("action").annotate(n=Count("pk")):
            transitions.add_metric([row["action"]], row["n"])
        yield transitions

    # Alert intake -----------------------------------------------------------------------------
    def _alerts(self) -> Iterable[Metric]:
        messages = CounterMetricFamily(
            "opsdesk_alert_messages",
            "Messages received (mail, Maildir, webhook), by origin and outcome "
            "(alert = parsed, quarantined = looked like an alert but could not be read).",
            labels=["origin", "outcome"])
        for row in IngestedMessage.objects.order_by().values("origin", "outcome").annotate(n=Count("pk")):
            messages.add_metric([row["origin"], row["outcome"]], row["n"])
        yield messages
        alerts = CounterMetricFamily("opsdesk_alerts",
                                     "Alerts parsed out of received messages, by monitoring source and status.",
                                     labels=["source", "status"])
        for row in Alert.objects.order_by().values("source", "status").annotate(n=Count("pk")):
            alerts.add_metric([row["source"], row["status"]], row["n"])
        yield alerts

    # Mailbox pollers --------------------------------------------------------------------------
    def _pollers(self) -> Iterable[Metric]:
        labels = ["folder"]
        last_success = GaugeMetricFamily("opsdesk_poller_last_success_timestamp_seconds",
                                         "When the poller holding the mailbox last completed a sync (Unix time).",
                                         labels=labels)
        heartbeat = GaugeMetricFamily("opsdesk_poller_heartbeat_timestamp_seconds",
                                      "Last sign of life of a poller for the mailbox (Unix time).", labels=labels)
        lag = GaugeMetricFamily("opsdesk_poller_lag_seconds",
                                "Age of the oldest message of the last batch when it was stored.", labels=labels)
        errors = CounterMetricFamily("opsdesk_poller_errors",
                                     "Connection or read errors of the mailbox's pollers.", labels=labels)
        ingested = CounterMetricFamily("opsdesk_poller_ingested_messages",
                                       "Messages stored from the mailbox.", labels=labels)
        enabled = GaugeMetricFamily("opsdesk_poller_enabled", "1 when the mailbox is to be read.", labels=labels)
        for folder in MailFolder.objects.select_related("account").order_by("pk"):
            name = f"{folder.account.name}/{folder.name}"
            enabled.add_metric([name], 1.0 if folder.enabled and folder.account.enabled else 0.0)
            if folder.last_success_at:
                last_success.add_metric([name], folder.last_success_at.timestamp())
            if folder.heartbeat_at:
                heartbeat.add_metric([name], folder.heartbeat_at.timestamp())
            if folder.lag_seconds is not None:
                lag.add_metric([name], folder.lag_seconds)
            errors.add_metric([name], folder.error_count)
            ingested.add_metric([name], folder.ingested_count)
        yield from (enabled, last_success, heartbeat, lag, errors, ingested)

    # Notifications ----------------------------------------------------------------------------
    def _notifications(self) -> Iterable[Metric]:
        by_status = GaugeMetricFamily("opsdesk_notifications",
                                      "Notifications in the outbox, by channel and delivery status.",
                                      labels=["channel", "status"])
        for row in Notification.objects.order_by().values("channel", "status").annotate(n=Count("pk")):
            by_status.add_metric([row["channel"], row["status"]], row["n"])
        yield by_status

        latency = ExpressionWrapper(F("sent_at") - F("created_at"), output_field=DurationField())
        sent = (Notification.objects.filter(status=NotificationStatus.SENT, sent_at__isnull=False)
                .order_by().annotate(latency=latency))
        aggregates = {f"le_{i}": Count("pk", filter=Q(latency__lte=timedelta(seconds=bound)))
                      for i, bound in enumerate(LATENCY_BUCKETS_S)}
        histogram = HistogramMetricFamily(
            "opsdesk_notification_delivery_latency_seconds",
            "Time from writing a notification to the gateway accepting it (holds included).",
            labels=["channel"])
        rows = sent.values("channel").annotate(total=Count("pk"), latency_sum=Sum("latency"), **aggregates)
        for row in rows:
            buckets = [(_le(bound), row[f"le_{i}"]) for i, bound in enumerate(LATENCY_BUCKETS_S)]
            buckets.append(("+Inf", row["total"]))
            total_s = row["latency_sum"]
            total_s = total_s.total_seconds() if isinstance(total_s, timedelta) else (total_s or 0) / 1e6
            histogram.add_metric([row["channel"]], buckets, sum_value=max(total_s, 0.0))
        yield histogram

    # SLA ---------------------------------------------------------------------------------------
    def _sla(self) -> Iterable[Metric]:
        figures = SlaClock.objects.aggregate(
            response=Count("pk", filter=Q(response_breach_notified=True)),
            resolution=Count("pk", filter=Q(resolution_breach_notified=True)),
            running=Count("pk", filter=Q(stopped_at__isnull=True)),
        )
        breaches = CounterMetricFamily("opsdesk_sla_breaches",
                                       "Requests whose SLA target was breached (announced once each), by target.",
                                       labels=["target"])
        breaches.add_metric(["response"], figures["response"])
        breaches.add_metric(["resolution"], figures["resolution"])
        yield breaches
        yield GaugeMetricFamily("opsdesk_sla_clocks_running", "Open requests with a running SLA clock.",
                                value=figures["running"])

    # Celery queues -----------------------------------------------------------------------------
    def _queues(self) -> Iterable[Metric]:
        depth = GaugeMetricFamily("opsdesk_celery_queue_length",
                                  "Tasks waiting in each Celery queue (Redis broker).", labels=["queue"])
        broker_up = GaugeMetricFamily("opsdesk_broker_up",
                                      "1 when the Celery broker answered this scrape (absent: no broker, "
                                      "tasks run in-process).")
        url = getattr(settings, "CELERY_BROKER_URL", "")
        if url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            try:
                pipe = client.pipeline(transaction=False)
                for queue in CELERY_QUEUES:
                    pipe.llen(queue)
                    for step in _KOMBU_PRIORITY_STEPS:
                        pipe.llen(f"{queue}{_KOMBU_PRIORITY_SEP}{step}")
                lengths = pipe.execute()
                per_queue = len(_KOMBU_PRIORITY_STEPS) + 1
                for i, queue in enumerate(CELERY_QUEUES):
                    depth.add_metric([queue], sum(lengths[i * per_queue:(i + 1) * per_queue]))
                broker_up.add_metric([], 1.0)
            except Exception as exc:
                log.warning("metrics: broker unreachable: %s", exc)
                broker_up.add_metric([], 0.0)
            finally:
                client.close()
        elif url:
            # Another broker (AMQP): up or down only; its queue depths are its own exporter's business.
            try:
                check_broker()
                broker_up.add_metric([], 1.0)
            except ServiceUnavailable as exc:
                log.warning("metrics: %s", exc)
                broker_up.add_metric([], 0.0)
        yield depth
        yield broker_up


def _le(bound: float) -> str:
    return f"{float(bound)}"


# --- exposition ---------------------------------------------------------------------------------

_registry = CollectorRegistry(auto_describe=False)
_registry.register(OpsDeskCollector())
_cache_lock = threading.Lock()
_cache: tuple[float, bytes] | None = None


def render_metrics(*, use_cache: bool = True) -> bytes:
    """The exposition text (Prometheus' classic text format, which promtool checks): the business
    figures, then the web processes' HTTP figures."""
    global _cache
    max_age = float(_setting("OPSDESK_METRICS_CACHE_SECONDS", "5"))
    with _cache_lock:
        now = time.monotonic()
        if use_cache and _cache is not None and now - _cache[0] < max_age:
            return _cache[1]
        body = generate_latest(_registry) + generate_latest(http_registry())
        _cache = (now, body)
        return body


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    allowed, status, reason = client_allowed(request)
    if not allowed:
        response = HttpResponse(reason, status=status, content_type="text/plain; charset=utf-8")
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="opsdesk-metrics"'
        return response
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)
