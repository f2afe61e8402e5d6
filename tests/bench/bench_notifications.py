"""Notification pipeline benchmark: 10,000 notifications written through notify() (transactional
outbox), handed to Redis, delivered by two Celery worker processes (solo pool each) through the
HTTP gateway backend to a local gateway server. Reports messages per second, enqueue-to-gateway
latency (row written → gateway received it) p50/p95, and checks at the gateway, by idempotency
key, that none was lost or sent twice.

Runs in a database of its own (Django's test database machinery, destroyed afterwards) and a Redis
database of its own. `python -m tests.bench notifications [--quick]` (needs DATABASE_URL on
PostgreSQL and OPSDESK_TEST_REDIS_URL, as `make bench` sets them).
"""

from __future__ import annotations

import os
import tempfile
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
    from tests.notifications.gateway import FakeGateway
    from tests.notifications.workers import CeleryWorkers, database_url_for_workers

    total = 1_000 if getattr(options, "quick", False) else 10_000
    if connection.vendor != "postgresql":
        raise RuntimeError("needs DATABASE_URL=postgresql://… (two worker processes share the database)")
    old_config = setup_databases(verbosity=0, interactive=False)
    gateway = FakeGateway().start()
    queue = f"notifications-bench-{uuid.uuid4().hex[:8]}"
    workers = CeleryWorkers(queue=queue, count=2, run_dir=Path(tempfile.mkdtemp(prefix="bench-celery-")), env={
        "DATABASE_URL": database_url_for_workers(), "CELERY_BROKER_URL": BROKER_URL,
        "OPSDESK_NOTIFICATIONS_QUEUE": queue, "OPSDESK_SMS_BACKEND": "http", "OPSDESK_SMS_HTTP_URL": gateway.url,
        "OPSDESK_SMS_HTTP_SUCCESS": "json:code=0", "OPSDESK_SMS_HTTP_TIMEOUT": "5",
        "OPSDESK_TEST_VISIBILITY_TIMEOUT": "300", "OPSDESK_LOG_LEVEL": "WARNING",
    })
    saved = (app.conf.task_always_eager, app.conf.broker_url)
    try:
        workers.start()
        app.conf.task_always_eager, app.conf.broker_url, app._pool = False, BROKER_URL, None
        app.amqp._producer_pool = None
        os.environ["OPSDESK_NOTIFICATIONS_QUEUE"] = queue
        settings.OPSDESK_SMS_RATE_LIMIT, settings.OPSDESK_SMS_GROUP_WAIT = "0", "0"
        people = _recipients()
        print(f"   writing {total} notifications for {len(people)} people; 2 worker processes", flush=True)

        from notifications.services import notify

        started = time.monotonic()
        for first in range(0, total, BATCH):
            with transaction.atomic():
                for i in range(first, min(first + BATCH, total)):
                    notify(event="bench", text=f"基准测试短信 {i}", key=f"bench:{i}", people=[people[i % len(people)]],
                           digest=False)
        written_s = time.monotonic() - started
        print(f"   written in {written_s:.1f}s; waiting for the gateway", flush=True)
        gateway.wait_for(lambda g: len(g.delivered) >= total, timeout=max(600, total / 4),
                         what=f"{total} deliveries")
        elapsed_s = time.monotonic() - started
        figures = _figures(gateway, total, written_s, elapsed_s)
        figures["paced"] = _paced(gateway, people, total)
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


def _figures(gateway, total: int, written_s: float, elapsed_s: float) -> dict:
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
        "sent_in_database": statuses.get(NotificationStatus.SENT, 0),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    print(f"   {figures['messages_per_s']} msg/s; latency p50 {figures['latency']['p50_ms']} ms, "
          f"p95 {figures['latency']['p95_ms']} ms; lost {lost}, duplicates {duplicates}", flush=True)
    if lost or duplicates or figures["sent_in_database"] != total:
        raise AssertionError(f"pipeline lost {lost} / duplicated {duplicates} / sent {figures['sent_in_database']}")
    return figures
