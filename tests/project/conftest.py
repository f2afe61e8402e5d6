"""Fixtures of the operations tests: reading /metrics, promtool, the services `make test` starts."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import wait_for as wait_for  # the tests of this package import it from here

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def parse_metrics(text: str) -> dict[tuple[str, frozenset], float]:
    """{(sample name, frozenset of label items): value} of an exposition text."""
    from prometheus_client.parser import text_string_to_metric_families

    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: dict, name: str, **labels) -> float:
    """Sum of every sample of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, lab), v in samples.items() if n == name and wanted <= set(lab))


@pytest.fixture(scope="session")
def promtool() -> str:
    path = shutil.which("promtool")
    if not path:
        pytest.fail("promtool is not installed: run the suite with `make test` (it installs Prometheus' tools)")
    return path


def promtool_run(promtool: str, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([promtool, *args], input=stdin, capture_output=True, timeout=60, cwd=ROOT)


@pytest.fixture
def fresh_metrics(settings):
    """Every scrape computes anew (the per-process cache would carry figures across tests)."""
    settings.OPSDESK_METRICS_CACHE_SECONDS = 0
    settings.OPSDESK_METRICS_TOKEN = ""
    settings.OPSDESK_METRICS_ALLOWED_NETWORKS = "127.0.0.0/8,::1/128"
    return settings


@pytest.fixture
def busy_desk(org, django_capture_on_commit_callbacks, settings):
    """A desk that has done a little of everything, through its own services."""
    import datetime as dt

    from django.utils import timezone

    from alerts.models import MailAccount, MailFolder
    from alerts.services import Inbound, ingest_messages
    from notifications.models import SlaPolicy
    from tests.project.mail import garbled_mail, nagios_mail
    from tests.tickets.helpers import act, file_fault_report
    from tickets.models import ServiceRequest
    from tickets.sla import sla_check_request

    settings.OPSDESK_SMS_GROUP_WAIT = 0
    with django_capture_on_commit_callbacks(execute=True):
        first = file_fault_report(org)
        act(first, "escalate", org.people["county"], comment="县中心处理不了")
        file_fault_report(org, teller=org.people["teller_other"])
    with django_capture_on_commit_callbacks(execute=True):
        ingest_messages(items=[Inbound(raw=nagios_mail(f"szhxdb0{i}", "Disk /oradata"), origin="upload")
                               for i in range(3)] +
                        [Inbound(raw=nagios_mail("szhxdb09", "Swap", state="WARNING"), origin="upload"),
                         Inbound(raw=garbled_mail(), origin="upload")])
    SlaPolicy.objects.create(name="fault", request_type="fault_report", first_response_minutes=1,
                             resolution_minutes=2)
    second = ServiceRequest.objects.exclude(pk=first.pk).get()
    with django_capture_on_commit_callbacks(execute=True):
        sla_check_request(request_id=second.pk, now=timezone.now() + dt.timedelta(hours=1))
    account = MailAccount.objects.create(name="dc", host="127.0.0.1", port=10143, security="plain",
                                         username="alerts", password="x")
    MailFolder.objects.create(account=account, name="INBOX", last_success_at=timezone.now(), lag_seconds=1.5,
                              heartbeat_at=timezone.now(), error_count=2, ingested_count=5)
    return org


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("OPSDESK_TEST_REDIS_URL")
    if not url:
        pytest.fail("OPSDESK_TEST_REDIS_URL is not set: run the suite with `make test` (it starts Redis)")
    return url.rstrip("/")


@pytest.fixture(scope="session")
def imap_server() -> dict:
    port = os.environ.get("OPSDESK_TEST_IMAP_PORT")
    if not port:
        pytest.fail("OPSDESK_TEST_IMAP_PORT is not set: run the suite with `make test` (it starts Dovecot)")
    return {"host": "127.0.0.1", "port": int(port), "dir": os.environ.get("OPSDESK_TEST_IMAP_DIR", "")}
