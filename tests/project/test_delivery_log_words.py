"""The delivery log and "my notifications" say what each message was about in words, and link to the
request or incident when the reader may open it."""

from __future__ import annotations

import re

import pytest
from django.contrib.contenttypes.models import ContentType

from notifications.models import Notification
from tests.project.test_untranslated import ALLOWED_WORDS, _data_identifiers, untranslated
from tests.tickets.helpers import file_fault_report

pytestmark = pytest.mark.django_db


def _note(n: int, event: str, about, recipient) -> Notification:
    return Notification.objects.create(
        event=event, recipient=recipient, address=recipient.mobile, text=f"提醒{n}", idempotency_key=f"k{n}",
        content_type=ContentType.objects.get_for_model(about), object_id=str(about.pk))


def test_the_log_names_events_in_chinese_and_links_what_they_are_about(org, incident, client):
    request = file_fault_report(org)
    _note(1, "request.dispatch", request, org.people["member"])
    _note(2, "incident.escalation", incident, org.people["operator"])
    _note(3, "request.handoff", request, org.people["county"])
    _note(4, "sla.breach", request, org.people["county"])
    client.force_login(org.people["admin"])
    html = client.get("/notifications/log/").content.decode()
    assert "服务请求：分发给支持小组" in html
    assert "事件升级" in html and "服务请求流转" in html and "SLA 已超时" in html
    shown = re.findall(r'<td data-event="[^"]*">([^<]*)', html)
    assert shown and not any(re.search(r"\b(request|incident|sla)\.", text) for text in shown)
    assert f'href="/tickets/{request.pk}/"' in html and f'href="/alerts/incidents/{incident.pk}/"' in html
    assert request.number in html
    assert not untranslated(html, ALLOWED_WORDS | _data_identifiers())
    # The event picker filters by name.
    filtered = client.get("/notifications/log/?event=incident.escalation").content.decode()
    assert "提醒2" in filtered and "提醒1" not in filtered
    assert re.search(r'<option value="incident.escalation" selected>事件升级</option>', filtered)


def test_my_notifications_link_only_to_what_i_may_open(org, incident, client):
    teller = org.people["teller"]
    request = file_fault_report(org)
    _note(5, "request.answered", request, teller)
    _note(6, "incident.opened", incident, teller)
    client.force_login(teller)
    html = client.get("/notifications/mine/").content.decode()
    assert f'href="/tickets/{request.pk}/"' in html
    assert f"/alerts/incidents/{incident.pk}/" not in html and incident.summary not in html
    other = org.people["teller_other"]
    _note(7, "request.answered", request, other)
    client.force_login(other)
    assert f'href="/tickets/{request.pk}/"' not in client.get("/notifications/mine/").content.decode()
