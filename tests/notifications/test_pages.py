"""The pages, in Chinese: my notifications and my number, the delivery log, the rosters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import DutyShift, Notification, NotificationStatus
from notifications.services import notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def messages_written(org):
    notify(event="request.dispatch", text="给组员的提醒", key="a", people=[org.people["member"]],
           about=org.systems[0])
    notify(event="incident.opened", text="给值班员的告警", key="b", people=[org.people["operator"]], urgent=True)
    Notification.objects.filter(recipient=org.people["operator"]).update(status=NotificationStatus.DEAD,
                                                                         last_error="gateway answered 400", attempts=1)


def test_a_person_sees_only_their_own_notifications(client, org, messages_written):
    client.force_login(org.people["member"])
    body = client.get(reverse("notifications:mine")).content.decode()
    assert "我的通知" in body and "给组员的提醒" in body
    assert "给值班员的告警" not in body


def test_a_person_sets_their_own_mobile_and_a_bad_number_is_refused_in_chinese(client, org):
    member = org.people["member"]
    client.force_login(member)
    response = client.post(reverse("notifications:mine"), {"mobile": "12345"})
    assert response.status_code == 400
    assert "请输入有效的手机号码" in response.content.decode()
    member.refresh_from_db()
    assert member.mobile != "12345"
    response = client.post(reverse("notifications:mine"), {"mobile": "+86 139-0000-1111"}, follow=True)
    assert response.status_code == 200 and "手机号已保存" in response.content.decode()
    member.refresh_from_db()
    assert member.mobile == "13900001111"


def test_the_delivery_log_is_for_administrators_and_filters(client, org, messages_written):
    client.force_login(org.people["manager"])
    assert client.get(reverse("notifications:log")).status_code == 403
    client.force_login(org.people["admin"])
    body = client.get(reverse("notifications:log")).content.decode()
    assert "发送记录" in body and "给组员的提醒" in body and "给值班员的告警" in body
    assert "gateway answered 400" in body and "重发" in body
    body = client.get(reverse("notifications:log"), {"unit": "G1"}).content.decode()
    assert "给组员的提醒" in body and "给值班员的告警" not in body
    body = client.get(reverse("notifications:log"), {"about": f"org.productionsystem:{org.systems[0].pk}"}) \
        .content.decode()
    assert "给组员的提醒" in body and "给值班员的告警" not in body
    body = client.get(reverse("notifications:log"), {"about": "nonsense"}).content.decode()
    assert "没有符合条件的通知" in body


def test_an_administrator_resends_a_dead_notification_from_the_log(client, org, messages_written):
    dead = Notification.objects.get(status=NotificationStatus.DEAD)
    client.force_login(org.people["operator"])
    assert client.post(reverse("notifications:resend", args=[dead.pk])).status_code == 403
    client.force_login(org.people["admin"])
    response = client.post(reverse("notifications:resend", args=[dead.pk]), follow=True)
    assert "已重新排队发送" in response.content.decode()
    dead.refresh_from_db()
    assert dead.status == NotificationStatus.QUEUED


def test_an_administrator_edits_the_roster_and_bad_input_is_explained(client, org):
    url = reverse("notifications:roster", args=["G1"])
    start = timezone.localtime() - dt.timedelta(hours=1)
    form = {"person": org.people["member"].pk, "starts_at": f"{start:%Y-%m-%dT%H:%M}",
            "ends_at": f"{start + dt.timedelta(hours=9):%Y-%m-%dT%H:%M}"}
    client.force_login(org.people["lead"])
    assert client.post(url, form).status_code == 403
    client.force_login(org.people["admin"])
    bad = client.post(url, {**form, "ends_at": f"{start - dt.timedelta(hours=1):%Y-%m-%dT%H:%M}"})
    assert bad.status_code == 400 and "班次的结束时间必须晚于开始时间" in bad.content.decode()
    assert client.post(url, form).status_code == 302
    shift = DutyShift.objects.get()
    assert shift.person == org.people["member"] and shift.unit == org.groups[0]
    body = client.get(url).content.decode()
    assert "值班表" in body and str(org.people["member"]) in body
    client.post(reverse("notifications:shift_delete", args=[shift.pk]))
    assert not DutyShift.objects.exists()


def test_the_nav_links_my_notifications_for_every_role(client, org):
    client.force_login(org.people["teller"])
    body = client.get(reverse("notifications:mine")).content.decode()
    assert 'data-nav="notifications:mine"' in body
    assert 'data-nav="notifications:log"' not in body
