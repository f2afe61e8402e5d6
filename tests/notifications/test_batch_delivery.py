"""Batched delivery (notifications/delivery.py) against a real HTTP gateway on loopback, in this
process: what a worker does when woken, step by step."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from notifications.delivery import deliver_due
from notifications.models import Notification, NotificationStatus
from notifications.services import notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway(http_gateway):
    return http_gateway


def write(person, text: str) -> Notification:
    with transaction.atomic():
        [row] = notify(event="test.batch", text=text, key=f"t:{uuid.uuid4().hex}", people=[person])
    return row


def texts_for(gateway, person) -> list[str]:
    return [d["text"] for d in gateway.delivered if d["mobile"] == person.mobile]


def test_one_recipient_failing_holds_back_only_their_later_messages(gateway, org):
    first, second = org.people["member"], org.people["member_other"]
    rows = []
    for i in range(3):
        rows.append(write(first, f"甲-{i}"))
        rows.append(write(second, f"乙-{i}"))
    gateway.script = ["500"]  # the very first send (甲-0) fails; everything after is accepted

    deliver_due()

    assert texts_for(gateway, second) == ["乙-0", "乙-1", "乙-2"]
    assert texts_for(gateway, first) == []
    statuses = {r.text: Notification.objects.get(pk=r.pk).status for r in rows}
    assert statuses["甲-0"] == NotificationStatus.FAILED
    # Put back as they were: not attempted, due again once 甲-0 has gone.
    assert statuses["甲-1"] == statuses["甲-2"] == NotificationStatus.QUEUED
    assert Notification.objects.get(pk=rows[2].pk).attempts == 0

    deliver_due()  # 甲-0's retry is not due yet: nothing of 甲's may overtake it
    assert texts_for(gateway, first) == []

    Notification.objects.filter(pk=rows[0].pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    deliver_due()
    assert texts_for(gateway, first) == ["甲-0", "甲-1", "甲-2"]
    assert all(count == 1 for count in gateway.delivered_keys.values())


def test_a_batch_goes_over_one_kept_alive_connection(gateway, org, settings):
    settings.OPSDESK_SMS_RECORD_EVERY = "7"
    people = [org.people[name] for name in ("member", "member_other", "operator", "dispatcher", "county")]
    for i in range(30):
        write(people[i % len(people)], f"批量-{i}")

    report = deliver_due()

    assert report.counts == {NotificationStatus.SENT: 30}
    assert len(gateway.delivered) == 30
    assert len({entry["peer"] for entry in gateway.received}) == 1  # one TCP connection for all thirty
    assert Notification.objects.filter(status=NotificationStatus.SENT, claimed_until__isnull=True).count() == 30


def test_a_row_another_worker_took_over_is_not_sent_again(gateway, org):
    """A worker whose lease ran out and whose rows another worker claimed must leave them alone."""
    from notifications import delivery

    row = write(org.people["operator"], "租约测试")
    claimed, _ = delivery._claim(timezone.now(), 10, None)
    assert [c.pk for c in claimed] == [row.pk]
    # Another worker claims it after our lease ran out (its own lease replaces ours).
    Notification.objects.filter(pk=row.pk).update(claimed_until=timezone.now() + dt.timedelta(seconds=60),
                                                  attempts=2)
    report = delivery.DeliveryReport()
    delivery._send_batch(claimed, report, set())
    assert gateway.received == []
    assert Notification.objects.get(pk=row.pk).status == NotificationStatus.SENDING


def test_one_event_to_many_people_is_one_row_each_and_a_repeat_adds_nothing(gateway, org):
    people = [org.people[name] for name in ("member", "member_other", "operator", "dispatcher", "county", "manager")]
    key = f"fanout:{uuid.uuid4().hex}"
    with transaction.atomic():
        created = notify(event="test.fanout", text="全员通知", key=key, people=people)
        again = notify(event="test.fanout", text="全员通知", key=key, people=people)  # a repeat adds nothing
    assert len(created) == len(people) and again == []
    assert {n.recipient_id for n in created} == {p.pk for p in people}
    deliver_due()
    assert sorted(d["mobile"] for d in gateway.delivered) == sorted(p.mobile for p in people)
