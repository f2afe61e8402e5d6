"""The desk's own HTTP traffic on /metrics: requests, latency and 5xx exceptions by view (the URL
pattern's name, never the path), from every gunicorn worker added up, beside the business figures."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import requests
from django.db import connection
from django.test import Client

from tests.helpers import DatabaseOutage
from tests.project.conftest import parse_metrics, promtool_run, total, value, wait_for
from tests.project.stack import BIN, ROOT, Stack, database_url, free_port
from tests.tickets.helpers import file_fault_report

REQUESTS = "opsdesk_http_requests_total"
LATENCY_COUNT = "opsdesk_http_request_duration_seconds_count"
TOKEN = "http-metrics-token"


def figures(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200
    return parse_metrics(response.content.decode())


def test_requests_and_latency_are_counted_by_view_not_by_path(client, org, fresh_metrics, promtool):
    teller = Client()
    teller.force_login(org.people["teller"])
    first, second = file_fault_report(org), file_fault_report(org, subject="取款交易报错")
    before = figures(client)
    assert teller.get(f"/tickets/{first.pk}/").status_code == 200
    assert teller.get(f"/tickets/{second.pk}/").status_code == 200
    assert teller.get("/tickets/mine/").status_code == 200
    assert teller.get("/no/such/page/").status_code == 404
    assert Client().post("/accounts/login/", {"username": "nobody", "password": "wrong"}).status_code == 200
    text = client.get("/metrics").content.decode()
    after = parse_metrics(text)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    # Two different requests' pages are one view: no id ever becomes a label.
    assert grew(REQUESTS, view="tickets:detail", method="GET", status="2xx") == 2
    assert grew(LATENCY_COUNT, view="tickets:detail") == 2
    assert grew(REQUESTS, view="tickets:mine", method="GET", status="2xx") == 1
    assert grew(REQUESTS, view="unmatched", method="GET", status="4xx") == 1
    assert grew(REQUESTS, view="login", method="POST", status="2xx") == 1
    views = {v for (name, items), _ in after.items() if name.startswith("opsdesk_http_")
             for label, v in items if label == "view"}
    assert not any(str(first.pk) in view or "/" in view for view in views), views
    # The latency histogram's buckets are cumulative and end in the count.
    assert (value(after, "opsdesk_http_request_duration_seconds_bucket", view="tickets:detail", le="+Inf")
            == value(after, LATENCY_COUNT, view="tickets:detail"))
    check = promtool_run(promtool, "check", "metrics", stdin=text.encode())
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()


@pytest.mark.django_db(transaction=True)
def test_a_view_failing_on_the_database_counts_as_a_5xx_and_an_exception(org, fresh_metrics):
    scraper = Client()
    teller = Client(raise_request_exception=False)
    teller.force_login(org.people["teller"])
    before = figures(scraper)
    outage = DatabaseOutage()
    connection.close()
    outage.begin()
    try:
        assert teller.get("/tickets/mine/").status_code == 503
    finally:
        outage.end()
        connection.close()
    after = figures(scraper)
    assert (value(after, REQUESTS, view="tickets:mine", method="GET", status="5xx")
            - value(before, REQUESTS, view="tickets:mine", method="GET", status="5xx")) == 1
    assert (value(after, "opsdesk_http_exceptions_total", view="tickets:mine", exception="OperationalError")
            - value(before, "opsdesk_http_exceptions_total", view="tickets:mine", exception="OperationalError")) == 1


@pytest.mark.django_db(transaction=True)
def test_gunicorn_workers_figures_are_added_up_across_workers_and_restarts(org, tmp_path):
    """Two workers, each recycled after 4 requests (so at least six processes serve the 24 page
    views); a counter left in the directory by an earlier run must not count."""
    if connection.vendor != "postgresql":
        pytest.fail("this test runs gunicorn against PostgreSQL: run it with `make test`")
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    # An earlier gunicorn's leftovers (a container restarted into the same emptyDir).
    subprocess.run([sys.executable, "-c", "from opsdesk.http_metrics import REQUESTS; "
                    "REQUESTS.labels('login', 'GET', '2xx').inc(1000)"],
                   cwd=ROOT, env={**os.environ, **env}, check=True, timeout=60)
    assert list(shared.glob("counter_*.db"))

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    stack = Stack(tmp_path / "stack", {
        "DATABASE_URL": database_url(connection.settings_dict), "OPSDESK_VAR_DIR": str(tmp_path / "var"),
        "OPSDESK_METRICS_CACHE_SECONDS": "0", "OPSDESK_METRICS_TOKEN": TOKEN, **env})
    stack.env.pop("CELERY_BROKER_URL", None)
    pids_served: set[int] = set()
    try:
        stack.start("web", [str(BIN / "gunicorn"), "opsdesk.wsgi:application", "-c", "deploy/gunicorn.conf.py",
                            "--bind", f"127.0.0.1:{port}", "--workers", "2",
                            "--max-requests", "4", "--max-requests-jitter", "0"])
        wait_for(lambda: _listening(base), 60, lambda: f"gunicorn to answer\n{stack.logs()}")
        logins = 24
        for _ in range(logins):
            response = requests.get(f"{base}/accounts/login/", headers={"Connection": "close"}, timeout=30)
            assert response.status_code == 200
            pids_served |= _pids(shared)
        assert requests.get(f"{base}/no/such/page/", headers={"Connection": "close"}, timeout=30).status_code == 404
        scrape = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}", "Connection": "close",
                                                         "Host": "10.244.3.17:8000"}, timeout=30)
        assert scrape.status_code == 200, scrape.text
        m = parse_metrics(scrape.text)
        # Every page view counted once, by whichever worker served it, recycled or not; the
        # earlier run's 1,000 are gone.
        assert value(m, REQUESTS, view="login", method="GET", status="2xx") == logins
        assert value(m, LATENCY_COUNT, view="login") == logins
        assert value(m, REQUESTS, view="unmatched", method="GET", status="4xx") == 1
        print(f"\n{logins} page views served by {len(pids_served)} worker processes; /metrics counts "
              f"{value(m, REQUESTS, view='login', method='GET', status='2xx'):.0f}")
        assert len(pids_served) >= 6, pids_served
        # The business figures sit beside them in the same answer.
        assert total(m, "opsdesk_metrics_collect_failed") == 0
        assert stack.stop("web") == 0, stack.logs()
        # A directory given by the operator stays (it is theirs), with the counts in it.
        assert shared.is_dir()
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.cleanup()


def _pids(directory) -> set[int]:
    return {int(match.group(1)) for path in directory.glob("*.db")
            if (match := re.search(r"_(\d+)\.db$", path.name))}


def _listening(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False
