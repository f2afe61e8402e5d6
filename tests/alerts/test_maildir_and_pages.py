"""The embedded Maildir source, the rule-test page, the board's JSON feed and the raw-mail view."""

from __future__ import annotations

from alerts.choices import Outcome
from alerts.models import Incident, IngestedMessage
from alerts.services import Inbound, ingest_messages
from alerts.sources.maildir import MaildirPoller, ensure_maildir
from tests.alerts.test_imap_poller import NO_HOST, nagios


def test_maildir_drop_folder_goes_through_the_same_pipeline(db, org, tmp_path):
    ensure_maildir(tmp_path)
    (tmp_path / "new" / "1.a").write_bytes(nagios(1))
    (tmp_path / "new" / "2.b").write_bytes(NO_HOST)
    (tmp_path / "new" / "3.c").write_bytes(nagios(1))  # the same message dropped twice
    assert MaildirPoller(tmp_path).sync() == 3
    assert Incident.objects.get().occurrences == 1
    assert sorted(IngestedMessage.objects.values_list("outcome", flat=True)) == sorted(
        [Outcome.ALERT, Outcome.QUARANTINED, Outcome.DUPLICATE])
    assert sorted(p.name for p in (tmp_path / "cur").iterdir()) == ["1.a:2,S", "3.c:2,S"]
    assert [p.name for p in (tmp_path / ".Quarantine" / "cur").iterdir()] == ["2.b:2,S"]
    assert list((tmp_path / "new").iterdir()) == []
    # A file stored but not moved (crash between the two) is only moved the next time.
    (tmp_path / "new" / "1.a").write_bytes(nagios(1))
    assert MaildirPoller(tmp_path).sync() == 1
    assert IngestedMessage.objects.count() == 3


def test_board_page_and_feed(db, org, client):
    ingest_messages(items=[Inbound(raw=nagios(1, host="szqzapp02"), origin="upload")])
    client.force_login(org.people["operator"])
    page = client.get("/alerts/board/")
    assert page.status_code == 200 and "告警看板" in page.content.decode()
    feed = client.get("/alerts/board/feed/", {"host": "szqz"}).json()
    assert feed["alarm"] is True and feed["incidents"][0]["severity_label"] == "致命"
    assert feed["incidents"][0]["ticket_url"] == f"/tickets/new/incident/{feed['incidents'][0]['id']}/"
    assert client.get("/alerts/board/feed/", {"host": "nothing-like-it"}).json()["incidents"] == []
    client.force_login(org.people["teller"])
    assert client.get("/alerts/board/feed/").json()["incidents"] == []


def test_raw_mail_is_plain_text_and_scoped(db, org, client):
    handled = ingest_messages(items=[Inbound(raw=nagios(1).replace(b"value 1", b"<script>alert(1)</script>"),
                                             origin="upload")])
    pk = handled[0].message_pk
    client.force_login(org.people["operator"])
    r = client.get(f"/alerts/messages/{pk}/raw/")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/plain")
    assert r["X-Content-Type-Options"] == "nosniff" and b"<script>" in r.content
    client.force_login(org.people["teller"])
    assert client.get(f"/alerts/messages/{pk}/raw/").status_code == 404


def test_rule_test_page(db, org, client):
    client.force_login(org.people["operator"])
    assert client.get("/alerts/rules/test/").status_code == 403
    client.force_login(org.people["admin"])
    assert client.get("/alerts/rules/test/").status_code == 200
    data = {"name": "node-rule", "priority": 10, "match_subject": "/CPU is", "source": "script",
            "extract_subject": r"is (?P<severity>[A-Z]+) \*\*", "extract_body": r"node#(?P<host>\S+)",
            "check_kind": "cpu", "email": NO_HOST.decode()}
    page = client.post("/alerts/rules/test/", data).content.decode()
    assert "node-rule" in page and "szhxapp01" in page and "critical" in page
    bad = client.post("/alerts/rules/test/", {**data, "extract_body": "node#(?P<host"}).content.decode()
    assert "extract_body" in bad and "errorlist" in bad
    assert not IngestedMessage.objects.exists()
