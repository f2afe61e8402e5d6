"""A real Prometheus Alertmanager (Debian's 0.25) sends to the desk through its webhook receiver and its
e-mail receiver; the tests fire, repeat and resolve alerts through its API, as Prometheus does.

Each test starts its own Alertmanager (deploy/local/start-alertmanager.sh, own port and storage under
tmp_path, stopped at teardown) that POSTs to the live server. Its mail goes to a tiny SMTP relay in
this process that APPENDs it to a folder of the test Dovecot; the poller reads it from there.
The last tests send malformed webhook bodies with the Django test client (no Alertmanager needed).

The Alertmanager tests carry the `imap` marker: like Dovecot, Alertmanager is installed and started
by `make test` (services), not by `make check`.
"""

from __future__ import annotations

import json
import shutil

import pytest

from alerts.choices import Origin, Outcome
from alerts.models import Alert, Incident, IngestedMessage, WebhookSource
from alerts.parsing import make_dedup_key
from alerts.parsing.vocab import label_identity
from alerts.sources.imap import ImapPoller
from tests.alerts.alertmanager_helpers import Alertmanager, ImapRelay
from tests.alerts.conftest import wait_for

DEADLINE = 20.0  # seconds to wait for a delivery (they take 1-3 s)
HOST = "ora01"
BASE = {"alertname": "DiskFull", "instance": f"{HOST}:9100", "job": "node"}
ORADATA = {**BASE, "mountpoint": "/oradata", "severity": "critical"}
ARCH = {**BASE, "mountpoint": "/arch", "severity": "warning"}
NOTES = {"/oradata": {"summary": "Filesystem /oradata on ora01 is 97% full"},
         "/arch": {"summary": "Filesystem /arch on ora01 is 91% full"}}
GROUPED = "alertname, instance"  # what banks run: one notification per alert name and host
ONE_PER_ALERT = "..."            # every label set a notification of its own


def key(labels: dict[str, str]) -> str:
    """The incident key both channels must give an alert: source, host, check and its label set."""
    return make_dedup_key("alertmanager", HOST, labels["alertname"], label_identity(labels))


def fire(am: Alertmanager, labels: dict[str, str]) -> None:
    am.fire(labels, NOTES[labels["mountpoint"]])


def incidents() -> dict[str, Incident]:
    return {i.dedup_key: i for i in Incident.objects.filter(host=HOST)}


def wait_until(predicate, am: Alertmanager, what: str):
    """Poll the database until `predicate` holds; on timeout say what the desk and Alertmanager have."""
    def state() -> str:
        rows = [(i.dedup_key.split("|")[-1], i.state, i.severity, i.occurrences)
                for i in Incident.objects.order_by("pk")]
        messages = list(IngestedMessage.objects.order_by("pk").values_list("origin", "outcome", "alert_count", "error"))
        return f"{what}\nincidents: {rows}\nmessages: {messages}\nalertmanager log:\n{am.log()}"

    return wait_for(predicate, timeout=DEADLINE, message=state, interval=0.1)


@pytest.fixture
def webhook_source(db):
    source = WebhookSource(name="Prometheus Alertmanager", slug="am", kind="alertmanager")
    token = source.set_token()
    source.save()
    return source, token


@pytest.fixture
def alertmanager(transactional_db, tmp_path, live_server, webhook_source):
    """alertmanager(smtp=None, group_by=..., group_interval=..., repeat_interval=...) -> a started
    Alertmanager whose webhook receiver POSTs to the live server with the source's token."""
    if shutil.which("prometheus-alertmanager") is None:
        pytest.fail("prometheus-alertmanager is not installed: run the suite with `make test` (its services "
                    "target runs deploy/local/install-alertmanager.sh)")
    source, token = webhook_source
    started: list[Alertmanager] = []

    def start(*, smtp: str | None = None, **routing: str) -> Alertmanager:
        am = Alertmanager(tmp_path / f"am{len(started)}", f"{live_server.url}/alerts/webhooks/{source.slug}/",
                          token, smtp=smtp, **routing)
        started.append(am)
        return am.start()

    yield start
    for am in started:
        am.stop()


@pytest.mark.imap
@pytest.mark.parametrize("group_by", [GROUPED, ONE_PER_ALERT], ids=["grouped", "one-per-alert"])
def test_two_mountpoints_on_one_host_are_two_incidents_and_resolve_one_by_one(alertmanager, group_by):
    am = alertmanager(group_by=group_by)
    fire(am, ORADATA)
    fire(am, ARCH)

    found = wait_until(lambda: len(incidents()) == 2 and incidents(), am, "two incidents")
    oradata, arch = found[key(ORADATA)], found[key(ARCH)]
    assert (oradata.state, oradata.severity, oradata.check_name) == ("open", "critical", "diskfull")
    assert (arch.state, arch.severity, arch.check_name) == ("open", "warning", "diskfull")
    assert "/oradata" in oradata.summary and "/arch" in arch.summary
    # The routing really was what the test asked for: both alerts in one POST, or one POST each.
    webhook = IngestedMessage.objects.filter(origin=Origin.WEBHOOK)
    counts = sorted(webhook.values_list("alert_count", flat=True))
    assert counts == ([2] if group_by == GROUPED else [1, 1])

    am.resolve(ARCH, NOTES["/arch"])
    wait_until(lambda: Incident.objects.get(pk=arch.pk).state == "resolved", am, "/arch resolved")
    oradata.refresh_from_db()
    assert oradata.state == "open"
    assert Incident.objects.count() == 2
    assert list(Alert.objects.filter(incident=arch).order_by("pk").values_list("status", flat=True)) == \
        ["problem", "recovery"]
    if group_by == GROUPED:
        # The resolving notification carried /oradata (still firing) along: counted, not reopened.
        assert oradata.occurrences == 2


@pytest.mark.imap
def test_a_repeated_notification_does_not_open_a_second_incident(alertmanager):
    am = alertmanager(group_by=GROUPED, group_interval="1s", repeat_interval="1s")
    fire(am, ORADATA)
    first = wait_until(lambda: Incident.objects.filter(host=HOST).first(), am, "the incident")
    # Alertmanager notifies again every repeat_interval; Prometheus re-sends the alert at every
    # evaluation (same startsAt): neither is a new problem.
    fire(am, ORADATA)
    wait_until(lambda: IngestedMessage.objects.filter(origin=Origin.WEBHOOK).count() >= 3, am, "two repeats")
    fire(am, ORADATA)

    assert list(Incident.objects.values_list("pk", flat=True)) == [first.pk]
    first.refresh_from_db()
    deliveries = Alert.objects.filter(incident=first, status="problem").count()
    assert deliveries >= 3
    assert first.state == "open" and first.occurrences == deliveries and first.reopen_count == 0
    assert first.dedup_key == key(ORADATA)


@pytest.mark.imap
def test_webhook_and_mail_of_one_alert_fold_into_one_incident(alertmanager, imap_env, mailbox, mail_folder):
    with ImapRelay(imap_host=imap_env["host"], imap_port=imap_env["port"], user="alerts",
                   password="alerts-secret", folder=mailbox.folder) as relay:
        am = alertmanager(smtp=relay.address, group_by=GROUPED)
        fire(am, ORADATA)
        fire(am, ARCH)
        found = wait_until(lambda: len(incidents()) == 2 and incidents(), am, "two incidents from the webhook")
        wait_until(lambda: relay.count() >= 1, am, f"the FIRING mail (relay errors: {relay.errors})")
        assert mailbox.count() == 1

        assert ImapPoller(mail_folder.pk).sync_once() == 1
        mail = IngestedMessage.objects.get(folder=mail_folder)
        assert (mail.outcome, mail.alert_count, mail.error) == (Outcome.ALERT, 2, ""), mail.subject
        assert mail.subject.startswith("[FIRING:2] DiskFull")
        # The mail's two alerts landed on the webhook's two incidents: nothing new opened.
        assert incidents().keys() == found.keys() == {key(ORADATA), key(ARCH)}
        for inc in incidents().values():
            origins = sorted(Alert.objects.filter(incident=inc).values_list("message__origin", flat=True))
            assert origins == [Origin.IMAP, Origin.WEBHOOK], inc.dedup_key
            assert inc.state == "open" and inc.occurrences == 2

        am.resolve(ARCH, NOTES["/arch"])
        wait_until(lambda: incidents()[key(ARCH)].state == "resolved", am, "/arch resolved by the webhook")
        wait_until(lambda: relay.count() >= 2, am, f"the mail with /arch resolved (relay errors: {relay.errors})")
        assert ImapPoller(mail_folder.pk).sync_once() == 1

    assert relay.errors == []
    after = incidents()
    assert after.keys() == {key(ORADATA), key(ARCH)} and Incident.objects.count() == 2
    assert (after[key(ORADATA)].state, after[key(ARCH)].state) == ("open", "resolved")
    assert after[key(ARCH)].reopen_count == 0
    arch_alerts = list(Alert.objects.filter(incident=after[key(ARCH)]).values_list("message__origin", "status"))
    assert sorted(arch_alerts) == sorted([(Origin.WEBHOOK, "problem"), (Origin.IMAP, "problem"),
                                          (Origin.WEBHOOK, "recovery"), (Origin.IMAP, "recovery")])
    assert IngestedMessage.objects.filter(folder=mail_folder, outcome=Outcome.ALERT).count() == 2


@pytest.mark.imap
def test_a_late_firing_mail_does_not_reopen_what_the_webhook_resolved(alertmanager, imap_env, mailbox, mail_folder):
    with ImapRelay(imap_host=imap_env["host"], imap_port=imap_env["port"], user="alerts",
                   password="alerts-secret", folder=mailbox.folder) as relay:
        am = alertmanager(smtp=relay.address, group_by=GROUPED)
        fire(am, ORADATA)
        wait_until(lambda: key(ORADATA) in incidents(), am, "the incident from the webhook")
        wait_until(lambda: relay.count() >= 1, am, "the FIRING mail")
        relay.hold()  # from here the mail route is slower than the webhook
        am.resolve(ORADATA, NOTES["/oradata"])
        wait_until(lambda: incidents()[key(ORADATA)].state == "resolved", am, "resolved by the webhook")
        resolved_at = incidents()[key(ORADATA)].resolved_at
        wait_until(lambda: relay.count() >= 2, am, "the RESOLVED mail (held back)")

        # The poller's turn comes now: it reads the FIRING mail, sent before the resolution.
        assert ImapPoller(mail_folder.pk).sync_once() == 1
        mail = IngestedMessage.objects.get(folder=mail_folder)
        assert mail.outcome == Outcome.ALERT and mail.sent_at <= resolved_at
        after = Incident.objects.get()
        assert (after.state, after.reopen_count) == ("resolved", 0)  # got ("open", 1)

        assert relay.release() == 1
        assert ImapPoller(mail_folder.pk).sync_once() == 1
    after = Incident.objects.get()
    assert (after.state, after.reopen_count) == ("resolved", 0)


# --- malformed webhook bodies (Django test client) ---------------------------------------------------

def _am_alert(mountpoint: str, **extra) -> dict:
    labels = {"alertname": "DiskFull", "instance": "db01:9100", "mountpoint": mountpoint, "severity": "critical"}
    return {"status": "firing", "labels": labels, "annotations": {"summary": f"{mountpoint} full"},
            "startsAt": "2026-11-03T02:00:00Z", **extra}


def _post(client, token: str, body) -> object:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post("/alerts/webhooks/am/", data=data, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}")


BAD_ALERTS = {
    "no-instance": {"status": "firing", "labels": {"alertname": "DiskFull", "severity": "critical"}},
    "no-alertname": {"status": "firing", "labels": {"instance": "db01:9100"}},
    "labels-a-list": {"status": "firing", "labels": ["alertname", "DiskFull"]},
    "label-value-an-object": {"status": "firing", "labels": {"alertname": "X", "instance": "db01", "team": {"a": 1}}},
    "annotations-a-string": {"status": "firing", "labels": {"alertname": "X", "instance": "db01"},
                             "annotations": "disk full"},
    "unknown-status": {"status": "exploded", "labels": {"alertname": "X", "instance": "db01"}},
    "not-an-object": "DiskFull on db01",
    "null": None,
}


@pytest.mark.parametrize("bad", BAD_ALERTS.values(), ids=BAD_ALERTS.keys())
def test_one_malformed_alert_among_good_ones_is_refused_with_422_and_the_good_ones_kept(db, client, webhook_source,
                                                                                       bad):
    _source, token = webhook_source
    payload = {"version": "4", "status": "firing", "receiver": "desk",
               "alerts": [_am_alert("/oradata"), bad, _am_alert("/arch")]}
    answer = _post(client, token, payload)

    assert answer.status_code == 422, answer.content
    body = answer.json()
    assert body["accepted"] == 2
    assert [r["index"] for r in body["rejected"]] == [1] and body["rejected"][0]["error"]
    assert sorted(Incident.objects.filter(host="db01").values_list("summary", flat=True)) == \
        ["/arch full", "/oradata full"]
    stored = IngestedMessage.objects.get(pk=body["message"])
    assert stored.outcome == Outcome.ALERT and stored.alert_count == 2
    assert stored.error.startswith("alert 1: ")


def test_a_webhook_body_with_only_malformed_alerts_is_quarantined_with_422(db, client, webhook_source):
    _source, token = webhook_source
    answer = _post(client, token, {"alerts": [BAD_ALERTS["no-instance"], BAD_ALERTS["labels-a-list"]]})
    assert answer.status_code == 422
    assert answer.json()["accepted"] == 0 and [r["index"] for r in answer.json()["rejected"]] == [0, 1]
    assert Incident.objects.count() == 0
    assert IngestedMessage.objects.get().outcome == Outcome.QUARANTINED


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", "[]", "null", '"alerts"', '{"alerts": {}}',
                                  '{"alerts": "x"}', '{"status": "firing"}'],
                         ids=["broken-json", "not-utf8", "a-list", "null", "a-string", "alerts-object",
                              "alerts-string", "no-alerts"])
def test_a_body_that_is_not_an_alertmanager_payload_gets_400_never_500(db, client, webhook_source, body):
    _source, token = webhook_source
    answer = _post(client, token, body)
    assert answer.status_code == 400, answer.content
    assert answer.json()["detail"]
    assert Incident.objects.count() == 0


def test_a_wrong_token_gets_401(db, client, webhook_source):
    answer = _post(client, "not-the-token", {"alerts": [_am_alert("/oradata")]})
    assert answer.status_code == 401
    assert IngestedMessage.objects.count() == 0
