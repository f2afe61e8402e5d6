"""The teller's smaller items: ratings in words, "发生时间" that starts at now and refuses the future,
and the known-incident box for the chosen system only, in plain words."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.tickets.helpers import FAULT_DATA, act, ensure_types, file_fault_report, fresh

pytestmark = pytest.mark.django_db

WORDS = ["非常满意", "满意", "一般", "不满意", "很不满意"]


def test_the_confirm_form_and_the_request_show_the_rating_in_words(org, client, api_client_for):
    request = file_fault_report(org)
    act(request, "answer", org.people["county"], "请重启终端")
    client.force_login(org.people["teller"])
    page = client.get(f"/tickets/{request.pk}/").content.decode()
    options = re.findall(r'<option value="(\d)">([^<]+)</option>', page)
    assert options == [("5", "非常满意"), ("4", "满意"), ("3", "一般"), ("2", "不满意"), ("1", "很不满意")]
    client.post(f"/tickets/{request.pk}/act/confirm/", {"confirm-version": fresh(request).version,
                                                        "confirm-rating": "4"})
    assert fresh(request).rating == 4
    page = client.get(f"/tickets/{request.pk}/").content.decode()
    assert re.search(r'<dd id="rating">满意</dd>', page) and "/ 5" not in page
    body = api_client_for(org.people["teller"]).get(f"/api/requests/{request.pk}/",
                                                    HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert (body["rating"], body["rating_label"]) == (4, "满意")


def test_when_it_happened_starts_at_now(org, client):
    ensure_types()
    client.force_login(org.people["teller"])
    page = client.get("/tickets/new/fault_report/").content.decode()
    value = re.search(r'name="f_occurred_at" value="([^"]+)"', page).group(1)
    shown = timezone.make_aware(timezone.datetime.strptime(value, "%Y-%m-%dT%H:%M"))
    assert abs(timezone.now() - shown) < timedelta(minutes=2)


def test_a_time_in_the_future_is_refused_in_chinese(org, client, api_client_for):
    ensure_types()
    tomorrow = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.force_login(org.people["teller"])
    page = client.post("/tickets/new/fault_report/", {
        "subject": "交易失败", "system": org.systems[0].pk,
        **{f"f_{k}": v for k, v in {**FAULT_DATA, "occurred_at": tomorrow}.items()}}).content.decode()
    assert "这个时间在将来：请填写实际发生的时间。" in page
    answer = api_client_for(org.people["teller"]).post("/api/requests/", {
        "type": "fault_report", "subject": "交易失败", "system": org.systems[0].pk,
        "data": {**FAULT_DATA, "occurred_at": tomorrow}}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert answer.status_code == 400 and "将来" in str(answer.json())
    # A minute ago is fine.
    a_minute_ago = (timezone.localtime() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    answer = api_client_for(org.people["teller"]).post("/api/requests/", {
        "type": "fault_report", "subject": "交易失败", "system": org.systems[0].pk,
        "data": {**FAULT_DATA, "occurred_at": a_minute_ago}}, format="json")
    assert answer.status_code == 201


def test_the_known_incident_box_is_for_the_chosen_system_in_plain_words(org, client):
    from alerts.models import Incident

    ensure_types()
    now = timezone.now()
    for system, host in ((org.systems[0], "szhxdb01"), (org.systems[1], "xdapp02")):
        Incident.objects.create(dedup_key=f"{host}|check", source="nagios", host=host, check_name="PROC_CHK_01",
                                category="app", severity="critical", system=system, summary="进程异常",
                                first_seen=now, last_seen=now)
    client.force_login(org.people["teller"])
    page = client.post("/tickets/new/fault_report/", {"subject": "", "system": org.systems[1].pk}).content.decode()
    boxes = re.findall(r'<div class="known-incident" role="alert" data-system="(\d+)"( hidden)?>', page)
    assert sorted(boxes) == sorted([(str(org.systems[0].pk), " hidden"), (str(org.systems[1].pk), "")])
    assert "已知故障正在处理中" in page and "信贷系统" in page
    assert not any(code in page for code in ("szhxdb01", "xdapp02", "PROC_CHK_01"))
    assert "tickets/known_incident.js" in page
