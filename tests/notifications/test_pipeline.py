"""The delivery pipeline end to end: notify() in a transaction → Redis → a real Celery worker
process → the HTTP gateway backend → a real HTTP server on loopback."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from notifications.models import Notification, NotificationStatus
from notifications.services import notification_resend, notifications_dispatch_due, notify
from tests.notifications.conftest import BROKER_URL, point_celery_at, wait_until

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def send(person, text: str, **kwargs) -> Notification:
    with transaction.atomic():
        [row] = notify(event="test.message", text=text, key=f"t:{uuid.uuid4().hex}", people=[person], **kwargs)
    return row


def status_of(pk: int) -> str:
    return Notification.objects.get(pk=pk).status


def test_a_notification_reaches_the_gateway_once(pipeline, org):
    person = org.people["member"]
    row = send(person, "服务请求SR0000001已流转至您所在小组")
    wait_until(lambda: status_of(row.pk) == NotificationStatus.SENT, what="sent")
    row.refresh_from_db()
    assert row.attempts == 1
    assert row.provider_message_id == f"gw-{row.idempotency_key}"
    assert row.latency_seconds is not None and row.sent_at >= row.created_at
    [delivered] = pipeline.delivered
    assert delivered["key"] == row.idempotency_key
    assert delivered["mobile"] == person.mobile
    assert delivered["text"] == "服务请求SR0000001已流转至您所在小组"
    assert delivered["auth"] == "Bearer test-token"


def test_timeouts_5xx_and_dropped_connections_are_retried_and_delivered_once(pipeline, org):
    pipeline.slow_seconds = 6  # longer than the backend's 3 s timeout
    pipeline.script = ["500", "drop", "slow"]
    row = send(org.people["lead"], "重试测试")
    wait_until(lambda: status_of(row.pk) == NotificationStatus.SENT, timeout=180, what="sent after retries")
    row.refresh_from_db()
    assert row.attempts == 4
    assert row.last_error == ""
    assert len(pipeline.received) == 4
    # The slow attempt was accepted by the gateway before our client gave up; the retry carried
    # the same idempotency key, so the phone got it once.
    assert pipeline.delivered_keys[row.idempotency_key] == 2
    assert [d["key"] for d in pipeline.delivered] == [row.idempotency_key]


def test_a_permanent_error_is_dead_at_once_and_resend_delivers_it(pipeline, org):
    pipeline.mode = "400"
    row = send(org.people["operator"], "号码错误测试")
    wait_until(lambda: status_of(row.pk) == NotificationStatus.DEAD, what="dead")
    row.refresh_from_db()
    assert row.attempts == 1
    assert "400" in row.last_error and "invalid mobile" in row.last_error
    assert len(pipeline.received) == 1

    pipeline.mode = "ok"
    notification_resend(notification=row)
    wait_until(lambda: status_of(row.pk) == NotificationStatus.SENT, what="sent after resend")
    assert [d["key"] for d in pipeline.delivered] == [row.idempotency_key]


def test_retries_run_out_into_the_dead_state_with_the_last_error(pipeline, org):
    pipeline.mode = "500"
    row = send(org.people["dispatcher"], "网关故障测试")
    wait_until(lambda: status_of(row.pk) == NotificationStatus.DEAD, timeout=240, what="dead")
    row.refresh_from_db()
    assert row.attempts == 10
    assert "500" in row.last_error
    assert len(pipeline.received) == 10
    assert pipeline.delivered == []


def test_gateway_down_for_a_while_then_everything_arrives_in_order(pipeline, org):
    first, second = org.people["member"], org.people["member_other"]
    pipeline.stop()
    rows = []
    for i in range(4):
        rows.append(send(first, f"甲-{i}"))
        rows.append(send(second, f"乙-{i}"))
    # The gateway is down: the first message of each person is being retried.
    wait_until(lambda: Notification.objects.filter(attempts__gte=3).count() >= 2, timeout=120,
               what="retries while the gateway is down")
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() == 0
    pipeline.start()
    wait_until(lambda: Notification.objects.filter(status=NotificationStatus.SENT).count() == 8, timeout=180,
               what="all eight sent")
    for person, prefix in ((first, "甲"), (second, "乙")):
        texts = [d["text"] for d in pipeline.delivered if d["mobile"] == person.mobile]
        assert texts == [f"{prefix}-{i}" for i in range(4)]
    assert all(count == 1 for count in pipeline.delivered_keys.values())


def test_worker_killed_mid_send_is_delivered_once(pipeline, org, celery_workers):
    pipeline.slow_seconds = 10
    pipeline.mode = "slow"
    row = send(org.people["operator"], "进程被杀测试")
    assert pipeline.first_request.wait(120), "the worker never reached the gateway"
    celery_workers.kill(0)  # SIGKILL while the request is in flight: nothing acknowledged
    assert status_of(row.pk) == NotificationStatus.SENDING
    pipeline.mode = "ok"
    celery_workers.start(0)
    wait_until(lambda: status_of(row.pk) == NotificationStatus.SENT, timeout=180,
               what="sent by the new worker")
    row.refresh_from_db()
    assert row.attempts == 2
    assert len(pipeline.received) == 2
    assert [d["key"] for d in pipeline.delivered] == [row.idempotency_key]


def test_a_burst_of_100_alerts_for_one_incident_is_one_digest(pipeline, org, settings, incident):
    settings.OPSDESK_SMS_GROUP_WAIT = "20"  # the whole burst is written well inside the window
    operator = org.people["operator"]
    for i in range(100):
        with transaction.atomic():
            notify(event="incident.alert", text=f"告警{i}", key=f"alert:{incident.pk}:{i}", about=incident,
                   people=[operator], urgent=True)
    wait_until(lambda: not Notification.objects.filter(status__in=["queued", "sending", "failed"]).exists(),
               timeout=180, what="the digest delivered")
    carrier = Notification.objects.get(status=NotificationStatus.SENT)
    assert carrier.digest_count == 100
    assert Notification.objects.filter(status=NotificationStatus.MERGED, merged_into=carrier).count() == 99
    [delivered] = pipeline.delivered
    assert delivered["mobile"] == operator.mobile
    assert "100条提醒已合并" in delivered["text"] and "告警99" in delivered["text"]


def test_past_the_rate_limit_messages_collapse_into_one_digest(pipeline, org, settings):
    settings.OPSDESK_SMS_RATE_LIMIT = "3"
    settings.OPSDESK_SMS_RATE_WINDOW = "8"
    person = org.people["county"]
    for i in range(8):
        send(person, f"流转提醒{i}")
    wait_until(lambda: not Notification.objects.filter(status__in=["queued", "sending", "failed"]).exists(),
               timeout=180, what="everything delivered")
    texts = [d["text"] for d in pipeline.delivered]
    assert texts[:3] == ["流转提醒0", "流转提醒1", "流转提醒2"]
    assert len(texts) == 4
    assert "5条提醒已合并" in texts[3] and "流转提醒7" in texts[3]


def test_a_notification_written_while_the_broker_is_down_is_sent_by_the_dispatcher(pipeline, org, settings):
    point_celery_at("redis://127.0.0.1:1/0", eager=False)  # nothing listens there
    try:
        row = send(org.people["member"], "代理中断测试")  # commits; the hand-over to Celery fails
    finally:
        point_celery_at(BROKER_URL, eager=False)
    assert status_of(row.pk) == NotificationStatus.QUEUED
    settings.OPSDESK_SMS_RELAY_GRACE = "0"
    assert notifications_dispatch_due() == 1
    wait_until(lambda: status_of(row.pk) == NotificationStatus.SENT, what="sent after the relay")
    assert [d["key"] for d in pipeline.delivered] == [row.idempotency_key]
    assert Notification.objects.get(pk=row.pk).created_at <= timezone.now()


def test_a_hand_off_is_fanned_out_by_the_worker_after_commit(pipeline, org):
    from notifications.models import PendingNotice
    from notifications.services import recipients_for_unit
    from tests.tickets.helpers import file_fault_report

    with transaction.atomic():
        request = file_fault_report(org)  # submit: the county centre receives it
        # In the transaction: one notice, no per-person row yet (the roster is the worker's job).
        assert PendingNotice.objects.count() == 1
        assert not Notification.objects.filter(event="request.submit").exists()
    county_people = {p.mobile for p in recipients_for_unit(request.holder_unit)}
    assert county_people
    wait_until(lambda: {d["mobile"] for d in pipeline.delivered} == county_people, what="county's SMS")
    assert not PendingNotice.objects.exists()
    rows = Notification.objects.filter(event="request.submit")
    assert rows.count() == len(county_people) and all(r.about == request for r in rows)
    assert request.number in pipeline.delivered[0]["text"]


def test_a_notice_whose_task_was_lost_is_fanned_out_by_the_relay_once(pipeline, org, settings):
    from notifications.models import PendingNotice
    from tests.tickets.helpers import file_fault_report

    point_celery_at("redis://127.0.0.1:1/0", eager=False)  # the broker is down at commit
    try:
        with transaction.atomic():
            file_fault_report(org)
    finally:
        point_celery_at(BROKER_URL, eager=False)
    notice = PendingNotice.objects.get()  # kept: the hand-off's message is not lost
    assert not Notification.objects.filter(event="request.submit").exists()
    settings.OPSDESK_SMS_RELAY_GRACE = "0"
    notifications_dispatch_due()
    notifications_dispatch_due()  # twice, as two beats might: still one message per person
    wait_until(lambda: not PendingNotice.objects.filter(pk=notice.pk).exists(), what="notice fanned out")
    rows = list(Notification.objects.filter(event="request.submit"))
    assert rows
    wait_until(lambda: len(pipeline.delivered) == len(rows), what="sent")
    assert sorted(d["key"] for d in pipeline.delivered) == sorted(r.idempotency_key for r in rows)
