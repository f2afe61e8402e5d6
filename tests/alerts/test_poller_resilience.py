"""The IMAP poller when things go wrong around it: the database restarting under it (simulated by
terminating its PostgreSQL sessions from outside), a second poller standing by, and mail delivered
in the gap between a sync and the next IDLE. Real Dovecot and PostgreSQL (`make test`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest
from django.conf import settings
from django.db import connection

from alerts.choices import Outcome
from alerts.models import Incident, IngestedMessage, MailFolder
from alerts.sources import imap as imap_module
from alerts.sources.imap import ImapPoller, connect
from alerts.sources.locks import LOCK_NAMESPACE
from tests.alerts.conftest import ROOT, wait_for
from tests.alerts.test_imap_poller import nagios

pytestmark = pytest.mark.imap


def postgres_url() -> str:
    db = settings.DATABASES["default"]
    assert db["ENGINE"].endswith("postgresql"), "these tests need PostgreSQL (DATABASE_URL; make test sets it)"
    return f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def other_sessions() -> list[int]:
    """Backend pids of every other session on the test database (the pollers')."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
        return [row[0] for row in cursor.fetchall()]


def database_restart() -> int:
    """What a PostgreSQL restart does to the pollers: every session of theirs is cut off."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


def folder_row(pk: int) -> dict:
    return MailFolder.objects.filter(pk=pk).values("status", "poller", "last_error", "error_count").first()


def sessions() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid, state, wait_event_type, wait_event, left(query, 120) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchall()


def mailbox_lock_holders(folder_pk: int) -> list[int]:
    """Backend pids holding the mailbox's advisory lock, as PostgreSQL sees it."""
    import zlib

    key = (zlib.crc32(f"imap:{folder_pk}".encode()) - 2**31) & 0xFFFFFFFF
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s "
                       "AND objid = %s AND objsubid = 2", [LOCK_NAMESPACE & 0xFFFFFFFF, key])
        return [row[0] for row in cursor.fetchall()]


def test_poll_alerts_process_survives_a_database_restart_and_ingests_later_mail_once(transactional_db, tmp_path,
                                                                                    mailbox, mail_folder):
    url = postgres_url()
    mailbox.append(nagios(1, host="szdbrst01"))
    log = tmp_path / "poller.log"
    env = {**os.environ, "DATABASE_URL": url, "OPSDESK_VAR_DIR": str(tmp_path / "var"),
           "OPSDESK_ALERT_BACKOFF_MIN": "0.2", "OPSDESK_ALERT_BACKOFF_MAX": "1"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "manage.py", "poll_alerts", "--folder", str(mail_folder.pk),
                                 "--rescan-interval", "0.3"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: IngestedMessage.objects.filter(folder=mail_folder).count() == 1, timeout=60,
                 message="the first message")
        wait_for(lambda: MailFolder.objects.get(pk=mail_folder.pk).status == "idle", message="the poller idling")
        assert database_restart() >= 2  # the reader's data and lock sessions (and the main loop's)

        mailbox.append(nagios(2, host="szdbrst01"))
        wait_for(lambda: IngestedMessage.objects.filter(folder=mail_folder).count() >= 2, timeout=60,
                 message=lambda: f"the message sent after the restart; log:\n{log.read_text()[-3000:]}")
        mailbox.append(nagios(3, host="szdbrst01"))
        wait_for(lambda: IngestedMessage.objects.filter(folder=mail_folder).count() >= 3, timeout=60,
                 message="a message sent after the recovery")
        wait_for(lambda: mailbox.search("UNSEEN") == [], message="every message flagged")
        assert proc.poll() is None  # nothing exited
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    messages = IngestedMessage.objects.filter(folder=mail_folder)
    assert messages.count() == 3 and messages.values("uid").distinct().count() == 3
    assert set(messages.values_list("outcome", flat=True)) == {Outcome.ALERT}
    # Three different checks: three incidents, each made from one message (nothing doubled).
    assert sorted(Incident.objects.filter(host="szdbrst01").values_list("occurrences", flat=True)) == [1, 1, 1]
    folder = MailFolder.objects.get(pk=mail_folder.pk)
    assert folder.error_count >= 1 and folder.last_error  # the outage is on the admin page
    assert proc.returncode == 0 and "poller stopped" in log.read_text()


def start(poller: ImapPoller) -> threading.Thread:
    thread = threading.Thread(target=poller.run, name=f"poller-{poller.holder}")
    thread.start()
    return thread


def test_standby_poller_leaves_the_holders_status_alone_and_takes_over_cleanly_after_a_database_restart(
        transactional_db, mailbox, mail_folder):
    stop = threading.Event()
    first = ImapPoller(mail_folder.pk, stop=stop, backoff_min=0.2, backoff_max=1.0, standby_retry=0.2)
    first_thread = start(first)
    second = ImapPoller(mail_folder.pk, stop=stop, backoff_min=0.2, backoff_max=1.0, standby_retry=0.2)
    second_thread = None
    try:
        wait_for(lambda: MailFolder.objects.get(pk=mail_folder.pk).status == "idle", message="the holder idling")
        second_thread = start(second)
        wait_for(lambda: second.standby_checks >= 5, message="the second poller standing by")
        folder = MailFolder.objects.get(pk=mail_folder.pk)
        # The admin page still shows the poller that reads the mailbox, reading it.
        assert folder.status == "idle" and folder.poller == first.holder
        assert first.holding and not second.holding

        mailbox.append(nagios(1, host="szstby01"))
        wait_for(lambda: IngestedMessage.objects.filter(folder=mail_folder).count() == 1,
                 message="mail read by the holder")

        assert database_restart() >= 2
        mailbox.append(nagios(2, host="szstby01"))

        def settled():
            holders = [p for p in (first, second) if p.holding]
            pids = mailbox_lock_holders(mail_folder.pk)
            return (len(holders) == 1 and len(pids) == 1 and holders[0].lock.backend_pid == pids[0]
                    and IngestedMessage.objects.filter(folder=mail_folder).count() >= 2)

        wait_for(settled, timeout=60, message=lambda: (
            f"one holder after the restart (first {first.holding}, second {second.holding}, "
            f"lock sessions {mailbox_lock_holders(mail_folder.pk)}, "
            f"{IngestedMessage.objects.filter(folder=mail_folder).count()} messages)"))
        holder = first if first.holding else second
        wait_for(lambda: MailFolder.objects.get(pk=mail_folder.pk).poller == holder.holder
                 and MailFolder.objects.get(pk=mail_folder.pk).status in ("idle", "ok"),
                 message=lambda: f"the new holder's status on the folder: {folder_row(mail_folder.pk)}; "
                                 f"holder {holder.holder}; sessions {sessions()}")
        mailbox.append(nagios(3, host="szstby01"))
        wait_for(lambda: IngestedMessage.objects.filter(folder=mail_folder).count() >= 3,
                 message="mail after the take-over")
        wait_for(lambda: mailbox.search("UNSEEN") == [], message="every message flagged")
        assert first_thread.is_alive() and second_thread.is_alive()
        assert [p.holding for p in (first, second)].count(True) == 1
    finally:
        stop.set()
        first_thread.join(15)
        if second_thread is not None:
            second_thread.join(15)
    messages = IngestedMessage.objects.filter(folder=mail_folder)
    assert messages.count() == 3 and messages.values("uid").distinct().count() == 3
    assert Incident.objects.filter(host="szstby01").count() == 3
    assert sum(Incident.objects.filter(host="szstby01").values_list("occurrences", flat=True)) == 3
    # Stopping: only the holder wrote "stopped"; the row names it.
    folder = MailFolder.objects.get(pk=mail_folder.pk)
    assert folder.status == "stopped" and folder.poller == holder.holder


def wait_for_news(poller: ImapPoller, stop: threading.Event) -> None:
    """poller.wait_for_news() must come back by itself (within a generous deadline)."""
    waiter = threading.Thread(target=poller.wait_for_news)
    waiter.start()
    try:
        wait_for(lambda: not waiter.is_alive(), timeout=30, message="the poller noticing the new mail")
    finally:
        stop.set()  # if it did not notice, end the IDLE it is in
        waiter.join(10)
        stop.clear()


def test_mail_delivered_between_a_sync_and_idle_is_read_at_once(db, monkeypatch, mailbox, mail_folder):
    # The safety-net renewal is pushed far away: only the check before IDLE can find the message.
    monkeypatch.setattr(imap_module, "IDLE_RENEW_S", 3600)
    mailbox.append(nagios(1, host="szgap01"))
    stop = threading.Event()
    poller = ImapPoller(mail_folder.pk, stop=stop)
    poller.folder = MailFolder.objects.select_related("account").get(pk=mail_folder.pk)
    poller.client = connect(poller.folder)
    try:
        poller.open_folder()
        assert poller.sync(full=True) == 1
        wait_for_news(poller, stop)  # returns at once: the SELECT announced the folder's size
        assert poller.sync() == 0
        mailbox.append(nagios(2, host="szgap01"))  # after the sync, before IDLE
        wait_for_news(poller, stop)
        assert poller.sync() == 1
    finally:
        poller._close()
    assert IngestedMessage.objects.filter(folder=mail_folder).count() == 2
    assert Incident.objects.filter(host="szgap01").count() == 2
