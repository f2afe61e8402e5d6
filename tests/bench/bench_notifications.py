"""Notification pipeline benchmark: 10,000 notifications written through notify() (transactional
outbox), handed to Redis, delivered by two Celery worker processes (solo pool each) through the
HTTP gateway backend to a local gateway server. Reports messages per second, enqueue-to-gateway
latency (row written → gateway received it) p50/p95, and checks at the gateway, by idempotency
key, that none was lost or sent twice.

Then a paced run: one notification every 0.5 s, each in its own transaction (latency without a backlog);
the same number again as events of 50 recipients each (one set-based insert per event), and as bursts of
50 one-recipient events through notify_many() (one insert per burst).

`--kill-worker` SIGKILLs one of the two workers once a third of the burst has reached the gateway and
starts it again a second later: the rows it had claimed go out again when their lease runs out. Those it
had sent but not yet recorded reach the gateway a second time under the same idempotency key
("resent_same_key"; a gateway that honours the key, as this one does, drops the repeat).

First, `database_ceiling`: the rows per second this machine's database takes as bare INSERTs of 50 rows
with nothing else running, the bound every figure above is read against.

Runs in a database of its own (Django's test database machinery, destroyed afterwards) and a Redis
database of its own. `python -m tests.bench notifications [--quick] [--kill-worker]` (needs DATABASE_URL on
PostgreSQL and OPSDESK_TEST_REDIS_URL, as `make bench` sets them).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from tests.bench.stats import summarize_ms

REDIS_URL = os.environ.get("OPSDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
BROKER_URL = f"{REDIS_URL}/12"
RECIPIENTS = 500
BATCH = 50  # notifications per writing transaction


def run(options) -> dict:
    from django.conf import settings
    from django.db import connection, transaction
    from django.test.utils import setup_databases, teardown_databases

    from opsdesk.celery import app
    from tests.notifications.workers import CeleryWorkers, database_url_for_workers

    total = 1_000 if getattr(options, "quick", False) else 10_000
    if connection.vendor != "postgresql":
        raise RuntimeError("needs DATABASE_URL=postgresql://… (two worker processes share the database)")
    old_config = setup_databases(verbosity=0, interactive=False)
    gateway = GatewayProcess().start()
    queue = f"notifications-bench-{uuid.uuid4().hex[:8]}"
    workers = CeleryWorkers(queue=queue, count=2, run_dir=Path(tempfile.mkdtemp(prefix="bench-celery-")), env={
        "DATABASE_URL": database_url_for_workers(), "CELERY_BROKER_URL": BROKER_URL,
        "OPSDESK_NOTIFICATIONS_QUEUE": queue, "OPSDESK_SMS_BACKEND": "http", "OPSDESK_SMS_HTTP_URL": gateway.url,
        "OPSDESK_SMS_HTTP_SUCCESS": "json:code=0", "OPSDESK_SMS_HTTP_TIMEOUT": "5",
        "OPSDESK_TEST_VISIBILITY_TIMEOUT": "300", "OPSDESK_LOG_LEVEL": "WARNING",
    })
    saved = (app.conf.task_always_eager, app.conf.broker_url)
    try:
        people = _recipients()
        ceiling = _database_ceiling(people, total)
        workers.start()
        app.conf.task_always_eager, app.conf.broker_url, app._pool = False, BROKER_URL, None
        app.amqp._producer_pool = None
        os.environ["OPSDESK_NOTIFICATIONS_QUEUE"] = queue
        settings.OPSDESK_SMS_RATE_LIMIT, settings.OPSDESK_SMS_GROUP_WAIT = "0", "0"
        print(f"   writing {total} notifications for {len(people)} people; 2 worker processes", flush=True)

        from notifications.services import notify

        killer, killed_at = None, []
        if getattr(options, "kill_worker", False):
            def kill_mid_batch():
                gateway.wait_for(lambda g: len(g.delivered) >= total // 3, timeout=600, what="a third delivered")
                workers.kill(0)  # SIGKILL: its claimed rows stay "sending" until their lease runs out
                killed_at.append(len(gateway.delivered))
                print(f"   worker 0 SIGKILLed after {killed_at[0]} deliveries; restarting it", flush=True)
                workers.start(0)  # as a supervisor would; start() waits until the new worker is ready
            killer = threading.Thread(target=kill_mid_batch, daemon=True)
            killer.start()

        started = time.monotonic()
        for first in range(0, total, BATCH):
            with transaction.atomic():
                for i in range(first, min(first + BATCH, total)):
                    notify(event="bench", text=f"基准测试短信 {i}", key=f"bench:{i}", people=[people[i % len(people)]],
                           digest=False)
        written_s = time.monotonic() - started
        print(f"   written in {written_s:.1f}s; waiting for the gateway", flush=True)
        if killer is not None:
            killer.join()
        gateway.wait_for(lambda g: len(g.delivered) >= total, timeout=max(600, total / 4),
                         what=f"{total} deliveries")
        elapsed_s = time.monotonic() - started
        _wait_recorded(total)
        figures = _figures(gateway, total, written_s, elapsed_s, killed=killer is not None)
        figures["database_ceiling"] = ceiling
        if killer is not None:
            figures["worker_killed_after_delivered"] = killed_at
        figures["paced"] = _paced(gateway, people, total)
        figures["fan_out"] = _fan_out(gateway, people, total)
        figures["bursts"] = _bursts(gateway, people, total)
        return figures
    finally:
        app.conf.task_always_eager, app.conf.broker_url, app._pool = saved[0], saved[1], None
        app.amqp._producer_pool = None
        os.environ.pop("OPSDESK_NOTIFICATIONS_QUEUE", None)
        workers.stop()
        gateway.stop()
        import redis

        redis.Redis.from_url(BROKER_URL).delete(queue)
        connection.close()
        teardown_databases(old_config, verbosity=0)


PACED = 200
PACED_INTERVAL_S = 0.5


ONE_ROW_BATCHES = 40  # transactions of the one-row-per-statement ceiling (2,000 rows)


def _database_ceiling(people, total: int) -> dict:
    """What this machine's database takes with no Python in the way, for reading notify()'s figures
    against: the same number of rows, as one `INSERT … SELECT FROM unnest(…)` of BATCH rows per
    transaction (how notify_many() writes a burst), into the outbox table with its indexes and keys,
    nothing else running; and 2,000 of them one row per INSERT, BATCH per transaction. Written as
    dead (never sent) and deleted again before the pipeline starts."""
    from django.db import connection, transaction

    columns = ("event", "address", "channel", "text", "urgent", "object_id", "idempotency_key", "status",
               "attempts", "last_error", "created_at", "digest_count", "digest_group", "provider_message_id",
               "template", "receipt", "receipt_state", "recipient_id", "unit_id")
    sql = (f"INSERT INTO notifications_notification ({', '.join(columns)}) "
           "SELECT 'bench', a, 'sms', t, false, '', k, 'dead', 0, '', now(), 0, '', '', '', '', '', r, u "
           "FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[], %s::bigint[]) AS x(a, t, k, r, u) "
           "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id")
    batches = []
    for first in range(0, total, BATCH):
        chosen = [people[i % len(people)] for i in range(first, min(first + BATCH, total))]
        batches.append(([p.mobile for p in chosen], [f"基准测试短信 {first + j}" for j in range(len(chosen))],
                        [f"ceiling:{first + j}" for j in range(len(chosen))], [p.pk for p in chosen],
                        [p.unit_id for p in chosen]))
    started = time.monotonic()
    with connection.cursor() as cursor:
        for params in batches:
            with transaction.atomic():
                cursor.execute(sql, params)
                cursor.fetchall()
        written_s = time.monotonic() - started
        # The same rows one per statement (how one-recipient notify() calls write): each statement
        # opens the table's indexes and keys again, whatever the Python around it.
        singles = [tuple([column[j]] for column in params) for params in batches[:ONE_ROW_BATCHES] for j in range(BATCH)]
        started = time.monotonic()
        for first in range(0, len(singles), BATCH):
            with transaction.atomic():
                for params in singles[first:first + BATCH]:
                    cursor.execute(sql, params)
                    cursor.fetchall()
        singles_s = time.monotonic() - started
        cursor.execute("DELETE FROM notifications_notification WHERE idempotency_key LIKE 'ceiling:%%'")
    figures = {"rows": total, "per_transaction": BATCH, "rows_per_s": round(total / written_s, 1),
               "one_row_per_statement_rows_per_s": round(len(singles) / singles_s, 1)}
    print(f"   database ceiling: {figures['rows_per_s']:.0f} rows/s as bare INSERTs of {BATCH}, "
          f"{figures['one_row_per_statement_rows_per_s']:.0f} rows/s one row per INSERT; no Python model code",
          flush=True)
    return figures


def _paced(gateway, people, offset: int) -> dict:
    """Latency without a backlog: one notification per transaction every PACED_INTERVAL_S."""
    from django.db import transaction

    from notifications.models import Notification
    from notifications.services import notify

    print(f"   paced: {PACED} notifications, one every {PACED_INTERVAL_S}s", flush=True)
    gateway.reset("ok")
    for i in range(PACED):
        tick = time.monotonic()
        with transaction.atomic():
            notify(event="bench", text=f"基准测试短信 {offset + i}", key=f"bench:{offset + i}",
                   people=[people[i % len(people)]], digest=False)
        time.sleep(max(0.0, PACED_INTERVAL_S - (time.monotonic() - tick)))
    gateway.wait_for(lambda g: len(g.delivered) >= PACED, timeout=600, what=f"{PACED} paced deliveries")
    created = {n.idempotency_key: n.created_at.timestamp()
               for n in Notification.objects.filter(idempotency_key__in=[d["key"] for d in gateway.delivered])}
    latency = summarize_ms([d["at"] - created[d["key"]] for d in gateway.delivered])
    print(f"   paced latency p50 {latency['p50_ms']} ms, p95 {latency['p95_ms']} ms", flush=True)
    duplicates = sum(c - 1 for c in Counter(e["key"] for e in gateway.received).values())
    return {"notifications": PACED, "interval_s": PACED_INTERVAL_S, "latency": latency,
            "duplicates_at_gateway": duplicates}


class GatewayProcess:
    """The fake gateway (tests/notifications/gateway.py) in a process of its own, read through its
    journal: what it accepted, when, and whether it was the first time for that key."""

    def __init__(self):
        from tests.notifications.gateway import _free_port

        self.port = _free_port()
        self.journal = Path(tempfile.mkdtemp(prefix="bench-gateway-")) / "journal.jsonl"
        self.process = None
        self._entries: list[dict] = []
        self._offset = 0
        self._mark = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms/send"

    def start(self) -> GatewayProcess:
        import subprocess
        import sys

        self.journal.touch()
        self.process = subprocess.Popen([sys.executable, "-m", "tests.notifications.gateway", str(self.port),
                                         str(self.journal)], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "ready"
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def _read(self) -> list[dict]:
        with open(self.journal, encoding="utf-8") as fh:
            fh.seek(self._offset)
            chunk = fh.read()
        complete, _, _rest = chunk.rpartition("\n")
        if complete:
            self._entries.extend(json.loads(line) for line in complete.split("\n"))
            self._offset += len(complete.encode()) + 1
        return self._entries[self._mark:]

    @property
    def received(self) -> list[dict]:
        return self._read()

    @property
    def delivered(self) -> list[dict]:
        return [e for e in self._read() if e["first"]]

    def reset(self, mode: str = "ok") -> None:
        self._read()
        self._mark = len(self._entries)  # what comes next is counted afresh

    def wait_for(self, predicate, timeout: float = 30.0, what: str = "condition") -> None:
        from tests.helpers import wait_for

        wait_for(lambda: predicate(self), timeout=timeout,
                 message=lambda: f"gateway: {what}; delivered {len(self.delivered)}")


def _wait_recorded(total: int, timeout: float = 120) -> None:
    """The gateway answers before the worker writes the outcome: wait for the records to catch up."""
    from notifications.models import Notification, NotificationStatus
    from tests.helpers import wait_for

    wait_for(lambda: Notification.objects.filter(status=NotificationStatus.SENT).count() >= total, timeout=timeout,
             message="deliveries recorded as sent")


FAN_OUT = 50  # recipients of one event (a broadcast to a unit's staff, a major incident's on-duty list)


def _fan_out(gateway, people, total: int) -> dict:
    """The same number of rows written as events to FAN_OUT people each (one set-based insert per event)."""
    from django.db import transaction

    from notifications.services import notify

    gateway.reset("ok")
    events = total // FAN_OUT
    started = time.monotonic()
    for i in range(0, events, 10):
        with transaction.atomic():
            for j in range(i, min(i + 10, events)):
                group = [people[(j * FAN_OUT + k) % len(people)] for k in range(FAN_OUT)]
                notify(event="bench", text=f"群发 {j}", key=f"fan:{j}", people=group, digest=False)
    written_s = time.monotonic() - started
    rows = events * FAN_OUT
    gateway.wait_for(lambda g: len(g.delivered) >= rows, timeout=max(600, rows / 4), what=f"{rows} fan-out deliveries")
    delivered_s = time.monotonic() - started
    print(f"   fan-out: {rows} rows as {events} events of {FAN_OUT}: {rows / written_s:.0f} rows/s written, "
          f"all at the gateway after {delivered_s:.1f}s", flush=True)
    return {"events": events, "recipients_each": FAN_OUT, "rows": rows, "write_s": round(written_s, 2),
            "rows_written_per_s": round(rows / written_s, 1), "all_delivered_after_s": round(delivered_s, 2),
            "messages_per_s": round(rows / delivered_s, 1)}


def _bursts(gateway, people, total: int) -> dict:
    """The same number of one-recipient events written as bursts of BATCH through notify_many() (how a
    burst of incidents and a batch of hand-offs are written): one INSERT per burst."""
    from django.db import transaction

    from notifications.services import Message, notify_many

    gateway.reset("ok")
    started = time.monotonic()
    for first in range(0, total, BATCH):
        with transaction.atomic():
            notify_many([Message(event="bench", text=f"突发 {i}", key=f"burst:{i}", people=[people[i % len(people)]],
                                 digest=False) for i in range(first, min(first + BATCH, total))])
    written_s = time.monotonic() - started
    gateway.wait_for(lambda g: len(g.delivered) >= total, timeout=max(600, total / 4), what=f"{total} burst deliveries")
    delivered_s = time.monotonic() - started
    print(f"   bursts: {total} as bursts of {BATCH}: {total / written_s:.0f}/s written, "
          f"all at the gateway after {delivered_s:.1f}s", flush=True)
    return {"notifications": total, "per_burst": BATCH, "write_s": round(written_s, 2),
            "written_per_s": round(total / written_s, 1), "all_delivered_after_s": round(delivered_s, 2),
            "messages_per_s": round(total / delivered_s, 1)}


def _recipients():
    from opsdesk.org.choices import Role, UnitKind
    from opsdesk.org.models import Unit, User

    province = Unit.objects.create(code="BP", name="基准省中心", kind=UnitKind.PROVINCE)
    group = Unit.objects.create(code="BG", name="基准小组", kind=UnitKind.SUPPORT_GROUP, parent=province)
    User.objects.bulk_create([
        User(username=f"bench{i}", display_name=f"基准{i}", unit=group, roles=[Role.GROUP_MEMBER],
             mobile=f"139{i:08d}", password="!") for i in range(RECIPIENTS)
    ])
    return list(User.objects.filter(unit=group).order_by("pk"))


def _figures(gateway, total: int, written_s: float, elapsed_s: float, *, killed: bool = False) -> dict:
    from notifications.models import Notification, NotificationStatus

    received = Counter(entry["key"] for entry in gateway.received)
    created = {n.idempotency_key: n.created_at.timestamp()
               for n in Notification.objects.only("idempotency_key", "created_at")}
    latencies = [entry["at"] - created[entry["key"]] for entry in gateway.delivered if entry["key"] in created]
    first_at = min(created.values())
    last_at = max(entry["at"] for entry in gateway.delivered)
    statuses = Counter(Notification.objects.values_list("status", flat=True))
    lost = total - len(set(received) & set(created))
    duplicates = sum(count - 1 for count in received.values())
    figures = {
        "notifications": total,
        "worker_processes": 2,
        "write_s": round(written_s, 2),
        "writes_per_s": round(total / written_s, 1),
        "delivery_window_s": round(last_at - first_at, 2),
        "messages_per_s": round(total / (last_at - first_at), 1),
        "end_to_end_s": round(elapsed_s, 2),
        "latency": summarize_ms(latencies),
        "lost": lost,
        "duplicates_at_gateway": duplicates,
        "resent_same_key": duplicates,
        "sent_in_database": statuses.get(NotificationStatus.SENT, 0),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    print(f"   {figures['messages_per_s']} msg/s; latency p50 {figures['latency']['p50_ms']} ms, "
          f"p95 {figures['latency']['p95_ms']} ms; lost {lost}, duplicates {duplicates}", flush=True)
    # Without a kill nothing may reach the gateway twice; after a SIGKILL the rows sent but not yet
    # recorded go again under their key: at most one record chunk (OPSDESK_SMS_RECORD_EVERY).
    limit = int(os.environ.get("OPSDESK_SMS_RECORD_EVERY", "50")) if killed else 0
    if lost or duplicates > limit or figures["sent_in_database"] != total:
        raise AssertionError(f"pipeline lost {lost} / resent {duplicates} (allowed {limit}) / "
                             f"sent {figures['sent_in_database']}")
    return figures
