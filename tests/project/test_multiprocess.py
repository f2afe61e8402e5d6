"""The production shape on one machine: gunicorn with three workers, two Celery workers, beat and
two pollers — separate processes — against the same PostgreSQL (this test's database), Redis and
Dovecot. Shows that only one poller reads the mailbox at a time, that killing it hands the mailbox
to the other within seconds, that nothing is lost or doubled (mail, incidents, SMS at the
gateway), that every web worker reports the same figures, and that every process stops cleanly
on SIGTERM.
"""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from django.db import connection

from alerts.choices import Outcome
from alerts.models import Alert, Incident, IngestedMessage, MailAccount, MailFolder
from notifications.models import PENDING_STATUSES, Notification, NotificationStatus
from tests.project.conftest import parse_metrics, promtool_run, total, wait_for
from tests.project.mail import garbled_mail, nagios_mail
from tests.project.stack import ImapConnectionWatch, SmsGateway, Stack, database_url, free_port
from tests.tickets.helpers import FAULT_DATA, ensure_types
from tickets.models import RequestEvent, ServiceRequest

pytestmark = [pytest.mark.imap, pytest.mark.celery]

IMAP_USER, IMAP_PASSWORD = "poller2", "poller2-secret"
TOKEN = "multi-process-token"


def imap(server):
    from imapclient import IMAPClient

    client = IMAPClient(server["host"], port=server["port"], ssl=False, timeout=30)
    client.login(IMAP_USER, IMAP_PASSWORD)
    return client


def advisory_locks_held() -> int:
    """Mailbox locks held in this database (alerts.sources.locks: pg_try_advisory_lock(0x0A1E, key))."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND granted "
                       "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                       [0x0A1E])
        return cursor.fetchone()[0]


def holder_pid(folder_pk: int) -> int | None:
    holder = MailFolder.objects.filter(pk=folder_pk).values_list("poller", flat=True).first() or ""
    # The poller records itself as "host:pid#session".
    return int(holder.rsplit(":", 1)[1].split("#", 1)[0]) if ":" in holder else None


@pytest.fixture
def mailbox(imap_server):
    name = f"ops-{uuid.uuid4().hex[:10]}"
    client = imap(imap_server)
    client.create_folder(name)
    yield name, client
    try:
        for folder in (f"{name}/quarantine", name):
            if client.folder_exists(folder):
                client.delete_folder(folder)
        client.logout()
    except Exception:
        pass


@pytest.mark.django_db(transaction=True)
def test_processes_share_the_work_and_one_poller_reads_the_mailbox(org, imap_server, redis_url, promtool,
                                                                   mailbox, tmp_path):
    if connection.vendor != "postgresql":
        pytest.fail("this test runs the processes against PostgreSQL: run it with `make test`")
    import redis

    folder_name, client = mailbox
    ensure_types()
    account = MailAccount.objects.create(name="dc-mail", host=imap_server["host"], port=imap_server["port"],
                                         security="plain", username=IMAP_USER, password=IMAP_PASSWORD, timeout=10)
    folder = MailFolder.objects.create(account=account, name=folder_name, quarantine_folder=f"{folder_name}/quarantine",
                                       batch_size=10, poll_interval=1, rescan_interval=3600)
    broker = f"{redis_url}/13"
    redis.Redis.from_url(broker).flushdb()
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    with SmsGateway() as gateway:
        stack = Stack(tmp_path / "stack", {
            "DATABASE_URL": database_url(connection.settings_dict), "CELERY_BROKER_URL": broker,
            "OPSDESK_VAR_DIR": str(tmp_path / "var"), "OPSDESK_METRICS_TOKEN": TOKEN,
            "OPSDESK_METRICS_CACHE_SECONDS": "0", "OPSDESK_SMS_GROUP_WAIT": "0", "OPSDESK_SMS_RATE_LIMIT": "100000",
            "OPSDESK_ALERT_BACKOFF_MIN": "0.5", "OPSDESK_ALERT_BACKOFF_MAX": "2", **gateway.env()})
        try:
            stack.web(port, workers=3)
            stack.worker("worker1")
            stack.worker("worker2")
            stack.beat()
            pollers = {name: stack.poller(name) for name in ("poller1", "poller2")}
            by_pid = {proc.pid: name for name, proc in pollers.items()}

            wait_for(lambda: _ready(base), 90, "gunicorn /readyz (database)")
            wait_for(lambda: holder_pid(folder.pk) in by_pid, 60, "a poller to take the mailbox")
            first = by_pid[holder_pid(folder.pk)]
            other = next(name for name in pollers if name != first)

            with ImapConnectionWatch(imap_server["port"]) as watch:
                watch.watched = set(by_pid)
                # --- phase 1: mail and requests arrive while poller `first` holds the mailbox ----
                sent = _append(client, folder_name, 0, 30) + [_append_raw(client, folder_name, garbled_mail())]
                teller = requests.Session()
                teller.headers["Authorization"] = f"Token {_token(org.people['teller'])}"
                county = requests.Session()
                county.headers["Authorization"] = f"Token {_token(org.people['county'])}"
                filed = [_file(teller, base, i, org) for i in range(6)]
                for request_id in filed[:3]:
                    _escalate(county, base, request_id)
                wait_for(lambda: IngestedMessage.objects.filter(folder=folder).count() == len(sent), 60,
                         "phase-1 mail stored")
                assert advisory_locks_held() == 1
                assert watch.connected() == {pollers[first].pid}, "only the holder talks to the mail server"

                # --- phase 2: kill the holder (SIGKILL) mid-stream; mail keeps arriving meanwhile --
                before = len(sent)
                sent += _append(client, folder_name, 100, 20)
                wait_for(lambda: IngestedMessage.objects.filter(folder=folder).count() > before, 60,
                         "the holder to be working on the new mail")
                killed_at = time.monotonic()
                stack.kill(first)
                sent += _append(client, folder_name, 200, 20)  # arrives while nobody holds the mailbox
                wait_for(lambda: holder_pid(folder.pk) == pollers[other].pid, 60, f"{other} to take the mailbox")
                handover_s = time.monotonic() - killed_at
                sent.append(_append_raw(client, folder_name, garbled_mail()))
                wait_for(lambda: IngestedMessage.objects.filter(folder=folder).count() == len(sent), 90,
                         "every message stored after the handover")
                wait_for(lambda: not Notification.objects.filter(status__in=PENDING_STATUSES).exists(), 90,
                         "every SMS delivered")
                assert advisory_locks_held() == 1
            print(f"\nhandover after SIGKILL of the holding poller: {handover_s:.1f} s; "
                  f"IMAP connections sampled {watch.samples} times, at most {watch.max_at_once} poller(s) at once, "
                  f"pollers seen connected: {sorted(by_pid[p] for p in watch.holders_seen)}")

            # --- nothing lost, nothing doubled ------------------------------------------------------
            assert watch.max_at_once == 1
            assert watch.holders_seen == {pollers[first].pid, pollers[other].pid}
            stored = IngestedMessage.objects.filter(folder=folder)
            alerts_sent = len(sent) - 2
            assert stored.count() == len(sent) == 72
            assert stored.values("uid").distinct().count() == len(sent)
            assert stored.filter(outcome=Outcome.ALERT).count() == alerts_sent
            assert stored.filter(outcome=Outcome.QUARANTINED).count() == 2
            assert Alert.objects.count() == alerts_sent
            assert Incident.objects.count() == alerts_sent  # one host per mail: one incident each
            # The mail server agrees: processed mail is marked read, the unreadable is in quarantine.
            client.select_folder(folder_name, readonly=True)
            assert len(client.search("ALL")) == alerts_sent and client.search("UNSEEN") == []
            client.select_folder(f"{folder_name}/quarantine", readonly=True)
            assert len(client.search("ALL")) == 2
            # Requests: six filed through gunicorn, three escalated; every step recorded once.
            assert ServiceRequest.objects.count() == 6
            assert ServiceRequest.objects.filter(state="at_city").count() == 3
            assert RequestEvent.objects.count() == 6 + 3
            # SMS: every notification delivered by the Celery workers, each exactly once at the gateway.
            notifications = Notification.objects.all()
            assert notifications.count() >= alerts_sent + 6
            assert set(notifications.values_list("status", flat=True)) == {NotificationStatus.SENT}
            keys = gateway.keys()
            assert len(keys) == len(set(keys)) == notifications.count()
            assert set(keys) == set(notifications.values_list("idempotency_key", flat=True))
            worked = {name: stack.procs[name].log.read_text(errors="replace").count("succeeded in")
                      for name in ("worker1", "worker2")}
            print(f"tasks done per Celery worker: {worked}")

            # --- every web worker reports the same figures, behind its token ---------------------
            assert requests.get(f"{base}/metrics", timeout=10).status_code == 401
            bodies = [requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}",
                                                               "Connection": "close"}, timeout=30).text
                      for _ in range(12)]
            for body in bodies:
                figures = parse_metrics(body)
                assert total(figures, "opsdesk_alert_messages_total") == len(sent)
                assert total(figures, "opsdesk_incidents_unresolved") == alerts_sent
                assert total(figures, "opsdesk_notifications", status="sent") == notifications.count()
            check = promtool_run(promtool, "check", "metrics", stdin=bodies[0].encode())
            assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()

            # --- graceful shutdown: SIGTERM, and each process exits by itself, cleanly -----------
            codes = stack.stop_all(timeout=60)
            print(f"exit codes after SIGTERM: {codes}")
            assert codes == {"web": 0, "worker1": 0, "worker2": 0, "beat": 0, first: -9, other: 0}, stack.logs()
        except BaseException:
            print(stack.logs())
            raise
        finally:
            stack.cleanup()
            redis.Redis.from_url(broker).flushdb()


def _ready(base: str) -> bool:
    try:
        return requests.get(f"{base}/readyz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _append_raw(client, folder: str, raw: bytes) -> bytes:
    client.append(folder, raw)
    return raw


def _append(client, folder: str, start: int, count: int) -> list[bytes]:
    return [_append_raw(client, folder, nagios_mail(f"szhost{i:04d}", "Disk /oradata"))
            for i in range(start, start + count)]


def _token(person) -> str:
    from knox.models import AuthToken

    return AuthToken.objects.create(user=person)[1]


def _file(session, base: str, i: int, org) -> int:
    response = session.post(f"{base}/api/requests/", json={
        "type": "fault_report", "subject": f"存款交易报错 {i}", "system": org.systems[0].pk, "data": FAULT_DATA},
        timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _escalate(session, base: str, request_id: int) -> None:
    current = session.get(f"{base}/api/requests/{request_id}/transitions/", timeout=30).json()
    response = session.post(f"{base}/api/requests/{request_id}/transitions/", json={
        "action": "escalate", "version": current["version"], "comment": "县中心无法处理"}, timeout=30)
    assert response.status_code == 200, response.text

