"""A teller withdraws (撤回) a request filed by mistake, while nobody has taken it yet."""

from __future__ import annotations

import pytest

from notifications.models import Notification
from tests.tickets.helpers import act, file_fault_report, fresh

pytestmark = pytest.mark.django_db


def test_the_teller_withdraws_from_the_detail_page_with_a_reason(org, client):
    request = file_fault_report(org, subject="填错了")
    client.force_login(org.people["teller"])
    page = client.get(f"/tickets/{request.pk}/").content.decode()
    assert 'data-action="withdraw"' in page and "撤回" in page
    missing = client.post(f"/tickets/{request.pk}/act/withdraw/", {"withdraw-version": 1}, follow=True)
    assert fresh(request).state == "at_county"
    assert "撤回" in missing.content.decode()
    done = client.post(f"/tickets/{request.pk}/act/withdraw/",
                       {"withdraw-version": 1, "withdraw-comment": "选错了请求类型"}, follow=True)
    body = done.content.decode()
    assert fresh(request).state == "closed" and fresh(request).closed_at is not None
    assert "已关闭" in body and "选错了请求类型" in body
    # Off the county's queue.
    client.force_login(org.people["county"])
    assert request.number not in client.get("/tickets/queue/").content.decode()


def test_no_withdrawing_once_someone_took_it_or_it_moved_on(org, api_client_for):
    p = org.people
    claimed = file_fault_report(org)
    act(claimed, "claim", p["county"])
    escalated = file_fault_report(org)
    act(escalated, "escalate", p["county"], "上送")
    teller = api_client_for(p["teller"])
    for request in (claimed, escalated):
        allowed = teller.get(f"/api/requests/{request.pk}/transitions/").json()["allowed"]
        assert "withdraw" not in allowed
        answer = teller.post(f"/api/requests/{request.pk}/transitions/",
                             {"action": "withdraw", "version": fresh(request).version, "comment": "不要了"},
                             format="json")
        assert answer.status_code == 409 and fresh(request).state != "closed"


def test_only_the_teller_who_filed_it_may_withdraw(org, api_client_for):
    request = file_fault_report(org)
    answer = api_client_for(org.people["county"]).post(
        f"/api/requests/{request.pk}/transitions/", {"action": "withdraw", "version": 1, "comment": "x"},
        format="json")
    assert answer.status_code == 403 and fresh(request).state == "at_county"


def test_whoever_was_reminded_is_told_of_the_withdrawal(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = file_fault_report(org, subject="重复提交")
    assert Notification.objects.filter(event="request.submit").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        act(request, "withdraw", org.people["teller"], "重复提交了")
    told = Notification.objects.filter(event="request.withdraw")
    assert [(n.recipient.username, n.text) for n in told] == [
        ("county1", f"服务请求{request.number}“重复提交”已由柜员撤回，无需再处理。")]


def test_nobody_is_told_when_nobody_was_reminded(org, django_capture_on_commit_callbacks):
    request = file_fault_report(org)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        act(request, "withdraw", org.people["teller"], "填错了")
    assert not Notification.objects.filter(event="request.withdraw").exists()
