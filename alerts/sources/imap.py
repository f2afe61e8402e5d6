"""The IMAP poller: one mailbox folder, read with IDLE (or polling), handed to the ingest service.

A message is fetched with BODY.PEEK[] (nothing is marked on the server while we read), stored and
folded into incidents in one transaction per fetch batch, and only after that commit is it marked
\\Seen and/or moved to the processed (or quarantine) folder. If the poller dies between the commit
and the flag, the next sync finds the UID already stored and only finishes the flagging; if the
server's UIDVALIDITY changes, the messages come back as "duplicate" (same Message-ID and content)
and are finished the same way. Nothing is ingested twice.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
import uuid
from datetime import UTC, datetime

from django.db import DatabaseError, close_old_connections, connection
from django.db.models import F
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.imapclient import SEEN

from alerts.choices import Origin, Outcome, Security
from alerts.models import IngestedMessage, MailFolder
from alerts.services import Inbound, ingest_messages, load_rules
from alerts.sources.locks import holder_name, mailbox_lock

__all__ = ["ImapPoller", "LockLost", "SimulatedCrash", "connect"]

log = logging.getLogger("opsdesk.alerts.imap")

# Leave and re-enter IDLE this often, with a cheap sync in between (two UID SEARCHes): a safety net
# for a notification the server never sent (seen under heavy load); IDLE normally wakes us at once.
IDLE_RENEW_S = 10
HEARTBEAT_S = 15
# While IDLE, ask this often whether our mailbox lock still exists (it ends with its database session):
# a holder whose lock went with a database restart stops believing it holds the mailbox within this.
LOCK_CHECK_S = 2
HEALTHY = ("ok", "idle", "polling")


class SimulatedCrash(BaseException):
    """Raised by the fault-injection hook (tests): behaves like the process dying at that point."""


class LockLost(ConnectionError):
    """The mailbox lock is no longer ours (its database session ended, e.g. a database restart)."""


def connect(folder: MailFolder) -> IMAPClient:
    account = folder.account
    context = ssl.create_default_context(cafile=account.ca_file or None)
    if not account.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    client = IMAPClient(account.host, port=account.port, ssl=account.security == Security.IMAPS,
                        ssl_context=context, timeout=account.timeout)
    try:
        if account.security == Security.STARTTLS:
            client.starttls(context)
        client.login(account.username, account.password)
    except BaseException:
        _quietly_close(client)
        raise
    return client


def _quietly_close(client) -> None:
    try:
        client.shutdown()
    except Exception:
        pass


class ImapPoller:
    def __init__(self, folder_pk: int, *, stop: threading.Event | None = None, pool=None,
                 fault: str | None = None, backoff_min: float | None = None, backoff_max: float | None = None,
                 standby_retry: float = 5.0):
        from alerts.conf import setting

        self.folder_pk = folder_pk
        self.stop = stop or threading.Event()
        self.pool = pool
        self.fault = fault  # "after-commit": die between the commit and the flag (tests)
        self.backoff_min = backoff_min if backoff_min is not None else setting("OPSDESK_ALERT_BACKOFF_MIN")
        self.backoff_max = backoff_max if backoff_max is not None else setting("OPSDESK_ALERT_BACKOFF_MAX")
        self.standby_retry = standby_retry
        self.gather = max(0.0, float(setting("OPSDESK_ALERT_IMAP_GATHER")))
        self._written_status: tuple[str, float] | None = None  # what _status last wrote, and when
        self.client: IMAPClient | None = None
        self.folder: MailFolder | None = None
        self.reconnects = 0
        # Who we are on the folder row ("held by"); unique per poller so that only the current lock
        # holder's status writes land (a former holder's late writes match no row).
        self.holder = f"{holder_name()}#{uuid.uuid4().hex[:6]}"
        self.lock = None
        self.holding = False  # do we (believe we) hold the mailbox lock?
        self.standby_checks = 0  # lock attempts that found another poller holding the mailbox
        self._synced_uid = 0
        self._pending_error: str | None = None
        self._claimed = False  # the folder row names us as its poller
        self._in_run = False  # run(): the lock decides who writes the folder row; sync_once(): we do

    # --- the long-lived loop ------------------------------------------------------------------

    def run(self) -> None:
        """Until `stop` is set: hold the mailbox lock, read, and reconnect with backoff on failure.

        Database failures (a PostgreSQL restart) are handled like IMAP failures: logged, the
        connections closed, and after a backoff the lock is taken again from scratch (it ended with
        its database session) before anything more is read."""
        backoff = self.backoff_min
        self._in_run = True
        try:
            while not self.stop.is_set():
                try:
                    self.folder = MailFolder.objects.select_related("account").get(pk=self.folder_pk)
                    if not self._hold():
                        self.stop.wait(self.standby_retry)
                        continue
                    self.session()
                    backoff = self.backoff_min
                except SimulatedCrash:
                    raise
                except Exception as exc:  # every failure is reported and retried; never a silent exit
                    self.reconnects += 1
                    log.warning("mailbox %s: %s: %s; reconnecting in %.1f s", self.folder_pk,
                                exc.__class__.__name__, exc, backoff)
                    self._close()
                    # A fresh database connection next time (we are outside any transaction here): after
                    # a database restart the old one is dead even if this failure was not a query.
                    if isinstance(exc, DatabaseError):
                        log.error("mailbox %s: database error: %s", self.folder_pk, exc)
                    connection.close()
                    if self.holding and not self.lock.still_held():
                        self._drop_lock()
                    self._record_error(exc, backoff)
                    self.stop.wait(backoff)
                    backoff = min(backoff * 2, self.backoff_max)
                finally:
                    close_old_connections()
        finally:
            self._close()
            if self.holding:
                self._status("stopped", error=False)
            self._drop_lock()
            connection.close()

    def _hold(self) -> bool:
        """Make sure we hold the mailbox lock, and that the folder row names us; False: another
        poller holds the mailbox (we stand by and write nothing on its row)."""
        if not (self.holding and self.lock.still_held()):
            if self.holding:
                log.warning("mailbox %s: lost the mailbox lock (its database session ended); taking it again",
                            self.folder_pk)
            self._drop_lock()
            lock = mailbox_lock(f"imap:{self.folder_pk}")
            if not lock.acquire():
                self.standby_checks += 1
                if self.standby_checks == 1:
                    log.info("mailbox %s is read by another poller; standing by", self.folder_pk)
                return False
            self.lock, self.holding = lock, True
        if not self._claimed:  # (again, if the database failed before the row named us)
            fields = {"poller": self.holder, "status": "starting", "heartbeat_at": timezone.now()}
            if self._pending_error:  # a failure we could not write down then (the database was away)
                fields.update(last_error=self._pending_error, last_error_at=timezone.now(),
                              error_count=F("error_count") + 1)
            MailFolder.objects.filter(pk=self.folder_pk).update(**fields)
            self._claimed, self._pending_error = True, None
            log.info("mailbox %s: holding the mailbox lock as %s", self.folder_pk, self.holder)
        return True

    def _drop_lock(self) -> None:
        if self.lock is not None:
            self.lock.release()
        self.lock, self.holding, self._claimed = None, False, False

    def _check_lock(self) -> None:
        if self.lock is not None and not self.lock.still_held():
            self.holding = False
            raise LockLost("lost the mailbox lock")

    def _fence(self) -> None:
        """Inside the ingest transaction: abort it unless our lock session still holds the lock."""
        if self.lock is None:
            return
        with connection.cursor() as cursor:
            if not self.lock.fence(cursor):
                self.holding = False
                raise LockLost("lost the mailbox lock")

    def session(self) -> None:
        """Connect, sync, then wait for news (IDLE or polling) and sync again, until stopped."""
        folder = self.folder
        self.client = connect(folder)
        self.open_folder()
        self.sync(full=True)
        last_full = time.monotonic()
        use_idle = folder.use_idle and b"IDLE" in self.client.capabilities()
        while not self.stop.is_set():
            self._check_lock()
            self._status("idle" if use_idle else "polling", error=False)
            if use_idle:
                if self.wait_for_news() and self.gather:
                    self.stop.wait(self.gather)  # a burst: read it in one go rather than mail by mail
            else:
                self.stop.wait(folder.poll_interval)
                self.client.noop()
            if self.stop.is_set():
                break
            self._check_lock()
            full = time.monotonic() - last_full >= folder.rescan_interval
            self.sync(full=full)
            if full:
                last_full = time.monotonic()
        self._close()

    def _announced_news(self) -> bool:
        """New mail the server already announced in answer to an earlier command (or while IDLE
        was starting): imaplib keeps such untagged EXISTS/RECENT lines aside, and idle_check()
        never sees them, so without this look a message arriving during a sync would wait for the
        next IDLE renewal."""
        pending = self.client._imap.untagged_responses
        exists, recent = pending.pop("EXISTS", None), pending.pop("RECENT", None)
        return bool(exists or recent)

    def _news_before_idle(self) -> bool:
        """Mail delivered since the last sync: Dovecot reports changes only from the moment IDLE
        starts, and a SEARCH answers from the session's current view of the mailbox, so a NOOP first
        brings that view up to date (and may itself announce EXISTS), then UID SEARCH looks past the
        highest UID we have dealt with."""
        client = self.client
        _text, responses = client.noop()
        announced = self._announced_news()  # imaplib keeps its own copy of what NOOP reported: consume it
        if announced or any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
            return True
        seen = max(self.folder.last_uid, self._synced_uid)
        return any(u > seen for u in client.search(["UID", f"{seen + 1}:*"]))

    def wait_for_news(self) -> bool:
        """Return when there may be new mail: announced, found just before IDLE, or reported during
        IDLE (True); at the latest after IDLE_RENEW_S (a safety net), or when stopped (False)."""
        client = self.client
        if self._announced_news() or self._news_before_idle():
            return True
        client.idle()
        if self._announced_news():
            client.idle_done()
            return True
        started = last_beat = last_lock_check = time.monotonic()
        try:
            while not self.stop.is_set():
                responses = client.idle_check(timeout=1.0)
                if any(r[1] in (b"EXISTS", b"RECENT") for r in responses if len(r) > 1):
                    return True
                now = time.monotonic()
                if now - last_lock_check >= LOCK_CHECK_S:
                    self._check_lock()
                    last_lock_check = now
                if now - last_beat >= HEARTBEAT_S:
                    self._status("idle", error=False)
                    last_beat = now
                if now - started >= IDLE_RENEW_S:
                    return False
        finally:
            client.idle_done()
        return False

    def sync_once(self, *, full: bool = True) -> int:
        """Connect, read what is there, disconnect (tests, and a cron-style run)."""
        self.folder = MailFolder.objects.select_related("account").get(pk=self.folder_pk)
        self.client = connect(self.folder)
        try:
            self.open_folder()
            return self.sync(full=full)
        finally:
            self._close()

    # --- one pass over the folder -----------------------------------------------------------

    def open_folder(self) -> None:
        folder, client = self.folder, self.client
        for extra in (folder.processed_folder, folder.quarantine_folder):
            if extra and not client.folder_exists(extra):
                client.create_folder(extra)
        info = client.select_folder(folder.name)
        uidvalidity = int(info[b"UIDVALIDITY"])
        if folder.uidvalidity != uidvalidity:
            if folder.uidvalidity is not None:
                log.warning("mailbox %s: UIDVALIDITY changed %s -> %s; re-reading the folder (already stored "
                            "messages are recognised by Message-ID and content)", folder, folder.uidvalidity,
                            uidvalidity)
            folder.uidvalidity, folder.last_uid = uidvalidity, 0
            MailFolder.objects.filter(pk=folder.pk).update(uidvalidity=uidvalidity, last_uid=0)

    def sync(self, *, full: bool = False) -> int:
        """Ingest what is new; finish (flag/move) what was stored but not yet flagged. Returns the
        number of messages ingested."""
        folder, client = self.folder, self.client
        moving = bool(folder.processed_folder)
        self._check_lock()
        candidates = set(client.search(["UID", f"{folder.last_uid + 1}:*"]))
        candidates = {u for u in candidates if u > folder.last_uid}
        unseen: set[int] = set()
        if moving or full:
            candidates |= set(client.search("ALL"))
        elif folder.mark_seen:
            unseen = set(client.search("UNSEEN"))
            candidates |= unseen
        if not candidates:
            self._success(lag=0.0)
            return 0
        if folder.mark_seen and not moving and full:
            unseen = set(client.search("UNSEEN"))
        ordered = sorted(candidates)
        self._synced_uid = max(self._synced_uid, ordered[-1])
        known = self._known(ordered)
        # Stored before but never flagged (a crash between commit and flag): finish them now.
        leftover = [u for u in ordered if u in known and (moving or u in unseen)]
        if leftover:
            outcomes = dict(IngestedMessage.objects.filter(
                folder_id=folder.pk, uidvalidity=folder.uidvalidity, uid__in=leftover).values_list("uid", "outcome"))
            self._finish([u for u in leftover if outcomes.get(u) != Outcome.QUARANTINED],
                         [u for u in leftover if outcomes.get(u) == Outcome.QUARANTINED])
        todo = [u for u in ordered if u not in known]
        ingested = 0
        rules = load_rules() if todo else ()
        # A pipeline: while batch N is stored (this process and the database), batch N+1 is
        # already fetched and being parsed in the worker processes (when there is a pool).
        pending = None
        for start in range(0, len(todo), max(1, folder.batch_size)):
            if self.stop.is_set():
                break
            items = self._fetch(todo[start:start + folder.batch_size])
            job = self._parse_async(items, rules)
            if pending is not None:
                ingested += self._store(*pending, rules)
            pending = (items, job)
        if pending is not None:
            ingested += self._store(*pending, rules)
        if not todo:
            self._success(lag=0.0)
        return ingested

    def _known(self, uids: list[int]) -> set[int]:
        known: set[int] = set()
        for start in range(0, len(uids), 5000):
            chunk = uids[start:start + 5000]
            known.update(IngestedMessage.objects.filter(
                folder_id=self.folder.pk, uidvalidity=self.folder.uidvalidity, uid__in=chunk)
                .values_list("uid", flat=True))
        return known

    def _fetch(self, uids: list[int]) -> list[Inbound]:
        folder = self.folder
        data = self.client.fetch(uids, ["BODY.PEEK[]", "INTERNALDATE"])
        now = timezone.now()
        items = []
        for uid in uids:
            entry = data.get(uid)
            if entry is None or b"BODY[]" not in entry:
                continue  # expunged meanwhile
            item = Inbound(raw=bytes(entry[b"BODY[]"]), origin=Origin.IMAP, received_at=now,
                           folder_id=folder.pk, uidvalidity=folder.uidvalidity, uid=uid)
            internal = entry.get(b"INTERNALDATE")
            if isinstance(internal, datetime):
                item.internal_date = internal if internal.tzinfo else internal.replace(tzinfo=UTC)
            items.append(item)
        return items

    def _parse_async(self, items: list[Inbound], rules):
        from alerts.conf import setting
        from alerts.services import known_hosts, load_bindings

        if self.pool is None or len(items) < setting("OPSDESK_ALERT_PARSE_POOL_MIN_BATCH"):
            return None
        return self.pool.submit([i.raw for i in items], tuple(rules), known_hosts(), load_bindings(),
                                [i.mailbox for i in items])

    def _store(self, items: list[Inbound], job, rules) -> int:
        """Commit one batch, then (only then) flag/move it on the server."""
        folder = self.folder
        if job is not None:
            for item, result in zip(items, job.result(), strict=True):
                item.parsed = result
        handled = ingest_messages(items=items, rules=rules, guard=self._fence) if items else []
        if self.fault == "after-commit":
            raise SimulatedCrash("fault injection: died after commit, before flagging")
        quarantined = [h.inbound.uid for h in handled if h.outcome == Outcome.QUARANTINED]
        done = [h.inbound.uid for h in handled if h.outcome != Outcome.QUARANTINED]
        self._finish(done, quarantined)
        if items:
            folder.last_uid = max([folder.last_uid, *(i.uid for i in items)])
        stored = sum(1 for h in handled if h.outcome != "known")
        dates = [i.internal_date for i in items if i.internal_date]
        lag = (timezone.now() - min(dates)).total_seconds() if dates else None
        self._rows().update(last_uid=folder.last_uid, ingested_count=F("ingested_count") + stored)
        self._success(lag=lag)
        return stored

    def _finish(self, done: list[int], quarantined: list[int]) -> None:
        folder, client = self.folder, self.client
        if quarantined:
            if folder.quarantine_folder:
                self._move(quarantined, folder.quarantine_folder)
            else:
                client.add_flags(quarantined, [SEEN, b"\\Flagged"])
        if done:
            if folder.processed_folder:
                if folder.mark_seen:
                    client.add_flags(done, [SEEN])
                self._move(done, folder.processed_folder)
            elif folder.mark_seen:
                client.add_flags(done, [SEEN])

    def _move(self, uids: list[int], target: str) -> None:
        client = self.client
        if client.has_capability("MOVE"):
            client.move(uids, target)
        else:
            client.copy(uids, target)
            client.delete_messages(uids)
            client.uid_expunge(uids) if client.has_capability("UIDPLUS") else client.expunge()

    # --- status for the admin page ------------------------------------------------------------

    def _rows(self):
        """The folder row, as far as we may write it: only the lock holder writes the poller's status
        (a standby, or a former holder after its lock ended, matches no row)."""
        rows = MailFolder.objects.filter(pk=self.folder_pk)
        return rows.filter(poller=self.holder) if self._in_run else rows

    def _status_update(self, **fields) -> bool:
        if self._in_run and not self.holding:
            return False
        try:
            return bool(self._rows().update(**fields))
        except Exception:  # the database may be what is failing; the log still has it
            log.exception("mailbox %s: could not record status", self.folder_pk)
            return False

    def _status(self, status: str, *, error: bool) -> None:
        if self._healthy_written_recently() and self._written_status[0] == status:
            return
        if self._status_update(status=status, heartbeat_at=timezone.now()):
            self._written_status = (status, time.monotonic())

    def _success(self, *, lag: float | None) -> None:
        if self._healthy_written_recently():
            return
        now = timezone.now()
        fields = {"status": "ok", "heartbeat_at": now, "last_success_at": now}
        if lag is not None:
            fields["lag_seconds"] = round(max(lag, 0.0), 3)
        if self._status_update(**fields):
            self._written_status = ("ok", time.monotonic())

    def _healthy_written_recently(self) -> bool:
        """A busy mailbox goes ok → idle → ok several times a second: the folder row shows the change
        once, then is written again a third of a heartbeat later, not on every read."""
        last = self._written_status
        return last is not None and last[0] in HEALTHY and time.monotonic() - last[1] < HEARTBEAT_S / 3

    def _record_error(self, exc: BaseException, backoff: float) -> None:
        self._written_status = None  # the next healthy state is written at once
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
        if not self.holding:
            self._pending_error = error  # written down when we hold the mailbox again (if we do)
            return
        if not self._status_update(status="reconnecting", last_error=error, last_error_at=timezone.now(),
                                   error_count=F("error_count") + 1, heartbeat_at=timezone.now()):
            self._pending_error = error

    def _close(self) -> None:
        if self.client is not None:
            _quietly_close(self.client)
            self.client = None
