"""The live operator board in headless Chromium, fed by the real poller reading the real Dovecot."""

from __future__ import annotations

import threading

import pytest

from alerts.services import Inbound, ingest_messages
from alerts.sources.imap import ImapPoller
from tests.alerts.test_imap_poller import nagios

pytestmark = [pytest.mark.browser, pytest.mark.imap]


@pytest.fixture
def running_poller(transactional_db, mail_folder):
    stop = threading.Event()
    poller = ImapPoller(mail_folder.pk, stop=stop, backoff_min=0.2)
    thread = threading.Thread(target=poller.run, daemon=True)
    thread.start()
    yield poller
    stop.set()
    thread.join(15)


def test_appended_mail_appears_live_sounds_the_alarm_and_acknowledging_stops_it(
        transactional_db, org, browser_login, live_server, mailbox, running_poller):
    page = browser_login("operator")
    page.goto(f"{live_server.url}/alerts/board/")
    page.wait_for_selector("body[data-board-loaded='1']")
    assert page.get_attribute("body", "data-alarm") == "off"
    assert page.locator("#alarm-banner").is_hidden()

    mailbox.append(nagios(1, host="szqzapp02", service="Disk /qzdata"))
    row = page.locator("tr[data-incident]", has_text="szqzapp02")
    row.wait_for(timeout=10_000)  # no reload: the board polls its feed
    page.wait_for_selector("body[data-alarm='on']")
    assert page.locator("#alarm-banner").is_visible()
    assert "严重" in row.inner_text() or "致命" in row.inner_text()

    row.locator("[data-action=acknowledge]").click()
    page.wait_for_selector("body[data-alarm='off']")
    assert page.locator("#alarm-banner").is_hidden()
    assert row.get_attribute("data-state") == "acknowledged"


def test_hostile_mail_renders_inert(transactional_db, org, browser_login, live_server, corpus):
    hostile = [f for f in corpus["files"] if f.name.startswith("p06") and "hostile" in f.name]
    ingest_messages(items=[Inbound(raw=f.read_bytes(), origin="upload", location=f.name) for f in hostile])
    page = browser_login("operator")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{live_server.url}/alerts/board/")
    page.wait_for_selector("body[data-board-loaded='1']")
    rows = page.locator("tr[data-incident]")
    assert rows.count() >= 3
    # The payload is shown as text, and nothing it carries was turned into elements.
    assert page.locator("#incidents script, #incidents img, #incidents [onerror]").count() == 0
    links = [rows.nth(i).locator("td[data-col=host] a").get_attribute("href") for i in range(rows.count())]
    for href in links:
        page.goto(live_server.url + href)
        assert page.locator(".content script, .content img, .content [onerror]").count() == 0
        raw = page.locator("a[href*='/raw/']").first
        if raw.count():
            response = page.request.get(live_server.url + raw.get_attribute("href"))
            assert response.headers["content-type"].startswith("text/plain")
            assert response.headers["x-content-type-options"] == "nosniff"
    assert dialogs == []
