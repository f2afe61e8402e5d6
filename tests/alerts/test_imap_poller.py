"""The IMAP poller against the real Dovecot of `make test` (and a private one it may kill)."""

from __future__ import annotations

import threading

import pytest

from alerts.choices import Outcome
from alerts.models import Incident, IngestedMessage, MailAccount, MailFolder, ParsingRule, QuarantinedMessage
from alerts.services import message_reprocess
from alerts.sources.imap import ImapPoller, SimulatedCrash, connect
from alerts.sources.locks import mailbox_lock
from tests.alerts.conftest import imap_client, wait_for
from tests.alerts.corpus_checks import assert_matches_sequences

pytestmark = pytest.mark.imap


def nagios(n: int, *, host: str = "szhxdb01", state: str = "CRITICAL", kind: str = "PROBLEM",
           service: str | None = None) -> bytes:
    service = service or f"Check {n}"
    return (f"From: nagios@mon.bank.example\r\nTo: alerts@bank.example\r\n"
            f"Subject: ** {kind} Service Alert: {host}/{service} is {state} **\r\n"
            f"Message-ID: <t{n}-{host}-{kind}@mon.bank.example>\r\nDate: Tue, 12 Mar 2024 10:{n % 60:02d}:00 +0800\r\n\r\n"
            f"***** Nagios *****\r\n\r\nNotification Type: {kind}\r\n\r\nService: {service}\r\nHost: {host}\r\n"
            f"Address: 10.1.12.21\r\nState: {state}\r\n\r\nDate/Time: Tue Mar 12 10:00:00 CST 2024\r\n\r\n"
            f"Additional Info:\r\n\r\nvalue {n}\r\n").encode()


NO_HOST = (b"From: nagios@mon.bank.example\r\nSubject: ** PROBLEM Service Alert: /CPU is CRITICAL **\r\n"
           b"Message-ID: <nohost-1@mon.bank.example>\r\n\r\n***** Nagios *****\r\n\r\nNotification Type: PROBLEM\r\n"
           b"\r\nService: CPU\r\nState: CRITICAL\r\n\r\nAdditional Info:\r\n\r\nload high on node#szhxapp01\r\n")


def test_corpus_appended_to_dovecot_becomes_the_expected_incidents(db, org, catalogue, corpus, mailbox, mail_folder):
    mailbox.append_many([f.read_bytes() for f in corpus["files"]])
    ImapPoller(mail_folder.pk).sync_once()
    assert_matches_sequences(corpus)
    assert IngestedMessage.objects.filter(folder=mail_folder).count() == len(corpus["files"])
    # Everything was marked read only after it was stored; nothing is left unseen.
    assert mailbox.search("UNSEEN") == []
    non_alerts = [n for n, e in corpus["manifest"].items() if not e["is_alert"]]
    assert IngestedMessage.objects.filter(outcome=Outcome.NOT_ALERT).count() == len(non_alerts)


def test_crash_between_commit_and_flag_ingests_nothing_twice(db, org, mailbox, mail_folder):
    mailbox.append_many([nagios(n) for n in range(12)])
    with pytest.raises(SimulatedCrash):
        ImapPoller(mail_folder.pk, fault="after-commit").sync_once()
    # Stored, but still unread on the server: the poller died before flagging.
    assert IngestedMessage.objects.count() == 12
    assert len(mailbox.search("UNSEEN")) == 12
    occurrences = sorted(Incident.objects.values_list("occurrences", flat=True))

    assert ImapPoller(mail_folder.pk).sync_once() == 0
    assert IngestedMessage.objects.count() == 12
    assert sorted(Incident.objects.values_list("occurrences", flat=True)) == occurrences
    assert mailbox.search("UNSEEN") == []


def test_uidvalidity_change_re_reads_the_folder_without_duplicating(db, org, imap_env, mailbox, mail_folder):
    messages = [nagios(n) for n in range(5)]
    mailbox.append_many(messages)
    ImapPoller(mail_folder.pk).sync_once()
    first_validity = MailFolder.objects.get(pk=mail_folder.pk).uidvalidity
    # The server's mailbox is rebuilt (new UIDVALIDITY) and the same mail restored into it, plus one new.
    client = imap_client(imap_env["host"], imap_env["port"])
    client.delete_folder(mailbox.folder)
    client.create_folder(mailbox.folder)
    client.multiappend(mailbox.folder, [*messages, nagios(99)])
    client.logout()

    ImapPoller(mail_folder.pk).sync_once()
    folder = MailFolder.objects.get(pk=mail_folder.pk)
    assert folder.uidvalidity != first_validity
    assert IngestedMessage.objects.filter(outcome=Outcome.ALERT).count() == 6
    assert IngestedMessage.objects.filter(outcome=Outcome.DUPLICATE).count() == 5
    assert Incident.objects.count() == 6 and set(Incident.objects.values_list("occurrences", flat=True)) == {1}
    assert mailbox.search("UNSEEN") == []


def test_unreadable_mail_is_quarantined_and_can_be_reprocessed(db, org, mailbox, mail_folder):
    mailbox.append_many([NO_HOST, nagios(1)])
    ImapPoller(mail_folder.pk).sync_once()
    # The bad message does not block the one behind it.
    assert Incident.objects.count() == 1
    bad = QuarantinedMessage.objects.get(outcome=Outcome.QUARANTINED)
    assert "Host" in bad.error and bytes(bad.raw) == NO_HOST
    assert mailbox.count() == 1 and mailbox.count(mailbox.quarantine) == 1

    assert message_reprocess(message_pk=bad.pk) == Outcome.QUARANTINED  # same rules: still unreadable
    # An administrator writes a rule for this in-house variant (host given as "node#NAME").
    ParsingRule.objects.create(name="nagios-hostname-line", match_subject=r"/CPU is",
                               extract_subject=r"is (?P<severity>[A-Z]+) \*\*",
                               extract_body=r"node#(?P<host>\S+)", check_kind="cpu", source="nagios")
    assert message_reprocess(message_pk=bad.pk) == Outcome.ALERT
    bad.refresh_from_db()
    assert bad.outcome == Outcome.ALERT and bad.reprocessed_at is not None
    assert Incident.objects.filter(host="szhxapp01", check_name="cpu", severity="critical").count() == 1


def test_starttls_and_imaps_connect(db, imap_env, mailbox):
    for security, port in (("starttls", imap_env["port"]), ("imaps", imap_env["imaps_port"])):
        account = MailAccount.objects.create(name=security, host="127.0.0.1", port=port, security=security,
                                             verify_certificate=False, username="alerts", password="alerts-secret")
        folder = MailFolder.objects.create(account=account, name=mailbox.folder)
        client = connect(folder)
        assert client.select_folder(folder.name)[b"EXISTS"] == 0
        client.logout()


def test_wrong_password_is_reported_and_retried_not_fatal(transactional_db, imap_env, mailbox):
    account = MailAccount.objects.create(name="bad", host="127.0.0.1", port=imap_env["port"], security="plain",
                                         username="alerts", password="wrong")
    folder = MailFolder.objects.create(account=account, name=mailbox.folder)
    stop = threading.Event()
    poller = ImapPoller(folder.pk, stop=stop, backoff_min=0.2, backoff_max=0.5)
    thread = threading.Thread(target=poller.run)
    thread.start()
    try:
        wait_for(lambda: MailFolder.objects.get(pk=folder.pk).error_count >= 2, message="two failed attempts")
        assert thread.is_alive()
        folder.refresh_from_db()
        assert folder.status == "reconnecting" and "authentication" in folder.last_error.lower()
    finally:
        stop.set()
        thread.join(10)


def test_one_poller_per_mailbox(transactional_db):
    first, second = mailbox_lock("imap:4242"), mailbox_lock("imap:4242")
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_server_killed_and_restarted_mid_batch_loses_and_duplicates_nothing(transactional_db, private_dovecot):
    from opsdesk.org.models import Unit  # noqa: F401  (ensures the app registry is ready)

    total_before, total_after = 400, 50
    client = imap_client(private_dovecot.host, private_dovecot.port)
    client.multiappend("INBOX", [nagios(n, service=f"svc {n % 40}") for n in range(total_before)])
    client.logout()
    account = MailAccount.objects.create(name="private", host=private_dovecot.host, port=private_dovecot.port,
                                         security="plain", username="alerts", password="alerts-secret", timeout=5)
    folder = MailFolder.objects.create(account=account, name="INBOX", batch_size=10, quarantine_folder="")
    stop = threading.Event()
    poller = ImapPoller(folder.pk, stop=stop, backoff_min=0.2, backoff_max=1.0)
    thread = threading.Thread(target=poller.run)
    thread.start()
    try:
        wait_for(lambda: IngestedMessage.objects.exists(), message="the first batch")
        private_dovecot.crash()
        at_crash = IngestedMessage.objects.count()
        wait_for(lambda: MailFolder.objects.get(pk=folder.pk).error_count >= 1, message="the poller noticing")
        private_dovecot.start()
        client = imap_client(private_dovecot.host, private_dovecot.port)
        client.multiappend("INBOX", [nagios(n, service=f"svc {n % 40}")
                                     for n in range(total_before, total_before + total_after)])
        client.logout()
        total = total_before + total_after
        wait_for(lambda: IngestedMessage.objects.count() >= total, timeout=120,
                 message=lambda: f"every message ({IngestedMessage.objects.count()} of {total}; poller "
                                 f"{MailFolder.objects.filter(pk=folder.pk).values().first()})")
        client = imap_client(private_dovecot.host, private_dovecot.port)
        client.select_folder("INBOX")
        wait_for(lambda: client.search("UNSEEN") == [], timeout=30, message="every message flagged")
        client.logout()
    finally:
        stop.set()
        thread.join(15)
    assert at_crash < total
    assert IngestedMessage.objects.count() == total
    assert IngestedMessage.objects.filter(outcome=Outcome.ALERT).count() == total
    assert IngestedMessage.objects.values("uid").distinct().count() == total
    assert Incident.objects.count() == 40
    assert sum(Incident.objects.values_list("occurrences", flat=True)) == total
    assert poller.reconnects >= 1
