"""Fixtures of the notification tests: a fake SMS gateway (real HTTP server on loopback), real
Celery worker processes on a queue of their own, and helpers to wait for conditions."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from tests.notifications.gateway import FakeGateway
from tests.notifications.workers import CeleryWorkers, database_url_for_workers

REDIS_URL = os.environ.get("OPSDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
BROKER_URL = f"{REDIS_URL}/11"  # a Redis database of our own


def wait_until(predicate, *, timeout: float = 120.0, what: str = "condition", interval: float = 0.05):
    """Wait for `predicate()` to be true, up to `timeout` seconds (a deadline, not a sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def point_celery_at(broker_url: str, *, eager: bool) -> None:
    """Make this process publish to `broker_url` (dropping pooled connections to the old one)."""
    from opsdesk.celery import app

    app.conf.task_always_eager = eager
    app.conf.broker_url = broker_url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(scope="session")
def sms_gateway():
    gateway = FakeGateway().start()
    yield gateway
    gateway.stop()


@pytest.fixture
def http_gateway(sms_gateway, settings):
    """The desk sends through the loopback HTTP gateway, every message on its own at once (no digest
    window, rate limit or quiet hours); the gateway answers OK unless a test scripts it otherwise."""
    settings.OPSDESK_SMS_BACKEND = "http"
    settings.OPSDESK_SMS_HTTP_URL = sms_gateway.url
    settings.OPSDESK_SMS_HTTP_SUCCESS = "json:code=0"
    settings.OPSDESK_SMS_HTTP_TIMEOUT = "3"
    settings.OPSDESK_SMS_GROUP_WAIT = "0"
    settings.OPSDESK_SMS_RATE_LIMIT = "0"
    settings.OPSDESK_SMS_QUIET_HOURS = ""
    sms_gateway.reset("ok")
    yield sms_gateway
    sms_gateway.reset("ok")


@pytest.fixture(scope="session")
def notification_queue():
    return f"notifications-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"


WORKER_SETTINGS = {
    "OPSDESK_SMS_BACKEND": "http",
    "OPSDESK_SMS_HTTP_TIMEOUT": "3",
    "OPSDESK_SMS_HTTP_SUCCESS": "json:code=0",
    "OPSDESK_SMS_HTTP_AUTH_HEADER": "Authorization: Bearer test-token",
    "OPSDESK_SMS_RETRY_BASE": "0.2",
    "OPSDESK_SMS_RETRY_MAX": "1",
    "OPSDESK_SMS_MAX_ATTEMPTS": "10",
    "OPSDESK_TEST_VISIBILITY_TIMEOUT": "6",
}


@pytest.fixture(scope="session")
def celery_workers(django_db_setup, django_db_blocker, sms_gateway, notification_queue, tmp_path_factory):
    """One solo-pool worker process consuming our queue, on the test database."""
    with django_db_blocker.unblock():
        database_url = database_url_for_workers()
    env = {"DATABASE_URL": database_url, "CELERY_BROKER_URL": BROKER_URL,
           "OPSDESK_NOTIFICATIONS_QUEUE": notification_queue, "OPSDESK_SMS_HTTP_URL": sms_gateway.url,
           **WORKER_SETTINGS}
    workers = CeleryWorkers(queue=notification_queue, env=env, run_dir=tmp_path_factory.mktemp("celery"))
    workers.start()
    yield workers
    workers.stop()
    _purge(notification_queue)


def _purge(queue: str) -> None:
    import redis

    client = redis.Redis.from_url(BROKER_URL)
    client.delete(queue)


@pytest.fixture
def pipeline(celery_workers, sms_gateway, notification_queue, settings):
    """This test process publishes to Redis (not in-process); the gateway answers OK; no digest
    window, no rate limit, no quiet hours unless the test sets them."""
    from opsdesk.celery import app

    saved = {"task_always_eager": app.conf.task_always_eager, "broker_url": app.conf.broker_url}
    point_celery_at(BROKER_URL, eager=False)
    os.environ["OPSDESK_NOTIFICATIONS_QUEUE"] = notification_queue
    settings.OPSDESK_SMS_GROUP_WAIT = "0"
    settings.OPSDESK_SMS_RATE_LIMIT = "0"
    settings.OPSDESK_SMS_QUIET_HOURS = ""
    sms_gateway.reset("ok")
    if not celery_workers.processes:
        celery_workers.start()
    yield sms_gateway
    if sms_gateway._server is None:
        sms_gateway.start()
    sms_gateway.reset("ok")
    point_celery_at(saved["broker_url"], eager=saved["task_always_eager"])
    os.environ.pop("OPSDESK_NOTIFICATIONS_QUEUE", None)
