"""A request about a production system with an open incident says "known incident" (the alerts app's
`open_incidents_for_system`), on the teller's fault-report form, on the request and in the API."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.tickets.helpers import ensure_types, file_fault_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def core_incident(org):
    from alerts.models import Incident

    now = timezone.now()
    return Incident.objects.create(dedup_key="szhxdb01|oracle", source="nagios", host="szhxdb01",
                                   check_name="Oracle 表空间", category="db", severity="critical",
                                   system=org.systems[0], summary="核心数据库表空间不足", first_seen=now,
                                   last_seen=now)


def test_the_fault_report_form_warns_of_a_known_incident(org, client, core_incident):
    ensure_types()
    client.force_login(org.people["teller"])
    body = client.get("/tickets/new/fault_report/").content.decode()
    # A teller reads plain words: the system and that a known fault is handled, no host or check.
    assert "已知故障正在处理中" in body and "核心系统" in body and "szhxdb01" not in body


def test_request_and_api_show_the_known_incident(org, client, api_client_for, core_incident):
    on_core = file_fault_report(org)
    client.force_login(org.people["county"])
    assert "已知故障" in client.get(f"/tickets/{on_core.pk}/").content.decode()
    body = api_client_for(org.people["county"]).get(f"/api/requests/{on_core.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert body.json()["known_incidents"][0].startswith("已知故障正在处理中")
    # The alert board's people and administrators read the incident by host and check.
    body = api_client_for(org.people["admin"]).get(f"/api/requests/{on_core.pk}/").json()
    assert body["known_incidents"] == ["szhxdb01 · Oracle 表空间"]


def test_no_incident_no_warning(org, client):
    ensure_types()
    request = file_fault_report(org)
    client.force_login(org.people["teller"])
    assert "已知故障" not in client.get("/tickets/new/fault_report/").content.decode()
    assert "已知故障" not in client.get(f"/tickets/{request.pk}/").content.decode()
