"""The maintenance-window page of the desk: list, form, end early, who may, hostile text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Silence

PAGE = "/alerts/silences/"


def form_data(**overrides) -> dict:
    data = {"host_pattern": "", "system": "", "check_pattern": "", "category": "", "starts_at": "",
            "ends_at": "", "duration_minutes": "", "reason": ""}
    return {**data, **overrides}


def test_operator_sees_the_page_in_chinese_linked_from_the_board(db, org, client):
    client.force_login(org.people["operator"])
    board = client.get("/alerts/board/").content.decode()
    assert f'href="{PAGE}"' in board and "维护窗口" in board
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "维护窗口" in html and "原因" in html
    # The start is filled in with now (local time, to the minute).
    assert timezone.localtime().strftime("%Y-%m-%dT%H:") in html


def test_operator_opens_a_window_from_the_form_and_sees_it_listed(db, org, client):
    client.force_login(org.people["operator"])
    r = client.post(PAGE, form_data(host_pattern="szhxdb*", system=str(org.systems[0].pk), category="db",
                                    duration_minutes="90", reason="核心数据库补丁"))
    assert r.status_code == 302 and r["Location"] == PAGE
    silence = Silence.objects.get()
    assert silence.author == org.people["operator"] and silence.system == org.systems[0]
    assert silence.ends_at - silence.starts_at == timedelta(minutes=90)
    html = client.get(PAGE).content.decode()
    assert "szhxdb*" in html and "核心数据库补丁" in html and "核心系统" in html
    assert f'data-silence="{silence.pk}"' in html


def test_a_window_with_an_end_time_in_local_time(db, org, client):
    client.force_login(org.people["operator"])
    start = timezone.localtime() + timedelta(days=1)
    end = start + timedelta(hours=3)
    r = client.post(PAGE, form_data(check_pattern="Disk *", starts_at=start.strftime("%Y-%m-%dT%H:%M"),
                                    ends_at=end.strftime("%Y-%m-%dT%H:%M"), reason="夜间变更"))
    assert r.status_code == 302
    silence = Silence.objects.get()
    assert timezone.localtime(silence.starts_at).strftime("%Y-%m-%d %H:%M") == start.strftime("%Y-%m-%d %H:%M")
    assert silence.ends_at - silence.starts_at == timedelta(hours=3)
    assert "即将开始" in client.get(PAGE).content.decode()


@pytest.mark.parametrize(("data", "message"), [
    (form_data(duration_minutes="30", reason="x"), "请至少填写主机、生产系统、检查项或类别中的一项。"),
    (form_data(host_pattern="a*", duration_minutes="30"), "请填写维护窗口的原因。"),
    (form_data(host_pattern="a*", reason="x"), "请填写结束时间或持续时长。"),
    (form_data(host_pattern="a*", reason="x", starts_at="2099-01-02T10:00", ends_at="2099-01-02T09:00"),
     "结束时间必须晚于开始时间。"),
])
def test_invalid_input_shows_a_clear_message_and_keeps_the_input(db, org, client, data, message):
    client.force_login(org.people["operator"])
    r = client.post(PAGE, data)
    assert r.status_code == 400
    html = r.content.decode()
    assert message in html
    assert not Silence.objects.exists()


def test_ending_a_window_from_the_page(db, org, client):
    silence = Silence.objects.create(host_pattern="szhxdb*", ends_at=timezone.now() + timedelta(hours=1),
                                     reason="补丁", author=org.people["operator"])
    client.force_login(org.people["dispatcher"])
    assert client.get(f"/alerts/silences/{silence.pk}/end/").status_code == 405
    r = client.post(f"/alerts/silences/{silence.pk}/end/")
    assert r.status_code == 302
    assert not Silence.objects.active().exists()
    assert f'data-silence="{silence.pk}"' not in client.get(PAGE).content.decode()
    assert client.post("/alerts/silences/999999/end/").status_code == 404


@pytest.mark.parametrize("who", ["teller", "county", "manager"])
def test_people_off_the_board_get_403(db, org, client, who):
    silence = Silence.objects.create(host_pattern="a*", ends_at=timezone.now() + timedelta(hours=1), reason="x")
    client.force_login(org.people[who])
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, form_data(host_pattern="b*", duration_minutes="30", reason="x")).status_code == 403
    assert client.post(f"/alerts/silences/{silence.pk}/end/").status_code == 403
    assert Silence.objects.count() == 1 and Silence.objects.active().exists()
    assert 'id="silences-link"' not in client.get("/alerts/board/").content.decode()


def test_hostile_reason_and_patterns_are_shown_as_text(db, org, client):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    client.force_login(org.people["operator"])
    r = client.post(PAGE, form_data(host_pattern='<b onmouseover="x">*', duration_minutes="30", reason=hostile))
    assert r.status_code == 302
    html = client.get(PAGE).content.decode()
    assert hostile not in html and "<img src=x" not in html and '<b onmouseover' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
