"""Probes and the scrape in a cluster: Kubernetes and Prometheus reach a pod by its IP address, so
`/healthz`, `/readyz` and `/metrics` answer whatever the Host header, over plain HTTP even when the
desk redirects everything else to HTTPS. Readiness is the process and the database, not the broker:
with Redis down the desk stays in service, and the broker's health is a metric."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.test import Client

from tests.helpers import DatabaseOutage
from tests.project.conftest import parse_metrics, value, wait_for
from tests.project.stack import BIN, Stack, database_url, free_port
from tests.tickets.helpers import FAULT_DATA, ensure_types

POD_HOST = "10.244.3.17:8000"  # what a kubelet's probe and Prometheus' pod discovery send


def test_probes_and_scrape_answer_a_pod_ip_host_that_pages_refuse(client, db, fresh_metrics):
    health = client.get("/healthz", HTTP_HOST=POD_HOST)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = client.get("/readyz", HTTP_HOST=POD_HOST)
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "checks": {"database": "ok"}}
    scrape = client.get("/metrics", HTTP_HOST=POD_HOST)
    assert scrape.status_code == 200 and "opsdesk_service_requests" in scrape.content.decode()
    # Anything else with that Host is still refused by host validation.
    assert client.get("/accounts/login/", HTTP_HOST=POD_HOST).status_code == 400
    assert client.get("/healthz/", HTTP_HOST=POD_HOST).status_code == 400


def test_the_scrape_keeps_its_network_and_token_protection_under_any_host(client, db, fresh_metrics):
    assert client.get("/metrics", HTTP_HOST=POD_HOST, REMOTE_ADDR="192.0.2.9").status_code == 403
    fresh_metrics.OPSDESK_METRICS_TOKEN = "scrape-secret"
    refused = client.get("/metrics", HTTP_HOST=POD_HOST)
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_HOST=POD_HOST, HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200


def test_probes_are_not_redirected_to_https(db, settings):
    # Even with no exemption configured: the probes are answered before SecurityMiddleware.
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = []
    settings.ALLOWED_HOSTS = ["opsdesk.bank.example"]
    client = Client()
    page = client.get("/accounts/login/", HTTP_HOST="opsdesk.bank.example")
    assert page.status_code == 301 and page["Location"].startswith("https://")
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(path, HTTP_HOST=POD_HOST).status_code == 200, path


@pytest.mark.django_db(transaction=True)
def test_readiness_fails_while_the_database_is_away_and_recovers():
    client = Client(raise_request_exception=False)
    outage = DatabaseOutage()
    connection.close()
    outage.begin()
    try:
        away = client.get("/readyz", HTTP_HOST=POD_HOST)
        alive = client.get("/healthz", HTTP_HOST=POD_HOST)
    finally:
        outage.end()
        connection.close()
    assert away.status_code == 503
    assert away.json()["status"] == "unavailable" and away.json()["checks"]["database"].startswith("error")
    assert alive.status_code == 200  # liveness: the process is fine, do not restart it
    assert client.get("/readyz", HTTP_HOST=POD_HOST).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_gunicorn_stays_ready_and_files_requests(org, tmp_path):
    """A real gunicorn whose CELERY_BROKER_URL points at a port nothing listens on."""
    if connection.vendor != "postgresql":
        pytest.fail("this test runs gunicorn against PostgreSQL: run it with `make test`")
    from knox.models import AuthToken

    ensure_types()
    token = AuthToken.objects.create(user=org.people["teller"])[1]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    stack = Stack(tmp_path / "stack", {
        "DATABASE_URL": database_url(connection.settings_dict), "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
        "OPSDESK_VAR_DIR": str(tmp_path / "var"), "OPSDESK_METRICS_CACHE_SECONDS": "0"})
    stack.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    try:
        web = stack.start("web", [str(BIN / "gunicorn"), "opsdesk.wsgi:application", "-c", "deploy/gunicorn.conf.py",
                                  "--bind", f"127.0.0.1:{port}", "--workers", "2"])
        wait_for(lambda: _status(f"{base}/healthz") == 200, 60, lambda: f"gunicorn to answer\n{stack.logs()}")
        pod = {"Host": POD_HOST}
        ready = requests.get(f"{base}/readyz", headers=pod, timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok"}
        # Filing and reading work; the SMS of the hand-off waits in the database for the broker.
        api = requests.Session()
        api.headers["Authorization"] = f"Token {token}"
        filed = api.post(f"{base}/api/requests/", json={"type": "fault_report", "subject": "存款交易报错",
                                                        "system": org.systems[0].pk, "data": FAULT_DATA}, timeout=60)
        assert filed.status_code == 201, filed.text
        assert api.get(f"{base}/api/requests/{filed.json()['id']}/", timeout=30).status_code == 200
        assert requests.get(f"{base}/accounts/login/", timeout=30).status_code == 200
        # The broker's health is a figure for the alert, not a reason to stop serving.
        scrape = requests.get(f"{base}/metrics", headers=pod, timeout=30)
        assert scrape.status_code == 200
        assert value(parse_metrics(scrape.text), "opsdesk_broker_up") == 0
        # Without PROMETHEUS_MULTIPROC_DIR this gunicorn shares its workers' figures in a private
        # directory, removed when it stops.
        private = Path(tempfile.gettempdir()) / f"opsdesk-prometheus-{web.pid}"
        assert private.is_dir() and any(private.glob("counter_*.db"))
        assert stack.stop("web") == 0, stack.logs()
        assert not private.exists()
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.cleanup()


def _status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=5).status_code
    except requests.RequestException:
        return None

