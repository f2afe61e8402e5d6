"""From alarm to request in one click: the board's 提交服务请求 opens a request prefilled from the
incident, filed on behalf of the provincial centre; the link is kept both ways (the request shows the
incident's live state, the incident lists its requests); who may not file gets a Chinese 403 page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from alerts.models import Incident
from alerts.services import Inbound, incident_acknowledge, ingest_messages
from notifications.models import Notification
from tests.alerts.test_imap_poller import nagios
from tests.factories import make_host
from tests.tickets.helpers import act, ensure_types, fresh
from tickets.models import IncidentLink, ServiceRequest
from workflow.engine import available_transitions

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def incident(org) -> Incident:
    ensure_types()
    make_host(org.systems[0], "szhxdb01")
    ingest_messages(items=[Inbound(raw=nagios(1, service="Oracle Listener"), origin="upload")])
    return Incident.objects.get()


def test_an_operator_files_a_prefilled_request_from_the_board_and_the_link_shows_both_ways(
        org, client, incident, django_capture_on_commit_callbacks):
    operator = org.people["operator"]
    client.force_login(operator)
    feed = client.get(reverse("alerts:board_feed")).json()
    url = feed["incidents"][0]["ticket_url"]
    assert url == reverse("tickets:new_from_incident", args=[incident.pk])

    form = client.get(url)
    assert form.status_code == 200
    html = form.content.decode()
    assert "szhxdb01 Oracle Listener" in html  # the subject, with the check as written
    assert f'<option value="{org.systems[0].pk}" selected>' in html
    assert f"告警事件 #{incident.pk}" in html  # the description names the incident

    data = {"type": "fault_report", "submission_key": "k1", "subject": "szhxdb01 Oracle Listener 监听中断",
            "system": org.systems[0].pk, "f_transaction_code": "-", "f_occurred_at": "2026-11-20T09:30",
            "f_scope": "several_outlets", "f_description": "核心数据库监听中断，柜面交易失败"}
    with django_capture_on_commit_callbacks(execute=True):
        filed = client.post(url, data)
    assert filed.status_code == 302
    request = ServiceRequest.objects.get()
    assert (request.state, request.holder_unit, request.requester) == ("at_province", org.ops, operator)
    assert IncidentLink.objects.get().incident_id == incident.pk
    # The dispatchers of provincial operations are told, as for any request reaching them.
    assert org.people["dispatcher"] in [n.recipient for n in Notification.objects.filter(object_id=str(request.pk))]

    page = text_of(client.get(filed["Location"]))
    assert "由告警事件提交" in page and "未处理" in page
    incident_acknowledge(actor=operator, incident_pk=incident.pk)
    assert "已确认" in text_of(client.get(filed["Location"]))  # the incident's state now, not when filed

    incident_page = text_of(client.get(reverse("alerts:incident", args=[incident.pk])))
    assert "由此事件提交的服务请求" in incident_page and request.number in incident_page

    # The dispatcher sees it in triage and on the incident's page too.
    client.force_login(org.people["dispatcher"])
    assert request.number in text_of(client.get(reverse("alerts:incident", args=[incident.pk])))


def test_the_answer_to_a_request_filed_at_the_province_comes_back_to_the_operator(org, incident):
    from tickets.incident_requests import request_create_from_incident

    operator, dispatcher, member = org.people["operator"], org.people["dispatcher"], org.people["member"]
    request = request_create_from_incident(
        requester=operator, incident_pk=incident.pk, request_type=ensure_types()["business_consultation"],
        subject="核心数据库监听反复中断", data={"question": "是否需要调整监听参数？"})
    assert "send_back" not in available_transitions(fresh(request), dispatcher)
    act(request, "dispatch", dispatcher, group=org.groups[0].pk)
    act(request, "complete", member, "监听参数已调整")
    act(request, "approve", dispatcher)
    answered = fresh(request)
    assert (answered.state, answered.holder_unit, answered.assignee) == ("answered", org.ops, operator)
    act(request, "confirm", operator, rating=5)
    assert fresh(request).state == "closed"

    # Answered by the dispatcher at once: straight back to the operator too, never down to a city.
    second = request_create_from_incident(
        requester=operator, incident_pk=incident.pk, request_type=ensure_types()["business_consultation"],
        subject="监听告警是否可忽略", data={"question": "维护期间的监听告警是否可忽略？"})
    act(second, "answer", dispatcher, "维护窗口内可忽略")
    assert (fresh(second).state, fresh(second).assignee) == ("answered", operator)
    act(second, "reject", operator, "维护已结束仍在告警")
    assert (fresh(second).state, fresh(second).holder_unit) == ("at_province", org.ops)


@pytest.mark.parametrize("who", ["teller", "manager", "county"])
def test_who_may_not_file_from_an_incident_gets_a_chinese_403_inside_the_site(org, client, incident, who):
    client.force_login(org.people[who])
    response = client.get(reverse("tickets:new_from_incident", args=[incident.pk]))
    body = response.content.decode()
    assert response.status_code == 403
    assert "只有告警看板的值班人员（值班员、调度员、支持小组）可以从告警事件提交服务请求" in body
    assert "Forbidden" not in body and 'data-error="403"' in body and "</nav>" in body
    assert not ServiceRequest.objects.exists()


def test_an_incident_nobody_may_see_is_not_found(org, client, incident):
    client.force_login(org.people["operator"])
    assert client.get(reverse("tickets:new_from_incident", args=[incident.pk + 1000])).status_code == 404


def test_a_support_group_member_on_the_board_may_file_too(org, client, incident):
    from tickets.incident_requests import request_create_from_incident

    member = org.people["member"]
    request = request_create_from_incident(
        requester=member, incident_pk=incident.pk, request_type=ensure_types()["operation_consultation"],
        subject="请网络组检查核心数据库网段", data={"question": "核心数据库网段丢包？"})
    assert (request.state, request.holder_unit) == ("at_province", org.ops)
    client.force_login(member)
    assert client.get(reverse("tickets:detail", args=[request.pk])).status_code == 200
