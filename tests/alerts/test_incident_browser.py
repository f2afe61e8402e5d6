"""The operator's night in Chromium: from the alarm on the board to a service request in one click,
then acknowledging on the incident page and reading its history in Chinese."""

from __future__ import annotations

import pytest

from alerts.models import Incident
from alerts.services import Inbound, ingest_messages
from tests.alerts.test_imap_poller import nagios
from tests.factories import make_host
from tests.tickets.helpers import ensure_types
from tickets.models import ServiceRequest

pytestmark = [pytest.mark.browser]


def test_an_operator_files_a_request_from_the_alarm_and_acknowledges_on_the_incident_page(
        transactional_db, org, browser_login, live_server):
    ensure_types()
    make_host(org.systems[0], "szhxdb01")
    ingest_messages(items=[Inbound(raw=nagios(1, service="Oracle Listener"), origin="upload")])
    incident = Incident.objects.get()

    page = browser_login("operator")
    page.goto(f"{live_server.url}/alerts/board/")
    page.wait_for_selector("body[data-board-loaded='1']")
    row = page.locator("tr[data-incident]", has_text="szhxdb01")
    assert "Oracle Listener" in row.inner_text()  # the check as the tool wrote it
    row.locator("[data-action=ticket]").click()

    page.wait_for_selector("#request-form")
    assert "szhxdb01 Oracle Listener" in page.input_value("#id_subject")
    page.fill("#id_f_transaction_code", "-")
    page.select_option("#id_f_scope", "several_outlets")
    page.click("#request-form button[type=submit]")
    page.wait_for_selector("#from-incident")
    assert "未处理" in page.inner_text("#from-incident")
    request = ServiceRequest.objects.get()
    assert request.state == "at_province"

    page.click("#from-incident a")
    page.wait_for_selector("#incident-requests")
    assert request.number in page.inner_text("#incident-requests")
    page.fill("#id_acknowledge-comment", "已通知数据库组")
    page.click("form[data-action=acknowledge] button")
    page.wait_for_selector("[data-field=acknowledged-by]")
    history = page.inner_text("#history")
    assert "已确认：有人在处理。" in history and "未处理 → 已确认" in history and "已通知数据库组" in history
    assert "acknowledge" not in history
    incident.refresh_from_db()
    assert incident.state == "acknowledged"
