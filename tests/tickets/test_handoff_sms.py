"""The hand-off SMS: who receives it, and that its text is the template administrators edit."""

from __future__ import annotations

import pytest

from notifications.models import Notification, NotificationTemplate
from tests.tickets.helpers import act, file_fault_report

pytestmark = pytest.mark.django_db


def texts(event: str) -> list[tuple[str, str]]:
    return [(n.recipient.username, n.text) for n in Notification.objects.filter(event=event).order_by("pk")]


def test_filing_tells_the_county_centre_in_the_shipped_words(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = file_fault_report(org, subject="存款交易报错")
    assert texts("request.submit") == [
        ("county1", f"【运维服务台】服务请求{request.number}“存款交易报错”已提交至县1，请及时处理。")]


def test_an_administrators_edit_of_the_hand_off_template_is_what_the_next_hand_off_sends(
        org, django_capture_on_commit_callbacks):
    NotificationTemplate.objects.update_or_create(code="request.handoff", defaults={
        "name": "流转", "body": "{{ number }}到{{ unit }}：{{ action }}"})
    with django_capture_on_commit_callbacks(execute=True):
        request = file_fault_report(org)
        act(request, "escalate", org.people["county"], comment="县里处理不了")
    # Without a roster, everyone reachable in the city centre is told.
    assert sorted(texts("request.escalate")) == [("city1", f"{request.number}到地市1：向上发送"),
                                                ("manager_c1", f"{request.number}到地市1：向上发送")]


def test_the_teller_is_told_with_the_answered_template_when_the_answer_arrives(
        org, django_capture_on_commit_callbacks):
    NotificationTemplate.objects.update_or_create(code="request.answered", defaults={
        "name": "答复", "body": "{{ number }}已答复"})
    with django_capture_on_commit_callbacks(execute=True):
        request = file_fault_report(org)
        act(request, "answer", org.people["county"], comment="请重启终端后重试")
    assert texts("request.answer") == [("teller1", f"{request.number}已答复")]
