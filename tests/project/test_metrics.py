"""/metrics: what the desk did, read back from the database, in a format Prometheus accepts."""

from __future__ import annotations

import pytest

from alerts.models import Alert, Incident, IngestedMessage, MailFolder
from notifications.models import Notification, NotificationStatus, SlaClock
from tests.project.conftest import parse_metrics, promtool_run, total, value
from tests.tickets.helpers import file_fault_report
from tickets.models import RequestEvent, ServiceRequest


def scrape(client, **extra) -> tuple[int, str]:
    response = client.get("/metrics", **extra)
    return response.status_code, response.content.decode()


def test_metrics_count_what_the_desk_did_and_pass_promtool(client, busy_desk, fresh_metrics, promtool):
    status, text = scrape(client)
    assert status == 200
    check = promtool_run(promtool, "check", "metrics", stdin=text.encode())
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()

    m = parse_metrics(text)
    # Service requests by state and level: one escalated to the city, one still at the county.
    assert value(m, "opsdesk_service_requests", state="at_city", level="city") == 1
    assert value(m, "opsdesk_service_requests", state="at_county", level="county") == 1
    assert total(m, "opsdesk_service_requests") == ServiceRequest.objects.count() == 2
    assert value(m, "opsdesk_request_transitions_total", action="escalate") == 1
    assert total(m, "opsdesk_request_transitions_total") == RequestEvent.objects.count()
    # Alert intake: five messages, four parsed, one quarantined; incidents by severity.
    assert value(m, "opsdesk_alert_messages_total", origin="upload", outcome="alert") == 4
    assert value(m, "opsdesk_alert_messages_total", origin="upload", outcome="quarantined") == 1
    assert total(m, "opsdesk_alert_messages_total") == IngestedMessage.objects.count() == 5
    assert value(m, "opsdesk_alerts_total", source="nagios", status="problem") == Alert.objects.count() == 4
    assert value(m, "opsdesk_incidents_unresolved", state="open", severity="critical") == 3
    assert value(m, "opsdesk_incidents_unresolved", state="open", severity="warning") == 1
    assert total(m, "opsdesk_incidents_unresolved") == Incident.objects.count()
    # Notifications and their delivery latency.
    assert total(m, "opsdesk_notifications") == Notification.objects.count() > 0
    sent = Notification.objects.filter(status=NotificationStatus.SENT).count()
    assert sent > 0
    assert value(m, "opsdesk_notification_delivery_latency_seconds_count", channel="sms") == sent
    assert value(m, "opsdesk_notification_delivery_latency_seconds_bucket", channel="sms", le="+Inf") == sent
    assert value(m, "opsdesk_notification_delivery_latency_seconds_bucket", channel="sms", le="3600.0") == sent
    # SLA: the second request breached both of its targets.
    assert value(m, "opsdesk_sla_breaches_total", target="response") == 1
    assert value(m, "opsdesk_sla_breaches_total", target="resolution") == 1
    assert SlaClock.objects.filter(resolution_breach_notified=True).count() == 1
    # The poller's status of the mail folder.
    folder = MailFolder.objects.get()
    assert value(m, "opsdesk_poller_last_success_timestamp_seconds", folder="dc/INBOX") == pytest.approx(
        folder.last_success_at.timestamp())
    assert value(m, "opsdesk_poller_lag_seconds", folder="dc/INBOX") == 1.5
    assert value(m, "opsdesk_poller_errors_total", folder="dc/INBOX") == 2
    # Every part could be read.
    assert total(m, "opsdesk_metrics_collect_failed") == 0


def test_metrics_follow_the_database_at_each_scrape(client, org, fresh_metrics, django_capture_on_commit_callbacks):
    _, before = scrape(client)
    assert total(parse_metrics(before), "opsdesk_service_requests") == 0
    with django_capture_on_commit_callbacks(execute=True):
        file_fault_report(org)
    _, after = scrape(client)
    assert value(parse_metrics(after), "opsdesk_service_requests", state="at_county", level="county") == 1


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_queue_depth_is_read_from_the_redis_broker(client, db, fresh_metrics, redis_url, settings):
    """Tasks waiting in Redis (nobody consumes this database) show per queue."""
    import redis
    from kombu import Connection

    from opsdesk.celery import app

    url = f"{redis_url}/14"
    redis.Redis.from_url(url).flushdb()
    settings.CELERY_BROKER_URL = url
    with Connection(url) as conn:
        for _ in range(3):
            app.send_task("notifications.tasks.deliver_notification", args=[0], connection=conn)
        app.send_task("tickets.tasks.auto_close_answered_requests", connection=conn)
    try:
        _, text = scrape(client)
    finally:
        redis.Redis.from_url(url).flushdb()
    m = parse_metrics(text)
    assert value(m, "opsdesk_celery_queue_length", queue="notifications") == 3
    assert value(m, "opsdesk_celery_queue_length", queue="default") == 1
    assert value(m, "opsdesk_celery_queue_length", queue="alerts") == 0
    assert value(m, "opsdesk_broker_up") == 1


def test_an_unreachable_broker_is_reported_not_fatal(client, db, fresh_metrics, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    status, text = scrape(client)
    assert status == 200
    m = parse_metrics(text)
    assert value(m, "opsdesk_broker_up") == 0
    assert value(m, "opsdesk_metrics_collect_failed", part="requests") == 0


# --- who may read it ---------------------------------------------------------------------------

def test_only_loopback_by_default(client, db, fresh_metrics):
    assert scrape(client, REMOTE_ADDR="127.0.0.1")[0] == 200
    assert scrape(client, REMOTE_ADDR="::1")[0] == 200
    status, body = scrape(client, REMOTE_ADDR="10.20.30.40")
    assert status == 403 and "opsdesk_" not in body
    # A forwarded-for header does not let an outsider in.
    assert scrape(client, REMOTE_ADDR="10.20.30.40", HTTP_X_FORWARDED_FOR="127.0.0.1")[0] == 403


def test_allowed_networks_are_configurable(client, db, fresh_metrics):
    fresh_metrics.OPSDESK_METRICS_ALLOWED_NETWORKS = "10.8.0.0/16, not-a-network"
    assert scrape(client, REMOTE_ADDR="10.8.1.2")[0] == 200
    assert scrape(client, REMOTE_ADDR="10.9.1.2")[0] == 403
    assert scrape(client, REMOTE_ADDR="127.0.0.1")[0] == 403
    fresh_metrics.OPSDESK_METRICS_ALLOWED_NETWORKS = "*"
    assert scrape(client, REMOTE_ADDR="192.0.2.7")[0] == 200


def test_bearer_token_when_configured(client, db, fresh_metrics):
    fresh_metrics.OPSDESK_METRICS_TOKEN = "s3cret-scrape-token"
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert scrape(client, HTTP_AUTHORIZATION="Bearer wrong")[0] == 401
    assert scrape(client, HTTP_AUTHORIZATION="Basic s3cret-scrape-token")[0] == 401
    status, body = scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    assert status == 200 and "opsdesk_service_requests" in body
    # The token does not open the endpoint to other networks.
    assert scrape(client, REMOTE_ADDR="10.1.1.1", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")[0] == 403


def test_only_get(client, db, fresh_metrics):
    assert client.post("/metrics").status_code == 405
