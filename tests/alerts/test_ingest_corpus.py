"""The corpus, ingested through the one ingest service, ends up as sequences.json says."""

from __future__ import annotations

import pytest

from alerts.choices import Outcome
from alerts.models import Alert, Incident, IngestedMessage
from alerts.services import Inbound, ingest_messages
from tests.alerts.corpus_checks import assert_matches_sequences


def _ingest_files(files, *, batch: bool):
    items = [Inbound(raw=f.read_bytes(), origin="upload", location=f.name) for f in files]
    if batch:
        return ingest_messages(items=items)
    return [h for item in items for h in ingest_messages(items=[item])]


@pytest.mark.parametrize("batch", [False, True], ids=["one-by-one", "one-batch"])
def test_corpus_becomes_the_incidents_of_sequences_json(db, org, catalogue, corpus, batch):
    handled = _ingest_files(corpus["files"], batch=batch)
    outcomes = {h.inbound.location: h.outcome for h in handled}
    for name, entry in corpus["manifest"].items():
        if entry.get("duplicate_of"):
            assert outcomes[name] == Outcome.DUPLICATE, name
        elif entry["is_alert"]:
            assert outcomes[name] == Outcome.ALERT, name
        else:
            assert outcomes[name] == Outcome.NOT_ALERT, name
    assert_matches_sequences(corpus)
    # Non-alerts are stored, but raise nothing.
    not_alerts = [n for n, e in corpus["manifest"].items() if not e["is_alert"]]
    assert not Alert.objects.filter(message__location__in=not_alerts).exists()
    assert IngestedMessage.objects.count() == len(corpus["files"])


def test_hosts_map_to_production_systems(db, org, catalogue, corpus):
    _ingest_files(corpus["files"], batch=True)
    core = catalogue["核心系统"]
    incident = Incident.objects.get(dedup_key="nagios|szhxdb01|disk /oradata")
    assert incident.system == core
    # An alert naming its host by IP address is mapped through the catalogue's addresses.
    assert grep_ip_system() == Incident.objects.get(dedup_key__startswith="alertmanager|10.12.3.45|").system


def grep_ip_system():
    from opsdesk.org.models import Host

    return Host.objects.get(ip_address="10.12.3.45").system


def test_unknown_host_has_no_system(db, org, catalogue):
    raw = (b"From: mon@x.example\nSubject: PROBLEM\nMessage-ID: <u1@x>\nDate: Tue, 12 Mar 2024 10:00:00 +0800\n\n"
           b"***** Nagios *****\n\nNotification Type: PROBLEM\n\nService: Disk /\nHost: nowhere01\n"
           b"Address: 10.0.0.1\nState: CRITICAL\n\nDate/Time: Tue Mar 12 10:00:00 CST 2024\n\nAdditional Info:\n\nfull\n")
    ingest_messages(items=[Inbound(raw=raw, origin="upload")])
    incident = Incident.objects.get()
    assert incident.host == "nowhere01" and incident.system is None


def test_ingesting_the_corpus_twice_adds_nothing(db, org, catalogue, corpus):
    _ingest_files(corpus["files"], batch=True)
    before = (Incident.objects.count(), Alert.objects.count(), sum(Incident.objects.values_list("occurrences", flat=True)))
    handled = _ingest_files(corpus["files"], batch=True)
    assert {h.outcome for h in handled} == {Outcome.DUPLICATE}
    after = (Incident.objects.count(), Alert.objects.count(), sum(Incident.objects.values_list("occurrences", flat=True)))
    assert after == before


def test_two_messages_sharing_a_message_id_are_both_kept(db, org, catalogue, corpus):
    """A hard-coded Message-ID is not an identity: the content fingerprint tells them apart."""
    _ingest_files(corpus["files"], batch=True)
    jvm = IngestedMessage.objects.get(location="p054-script-gbk-qp-jvm-heap-same-msgid.eml")
    assert jvm.outcome == Outcome.ALERT
    same_id = IngestedMessage.objects.filter(message_id=jvm.message_id).exclude(pk=jvm.pk)
    assert same_id.exists() and all(m.outcome != Outcome.DUPLICATE for m in same_id)


def test_attachment_is_kept(db, org, catalogue, corpus):
    _ingest_files([f for f in corpus["files"] if "errpt-attachment" in f.name], batch=True)
    message = IngestedMessage.objects.get()
    assert message.attachments.count() >= 1
    assert message.attachments.first().size > 0
