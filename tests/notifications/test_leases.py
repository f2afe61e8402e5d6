"""Leases of claimed messages (notifications/delivery.py): short, renewed while a send is under way, so
a slow gateway never sees a message twice and a killed worker's messages go out seconds later, not
after the worst case of its whole batch. Real HTTP gateway on loopback, committed rows (each worker's
thread has its own database connection, as separate processes would)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone

from notifications import delivery
from notifications.models import Notification, NotificationStatus
from notifications.services import notify
from tests.helpers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

LEASE = 1.5  # seconds; the keeper renews every 0.5 s


@pytest.fixture
def gateway(http_gateway, settings, monkeypatch):
    settings.OPSDESK_SMS_HTTP_TIMEOUT = "10"  # longer than the slow gateway: the send succeeds
    settings.OPSDESK_SMS_LEASE_SECONDS = str(LEASE)
    # The lease's floor covers the record's retries through a database restart; short ones for a short lease.
    monkeypatch.setattr(delivery, "RECORD_RETRY_DELAYS", (0.1, 0.2))
    return http_gateway


def test_a_send_slower_than_the_lease_is_not_taken_over_by_another_worker(gateway, org):
    gateway.mode, gateway.slow_seconds = "slow", LEASE * 2.5  # the gateway answers after 3.75 s
    written = []

    def first_worker():  # tasks run in-process: the commit delivers, in this thread
        try:
            with transaction.atomic():
                written.extend(notify(event="test.lease", text="慢网关短信", key=f"t:{uuid.uuid4().hex}",
                                      people=[org.people["member"]]))
        finally:
            connection.close()

    sending = threading.Thread(target=first_worker)
    sending.start()
    try:
        gateway.first_request.wait(10)
        # A second worker looks for due messages all through the slow send: none is due (the lease is renewed).
        taken = []
        wait_for(lambda: taken.extend(delivery.deliver_due().outcomes) or not sending.is_alive(), timeout=20,
                 message="the slow send to finish")
    finally:
        sending.join(20)
    [row] = written
    row = Notification.objects.get(pk=row.pk)
    assert taken == []
    assert row.status == NotificationStatus.SENT and row.attempts == 1
    assert len(gateway.received) == 1 and gateway.delivered_keys[row.idempotency_key] == 1


def test_a_dead_workers_messages_go_out_one_lease_later(gateway, org):
    gateway.reset("ok")
    with transaction.atomic():
        rows = [notify(event="test.lease", text=f"死掉的进程 {i}", key=f"t:{uuid.uuid4().hex}",
                       people=[org.people["member"]], digest=False)[0] for i in range(3)]
    sent_at_write = len(gateway.received)
    # Put them back as a worker that claimed them and died before sending would leave them.
    Notification.objects.filter(pk__in=[r.pk for r in rows]).update(status=NotificationStatus.QUEUED, sent_at=None)
    gateway.reset("ok")
    claimed, _ = delivery._claim(timezone.now(), 10, None)  # ... and it is killed here
    assert sorted(c.pk for c in claimed) == sorted(r.pk for r in rows)
    claimed_at = timezone.now()

    assert delivery.deliver_due().outcomes == {}  # its lease is live: nobody else may send them yet
    wait_for(lambda: len(delivery.deliver_due().outcomes) == 3, timeout=LEASE * 4,
             message="the dead worker's messages to be claimed again")

    freed_after = (timezone.now() - claimed_at).total_seconds()
    assert sent_at_write == 3
    assert [d["text"] for d in gateway.delivered] == [f"死掉的进程 {i}" for i in range(3)]  # in order
    assert LEASE <= freed_after < LEASE * 4
    assert set(Notification.objects.filter(pk__in=[r.pk for r in rows]).values_list("status", flat=True)) == {
        NotificationStatus.SENT}
