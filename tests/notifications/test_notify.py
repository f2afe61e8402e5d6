"""notify() on the embedded default (tasks in-process, outbox backend): what is written, templates,
people without a number, quiet hours, resend."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from notifications.models import Notification, NotificationStatus, NotificationTemplate
from notifications.services import notification_resend, notifications_dispatch_due, notify

pytestmark = pytest.mark.django_db


def test_one_message_per_person_sent_by_the_outbox_and_a_repeat_adds_nothing(
        org, django_capture_on_commit_callbacks):
    people = [org.people["member"], org.people["lead"]]
    with django_capture_on_commit_callbacks(execute=True):
        created = notify(event="request.dispatch", text="请处理SR0000001", key="request:1:v3", people=people,
                         about=org.systems[0])
    assert len(created) == 2
    rows = list(Notification.objects.order_by("pk"))
    assert [r.recipient for r in rows] == people
    assert all(r.status == NotificationStatus.SENT and r.attempts == 1 for r in rows)
    assert rows[0].address == people[0].mobile and rows[0].unit == people[0].unit
    assert rows[0].provider_message_id == f"outbox:request:1:v3:{people[0].pk}"
    assert rows[0].about == org.systems[0]
    with django_capture_on_commit_callbacks(execute=True):
        again = notify(event="request.dispatch", text="请处理SR0000001", key="request:1:v3", people=people)
    assert again == [] and Notification.objects.count() == 2


def test_the_text_comes_from_the_template_an_administrator_edited(org):
    person = org.people["county"]
    [row] = notify(event="request.escalate", key="k1", people=[person], template="request.handoff",
                   context={"number": "SR0000007", "title": "存款报错", "action": "上报", "unit": "县1"})
    assert row.text == "【运维服务台】服务请求SR0000007“存款报错”已上报至县1，请及时处理。"

    NotificationTemplate.objects.update_or_create(code="request.handoff", defaults={
        "name": "流转", "body": "请处理{{ number }}（{{ unit }}）"})
    [row] = notify(event="request.escalate", key="k2", people=[person], template="request.handoff",
                   context={"number": "SR0000008", "unit": "县1"})
    assert row.text == "请处理SR0000008（县1）"

    # A template broken after it was saved must not stop the message: the shipped text goes out.
    NotificationTemplate.objects.filter(code="request.handoff").update(body="{% if %}")
    [row] = notify(event="request.escalate", key="k3", people=[person], template="request.handoff",
                   context={"number": "SR0000009", "title": "T", "action": "上报", "unit": "县1"})
    assert row.text.startswith("【运维服务台】服务请求SR0000009")


def test_a_person_without_a_mobile_is_recorded_dead_and_resent_once_they_have_one(
        org, django_capture_on_commit_callbacks):
    person = org.people["city"]
    person.mobile = ""
    person.save()
    with django_capture_on_commit_callbacks(execute=True):
        [row] = notify(event="request.escalate", text="上报提醒", key="k", people=[person])
    row.refresh_from_db()
    assert row.status == NotificationStatus.DEAD and row.last_error == "no mobile number"

    person.mobile = "13912345678"
    person.save()
    with django_capture_on_commit_callbacks(execute=True):
        notification_resend(notification=row)
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT and row.address == "13912345678"


def _quiet_hours_around(now: dt.datetime) -> tuple[str, dt.datetime]:
    local = timezone.localtime(now)
    start, end = local - dt.timedelta(hours=1), local + dt.timedelta(hours=1)
    end = end.replace(second=0, microsecond=0)
    return f"{start:%H:%M}-{end:%H:%M}", end


def test_quiet_hours_hold_ordinary_notices_but_never_urgent_ones(org, settings, django_capture_on_commit_callbacks):
    window, ends = _quiet_hours_around(timezone.now())
    settings.OPSDESK_SMS_QUIET_HOURS = window
    person = org.people["operator"]
    with django_capture_on_commit_callbacks(execute=True):
        [ordinary] = notify(event="request.dispatch", text="普通提醒", key="a", people=[person])
        [urgent] = notify(event="incident.opened", text="核心系统严重告警", key="b", people=[person], urgent=True)
    ordinary.refresh_from_db()
    urgent.refresh_from_db()
    assert urgent.status == NotificationStatus.SENT
    assert ordinary.status == NotificationStatus.QUEUED and ordinary.not_before == ends
    # The dispatcher releases it once the quiet hours are over, not before.
    assert notifications_dispatch_due() == 0
    Notification.objects.filter(pk=ordinary.pk).update(not_before=timezone.now() - dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_dispatch_due() == 1
    ordinary.refresh_from_db()
    assert ordinary.status == NotificationStatus.SENT


def test_e_mail_is_a_second_channel(org, settings, django_capture_on_commit_callbacks):
    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    person = org.people["manager"]
    person.email = "manager@bank.example"
    person.save()
    with django_capture_on_commit_callbacks(execute=True):
        [row] = notify(event="report.weekly", text="本周统计报表已生成", key="weekly:1", people=[person],
                       channel="email")
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT and row.address == "manager@bank.example"
    [message] = mail.outbox
    assert message.to == ["manager@bank.example"] and message.body == "本周统计报表已生成"
