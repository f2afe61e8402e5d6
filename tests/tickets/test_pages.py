"""The request pages in Chinese: the teller's forms and list, the queues, the detail page and its
actions, and the messages a person sees when an action cannot happen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.tickets.helpers import act, ensure_types, file_fault_report, fresh
from tickets.models import ServiceRequest

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_new_request_offers_the_five_types(org, client):
    ensure_types()
    client.force_login(org.people["teller"])
    body = page(client, "/tickets/new/")
    for name in ("故障报告", "生产数据调整", "业务咨询", "操作咨询", "数据提取"):
        assert name in body


def test_teller_files_a_fault_report_with_a_screenshot(org, client):
    ensure_types()
    client.force_login(org.people["teller"])
    body = page(client, "/tickets/new/fault_report/")
    for label in ("交易码", "错误码", "发生时间", "影响范围", "生产系统", "截图"):
        assert label in body
    response = client.post("/tickets/new/fault_report/", {
        "subject": "存款交易报错", "system": org.systems[0].pk, "f_transaction_code": "8001",
        "f_occurred_at": "2026-11-20T09:30", "f_scope": "whole_outlet", "f_description": "所有柜员都报错",
        "attachment": SimpleUploadedFile("screen.png", PNG),
    }, follow=True)
    body = response.content.decode()
    request = ServiceRequest.objects.get()
    assert response.redirect_chain[-1][0] == f"/tickets/{request.pk}/"
    assert f"请求 {request.number} 已发送到您所在的县级支持中心" in body
    assert "县级支持中心处理中" in body and "整个网点" in body and "screen.png" in body
    assert request.data["scope"] == "whole_outlet" and request.attachments.count() == 1


def test_a_form_sent_twice_files_one_request(org, client):
    """A teller double-clicks, or the browser resends the page: the hidden key of the form shown
    makes it one request, and both sendings land on its page."""
    import re

    ensure_types()
    client.force_login(org.people["teller"])
    body = page(client, "/tickets/new/business_consultation/")
    key = re.search(r'name="submission_key" value="([0-9a-f]{32})"', body).group(1)
    assert key not in page(client, "/tickets/new/business_consultation/")  # each form shown has its own
    form = {"submission_key": key, "subject": "利率调整", "f_question": "新利率何时生效？"}
    first = client.post("/tickets/new/business_consultation/", form)
    second = client.post("/tickets/new/business_consultation/", form)
    request = ServiceRequest.objects.get()
    assert first["Location"] == second["Location"] == f"/tickets/{request.pk}/"
    assert request.events.count() == 1


def test_a_bad_form_is_shown_again_with_its_errors(org, client):
    ensure_types()
    client.force_login(org.people["teller"])
    response = client.post("/tickets/new/fault_report/", {"subject": "", "f_scope": "everyone"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "该字段是必填项" in body and "everyone 不在可用的选项中" in body
    assert not ServiceRequest.objects.exists()


def test_only_tellers_get_the_form(org, client):
    ensure_types()
    client.force_login(org.people["county"])
    assert client.get("/tickets/new/fault_report/").status_code == 403
    assert client.get("/tickets/new/no-such-type/").status_code == 404


def test_my_requests_show_where_each_one_is(org, client):
    r = file_fault_report(org, subject="打印机故障")
    act(r, "escalate", org.people["county"], "上送")
    client.force_login(org.people["teller"])
    body = page(client, "/tickets/mine/")
    assert "打印机故障" in body and "地市级支持中心处理中" in body and "地市1" in body
    assert "已等待" in body


def test_queue_is_oldest_first_with_the_actions_allowed(org, client):
    older, newer = file_fault_report(org, subject="较早的请求"), file_fault_report(org, subject="较新的请求")
    ServiceRequest.objects.filter(pk=older.pk).update(held_since=timezone.now() - timedelta(hours=5))
    client.force_login(org.people["county"])
    body = page(client, "/tickets/queue/")
    assert body.index("较早的请求") < body.index("较新的请求")
    assert "5\xa0小时" in body or "5 小时" in body
    assert "向上发送" in body and "答复" in body
    client.force_login(org.people["county_other"])
    assert "较早的请求" not in page(client, "/tickets/queue/")
    assert fresh(newer).state == "at_county"


def test_triage_and_group_boards(org, client):
    p = org.people
    r = file_fault_report(org, subject="需要省中心")
    act(r, "escalate", p["county"], "上送")
    act(r, "escalate", p["city"], "上送")
    client.force_login(p["dispatcher"])
    assert "需要省中心" in page(client, "/tickets/triage/")
    act(r, "dispatch", p["dispatcher"], group=org.groups[0])
    assert "需要省中心" not in page(client, "/tickets/triage/")
    client.force_login(p["member"])
    assert "需要省中心" in page(client, "/tickets/group/")
    client.force_login(p["member_other"])
    assert "需要省中心" not in page(client, "/tickets/group/")


def test_acting_from_the_detail_page(org, client):
    r = file_fault_report(org)
    client.force_login(org.people["county"])
    body = page(client, f"/tickets/{r.pk}/")
    assert 'data-action="escalate"' in body and "您可以执行的操作" in body
    response = client.post(f"/tickets/{r.pk}/act/escalate/", {"escalate-version": 1, "escalate-comment": "上送"},
                           follow=True)
    body = response.content.decode()
    assert "已完成：向上发送" in body and "地市级支持中心处理中" in body
    assert fresh(r).state == "at_city"


def test_a_stale_page_is_told_someone_else_was_first(org, client):
    r = file_fault_report(org)
    act(r, "claim", org.people["county"])
    client.force_login(org.people["county"])
    response = client.post(f"/tickets/{r.pk}/act/escalate/", {"escalate-version": 1, "escalate-comment": "上送"},
                           follow=True)
    body = response.content.decode()
    assert "别人已先处理了这个请求" in body and "您现在可以：答复、请柜员补充信息、向上发送" in body
    assert fresh(r).state == "at_county"


def test_missing_reason_and_illegal_actions_are_messages_not_errors(org, client):
    r = file_fault_report(org)
    client.force_login(org.people["county"])
    response = client.post(f"/tickets/{r.pk}/act/escalate/", {"escalate-version": 1}, follow=True)
    assert response.status_code == 200 and "向上发送" in response.content.decode()
    response = client.post(f"/tickets/{r.pk}/act/approve/", {"approve-version": 1}, follow=True)
    assert "请求当前的状态不允许此操作" in response.content.decode()
    response = client.post(f"/tickets/{r.pk}/act/nonsense/", {"nonsense-version": 1}, follow=True)
    assert response.status_code == 200
    response = client.post(f"/tickets/{r.pk}/act/escalate/", {"escalate-version": "x"}, follow=True)
    assert response.status_code == 200
    client.force_login(org.people["teller"])
    response = client.post(f"/tickets/{r.pk}/act/escalate/", {"escalate-version": 1, "escalate-comment": "x"},
                           follow=True)
    assert "您无权对这个请求执行此操作" in response.content.decode()
    assert fresh(r).version == 1


def test_attachments_are_checked_on_the_page(org, client):
    r = file_fault_report(org)
    client.force_login(org.people["teller"])
    response = client.post(f"/tickets/{r.pk}/attachments/", {"file": SimpleUploadedFile("run.exe", b"MZ")},
                           follow=True)
    assert "不接受这种类型的文件" in response.content.decode()
    assert r.attachments.count() == 0
