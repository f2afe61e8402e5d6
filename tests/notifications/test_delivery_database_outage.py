"""An SMS the gateway accepted while the database restarts is recorded as sent once the database
is back, not sent again when its lease runs out (a real HTTP gateway on loopback, a real
PostgreSQL connection terminated and refused for 1.5 s)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, transaction

from notifications.models import Notification, NotificationStatus
from notifications.services import notify
from tests.helpers import DatabaseOutage

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_message_the_gateway_took_is_recorded_sent_when_the_database_comes_back(org, http_gateway):
    sms_gateway = http_gateway
    outage = DatabaseOutage()
    connection.ensure_connection()
    desk_backend = connection.connection.info.backend_pid  # the connection that delivers (in-process tasks)
    restored = threading.Event()

    def restart_database(entry):
        outage.begin(terminate_pid=desk_backend)
        threading.Timer(1.5, lambda: (outage.end(), restored.set())).start()

    sms_gateway.on_accept = restart_database
    try:
        with transaction.atomic():
            [row] = notify(event="test.outage", text="数据库重启期间的短信", key=f"t:{uuid.uuid4().hex}",
                           people=[org.people["member"]])
        # Tasks run in-process: the delivery ran on commit, across the outage.
        assert restored.wait(10)
    finally:
        sms_gateway.on_accept = None
        outage.end()
    row = Notification.objects.get(pk=row.pk)
    assert row.status == NotificationStatus.SENT and row.attempts == 1
    assert [r["key"] for r in sms_gateway.received] == [row.idempotency_key]
