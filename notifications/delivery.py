"""Batched delivery of the outbox: what a Celery worker does when it is woken.

A worker claims up to OPSDESK_SMS_BATCH_SIZE due messages in one short transaction
(`SELECT … FOR UPDATE SKIP LOCKED`, so two workers never claim the same row and never wait for each
other), marks them `sending` with a lease, and commits. It then sends them through its process's open
backend (one kept-alive HTTP connection, one SMPP bind with a send window) and writes the outcomes in
bulk every OPSDESK_SMS_RECORD_EVERY messages. It claims again until nothing is due.

Guarantees, and how they hold:
- Per-address order. A message is claimed only if no earlier message to the same address is still
  pending and not due (a retry waiting for its back-off, a send in another worker's hands): the claim
  query excludes those. Of what it claimed, the worker sends an address's messages in rounds (the first
  of every address, then the second…) and drops the rest of an address when one fails; an earlier
  message another worker holds locked makes it leave that address's later ones alone.
- Rate limits, digests and quiet hours are decided when the message is written (`not_before`, merged
  rows); a held message is simply not due, so batching cannot bend them.
- Exactly once at the gateway. Every attempt carries the row's idempotency key (gateways drop a
  repeat). A worker killed mid-batch leaves its rows `sending`; when their lease runs out another
  worker claims them again: those it had sent but not yet recorded (at most RECORD_EVERY) go again under
  the same key, the rest for the first time. A send never outlives its lease: right before each chunk
  the worker extends the lease of that chunk's rows, guarded by the lease it set (a row whose lease ran
  out and that another worker claimed meanwhile is left to that worker, not sent), and while a chunk
  takes long (a slow gateway) a keeper thread renews the batch's lease every third of it. Leases are
  short (OPSDESK_SMS_LEASE_SECONDS) because they are renewed: a killed worker's rows are free again
  that long after its last sign of life, not after the worst case of its whole batch.
- Nothing lost: rows are the queue. A wake-up that never reached the broker is covered by the
  periodic relay (services.notifications_dispatch_due).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from notifications import conf
from notifications.backends import OutgoingMessage, PermanentFailure, Receipt, TemporaryFailure, get_backend
from notifications.models import PENDING_STATUSES, Channel, Notification, NotificationStatus, ReceiptStatus
from opsdesk.transactions import on_commit_once

__all__ = ["deliver_due", "DeliveryReport", "due_filter", "request_delivery", "wake_up", "record_receipts",
           "collect_receipts", "MAX_COUNTDOWN_SECONDS"]

logger = logging.getLogger(__name__)

# Holds longer than this are not given to the broker as a countdown; the periodic relay wakes
# delivery for them (a broker keeps ETA messages unacknowledged, and quiet hours last all night).
MAX_COUNTDOWN_SECONDS = 300
# After the gateway took a message, a database that is restarting must not make it look unsent:
# the record is retried over a few seconds (a restart or fail-over) before the lease is left to run
# out, which would send the message again.
RECORD_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)
# At most this many waiting addresses are left out of a claim by name (a gateway outage can leave
# thousands): past it, their later messages may be claimed and put back, order still holds.
MAX_EXCLUDED = 300
# One wake-up works at most this long, then hands over to a fresh wake-up (other tasks get a turn).
WAKE_BUDGET_SECONDS = 60


@dataclass
class DeliveryReport:
    outcomes: dict[int, str] = field(default_factory=dict)  # notification id → sent/failed/dead
    batches: int = 0

    @property
    def counts(self) -> Counter:
        return Counter(self.outcomes.values())


@dataclass
class _Claimed:
    """A claimed row; `lease` is the claimed_until this worker set last (its proof of ownership)."""

    pk: int
    address: str
    channel: str
    text: str
    key: str
    attempt: int  # the attempt number this send is
    was: str  # status before the claim, to put it back if unsent
    urgent: bool
    lease: dt.datetime | None = None


# --- waking workers ----------------------------------------------------------------------------


def request_delivery(countdown: float = 0) -> None:
    """Wake delivery after the current transaction commits (once per transaction)."""
    if countdown > 0:
        transaction.on_commit(lambda: wake_up(countdown))
        return
    on_commit_once(wake_up)


def wake_up(countdown: float = 0) -> None:
    """Ask a worker to deliver what is due (in-process mode: deliver now)."""
    if conf.is_eager():
        if countdown <= 0:
            deliver_due()
        return  # in-process mode has no timer: the relay or a resend picks held messages up
    if countdown > MAX_COUNTDOWN_SECONDS:
        return
    from notifications.tasks import deliver_due_notifications

    options = {"queue": conf.get("OPSDESK_NOTIFICATIONS_QUEUE")}
    if countdown > 0:
        options["countdown"] = countdown
    try:
        deliver_due_notifications.apply_async(**options)
    except Exception:  # broker down: the rows are committed; the relay wakes delivery later
        logger.exception("could not wake SMS delivery; the relay will")


# --- claiming ----------------------------------------------------------------------------------


def due_filter(now: dt.datetime) -> Q:
    """Rows a worker may send now: queued and not held, a retry whose time has come, a send whose
    worker died (lease over)."""
    return (Q(status=NotificationStatus.QUEUED) & (Q(not_before__isnull=True) | Q(not_before__lte=now))
            | Q(status=NotificationStatus.FAILED, next_attempt_at__lte=now)
            | Q(status=NotificationStatus.SENDING, claimed_until__lte=now))


def _waiting_filter(now: dt.datetime) -> Q:
    """Pending rows that are not due: they hold back later messages to their address."""
    return (Q(status=NotificationStatus.FAILED, next_attempt_at__gt=now)
            | Q(status=NotificationStatus.SENDING, claimed_until__gt=now))


def _claim(now: dt.datetime, size: int, only: set[int] | None) -> tuple[list[_Claimed], float | None]:
    """Claim due rows; returns them in send order and, if some were held back by a live lease of
    another worker and nothing was claimed, when to look again."""
    candidates = Notification.objects.filter(due_filter(now))
    # Leave out addresses with an earlier message waiting (a retry's back-off, another worker's send):
    # their later messages would only be claimed to be put back. A short list, computed first, keeps the
    # claim one index scan whatever the table's statistics say.
    waiting = (Notification.objects.filter(_waiting_filter(now)).order_by().values("address", "channel")
               .annotate(first=Min("pk")).values_list("address", "channel", "first")[:MAX_EXCLUDED])
    held_back = Q()
    for address, channel, first in waiting:
        held_back |= Q(address=address, channel=channel, pk__gt=first)
    if held_back:
        candidates = candidates.exclude(held_back)
    if only is not None:
        candidates = candidates.filter(pk__in=only)
    lease = dt.timedelta(seconds=lease_seconds())
    with transaction.atomic():
        rows = list(candidates.select_for_update(skip_locked=True, of=("self",)).order_by("pk").values(
            "pk", "address", "channel", "text", "idempotency_key", "attempts", "status", "urgent")[:size])
        if not rows:
            return [], _next_lease_end(now, only)
        no_address = [r["pk"] for r in rows if not r["address"]]
        if no_address:
            for channel, error in ((Channel.SMS, "no mobile number"), (Channel.EMAIL, "no e-mail address")):
                Notification.objects.filter(pk__in=no_address, channel=channel).update(
                    status=NotificationStatus.DEAD, last_error=error, claimed_until=None)
        rows = [r for r in rows if r["address"]]
        allowed = _in_address_order(rows, now)
        if allowed:
            Notification.objects.filter(pk__in=[r["pk"] for r in allowed]).update(
                status=NotificationStatus.SENDING, attempts=F("attempts") + 1, claimed_until=now + lease)
    return [_Claimed(pk=r["pk"], address=r["address"], channel=r["channel"], text=r["text"],
                     key=r["idempotency_key"], attempt=r["attempts"] + 1, was=r["status"], urgent=r["urgent"],
                     lease=now + lease)
            for r in allowed], None


def _in_address_order(rows: list[dict], now: dt.datetime) -> list[dict]:
    """The claimed rows no earlier pending row of their address stands before (one that is locked by
    another worker's claim, or not yet due): that address's later rows wait for it."""
    by_address: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        by_address[(row["address"], row["channel"])].append(row)
    claimed = {row["pk"] for row in rows}
    pending = (Notification.objects.filter(status__in=PENDING_STATUSES, address__in={a for a, _ in by_address},
                                           pk__lte=max(claimed))
               .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
               .order_by("pk").values_list("pk", "address", "channel"))
    blocked: set[tuple[str, str]] = set()
    for pk, address, channel in pending:
        if pk not in claimed and (address, channel) in by_address:
            blocked.add((address, channel))
        elif (address, channel) in blocked:
            claimed.discard(pk)
    return [row for row in rows if row["pk"] in claimed]


def _next_lease_end(now: dt.datetime, only: set[int] | None) -> float | None:
    """Seconds until the first live lease ends among rows that would otherwise be due."""
    qs = Notification.objects.filter(status=NotificationStatus.SENDING, claimed_until__gt=now)
    if only is not None:
        qs = qs.filter(pk__in=only)
    first = qs.order_by("claimed_until").values_list("claimed_until", flat=True).first()
    return None if first is None else (first - now).total_seconds() + 0.5


def lease_seconds() -> float:
    """How long a claim stays this worker's without renewal. The outcome of a send that ended just
    before a renewal was due is recorded with two thirds of a lease left: that must cover the record's
    retries through a database restart."""
    return max(conf.get_float("OPSDESK_SMS_LEASE_SECONDS"), sum(RECORD_RETRY_DELAYS) * 1.5)


def _extend(rows: list[_Claimed], *, lock_timeout_ms: int | None = None) -> list[_Claimed]:
    """Extend the lease of `rows`; returns those still ours (status and lease as this worker set them,
    even when the lease just ran out: nobody claimed them since)."""
    now = timezone.now()
    until = now + dt.timedelta(seconds=lease_seconds())
    ours: list[int] = []
    with transaction.atomic():
        if lock_timeout_ms is not None and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}")
        for lease in {r.lease for r in rows}:
            pks = [r.pk for r in rows if r.lease == lease]
            ours += list(Notification.objects.select_for_update().filter(
                pk__in=pks, status=NotificationStatus.SENDING, claimed_until=lease).values_list("pk", flat=True))
        if ours:
            Notification.objects.filter(pk__in=ours).update(claimed_until=until)
    kept = [r for r in rows if r.pk in set(ours)]
    for row in kept:
        row.lease = until
    return kept


class _LeaseKeeper:
    """Renews the lease of a batch's rows every third of a lease while a send is under way, from a
    thread of its own (the sending thread is blocked in the backend). Most sends end before the first
    renewal is due; a worker that dies stops renewing, which is what frees its rows quickly."""

    def __init__(self, rows: list[_Claimed]):
        self.rows = rows
        self.every = lease_seconds() / 3
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sms-lease-keeper", daemon=True)

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        # The renewal in flight (bounded by its lock timeout) finishes before the rows' leases are read again.
        self._thread.join(timeout=self.every)

    def _run(self) -> None:
        try:
            while not self._done.wait(self.every):
                try:
                    _extend(self.rows, lock_timeout_ms=int(self.every * 500))
                except DatabaseError as exc:  # the lease runs out: another worker resends under the same key
                    logger.warning("could not renew the lease of SMS being sent: %s", exc)
        finally:
            connection.close()  # this thread's own connection


# --- sending -----------------------------------------------------------------------------------


def deliver_due(*, only: set[int] | list[int] | None = None, budget_seconds: float = WAKE_BUDGET_SECONDS
                ) -> DeliveryReport:
    """Claim and send due messages until none is due (or the time budget is spent: then another
    wake-up carries on). `only` restricts the claim to those rows (tests, a resend)."""
    only = set(only) if only is not None else None
    report = DeliveryReport()
    size = max(1, conf.get_int("OPSDESK_SMS_BATCH_SIZE"))
    started = time.monotonic()
    timers: set[float] = set()
    while True:
        now = timezone.now()
        batch, look_again = _claim(now, size, only)
        if not batch:
            if look_again is not None:
                timers.add(look_again)
            break
        report.batches += 1
        _send_batch(batch, report, timers)
        if time.monotonic() - started > budget_seconds:
            timers.add(0)  # more may be due: a fresh wake-up carries on
            break
    collect_receipts()
    if not conf.is_eager():
        for countdown in sorted(timers)[:5]:
            _wake_once_at(countdown)
    return report


# Wake-ups this process has already asked for (when they fire): many wake-ups finding the same lease or
# retry ask for one timer, not one each. One firing a little after the moment wanted serves; one
# firing before it does not (it would find nothing due, and nobody would look again).
_timers: list[float] = []
TIMER_SLACK_SECONDS = 0.5


def _wake_once_at(countdown: float) -> None:
    now = time.time()
    _timers[:] = [at for at in _timers if at >= now]
    target = now + countdown
    if countdown > 0 and any(target <= at <= target + TIMER_SLACK_SECONDS for at in _timers):
        return
    _timers.append(target)
    wake_up(countdown)


def _send_batch(batch: list[_Claimed], report: DeliveryReport, timers: set[float]) -> None:
    record_every = max(1, conf.get_int("OPSDESK_SMS_RECORD_EVERY"))
    # Rounds: the first message of every address, then the second… so one address is never sent
    # two messages at once and a failure stops that address's later ones.
    queues: dict[tuple[str, str], list[_Claimed]] = defaultdict(list)
    for row in batch:
        queues[(row.address, row.channel)].append(row)
    failed_addresses: set[tuple[str, str]] = set()
    unsent: list[_Claimed] = []
    done: set[int] = set()  # sent (recorded or not): the keeper leaves them alone
    depth = max(len(q) for q in queues.values())
    for level in range(depth):
        round_rows = [q[level] for q in queues.values() if len(q) > level]
        for start in range(0, len(round_rows), record_every):
            chunk = round_rows[start:start + record_every]
            unsent += [r for r in chunk if (r.address, r.channel) in failed_addresses]
            ready = [r for r in chunk if (r.address, r.channel) not in failed_addresses]
            if not ready:
                continue
            kept = _after_retrying_database(lambda ready=ready: _extend(ready))
            # Taken over by another worker after our lease ran out: that worker sends the rest of the address.
            kept_pks = {r.pk for r in kept}
            failed_addresses.update((r.address, r.channel) for r in ready if r.pk not in kept_pks)
            ready = kept
            if not ready:
                continue
            with _LeaseKeeper([r for r in batch if r.pk not in done]):
                outcomes = _send_chunk(ready)
            done.update(r.pk for r in ready)
            for row, (error, _permanent, _provider) in zip(ready, outcomes, strict=True):
                if error:
                    failed_addresses.add((row.address, row.channel))
            _after_retrying_database(lambda ready=ready, outcomes=outcomes: _record(ready, outcomes, report, timers))
    if unsent:
        _after_retrying_database(lambda: _release(unsent))


def _send_chunk(rows: list[_Claimed]) -> list[tuple[str, bool, str]]:
    """(error, permanent, provider id) per row, sent through this process's backends by channel."""
    results: dict[int, tuple[str, bool, str]] = {}
    for channel in {r.channel for r in rows}:
        mine = [r for r in rows if r.channel == channel]
        messages = [OutgoingMessage(address=r.address, text=r.text, key=r.key, channel=r.channel) for r in mine]
        try:
            answers = get_backend(channel).send_many(messages)
        except Exception as exc:  # a bug or misconfiguration must not lose the messages: retry, then dead
            logger.exception("SMS backend error")
            answers = [exc] * len(messages)
        for row, answer in zip(mine, answers, strict=True):
            results[row.pk] = _outcome(answer)
    return [results[r.pk] for r in rows]


def _outcome(answer) -> tuple[str, bool, str]:
    if isinstance(answer, TemporaryFailure):
        return str(answer) or "temporary failure", False, ""
    if isinstance(answer, PermanentFailure):
        return str(answer) or "permanent failure", True, ""
    if isinstance(answer, Exception):
        logger.error("SMS backend error: %s: %s", answer.__class__.__name__, answer)
        return f"{answer.__class__.__name__}: {answer}", False, ""
    return "", False, str(answer or "")


def _backoff_seconds(attempts: int) -> float:
    base, cap = conf.get_float("OPSDESK_SMS_RETRY_BASE"), conf.get_float("OPSDESK_SMS_RETRY_MAX")
    delay = min(cap, base * (2 ** max(0, attempts - 1)))
    return round(delay * random.uniform(0.9, 1.1), 3)


# --- recording ---------------------------------------------------------------------------------


def _after_retrying_database(write):
    for delay in (*RECORD_RETRY_DELAYS, None):
        try:
            return write()
        except (OperationalError, InterfaceError):
            if delay is None or connection.in_atomic_block:  # a caller's transaction is lost anyway
                raise
            logger.warning("database unavailable while recording deliveries; retrying in %s s", delay)
            connection.close()  # the next query connects afresh
            time.sleep(delay)


def _record(rows: list[_Claimed], outcomes, report: DeliveryReport, timers: set[float]) -> None:
    """Write a chunk's outcomes in one statement. Only rows still in this attempt's hands change:
    after a lease ran out another worker owns them ("superseded")."""
    finished = timezone.now()
    max_attempts = conf.get_int("OPSDESK_SMS_MAX_ATTEMPTS")
    changes = []  # (pk, attempt, status, sent_at, last_error, provider id, next attempt at)
    for row, (error, permanent, provider_id) in zip(rows, outcomes, strict=True):
        if not error:
            changes.append((row.pk, row.attempt, NotificationStatus.SENT, finished, "", provider_id[:100], None))
        elif permanent or row.attempt >= max_attempts:
            changes.append((row.pk, row.attempt, NotificationStatus.DEAD, None, error, "", None))
        else:
            delay = _backoff_seconds(row.attempt)
            changes.append((row.pk, row.attempt, NotificationStatus.FAILED, None, error, "",
                            finished + dt.timedelta(seconds=delay)))
            timers.add(round(delay + 0.25, 1))  # a moment late rather than early: then it is due
    updated = _update_outcomes(changes)
    for pk, _attempt, status, *_ in changes:
        report.outcomes[pk] = status if pk in updated else "superseded"


def _update_outcomes(changes: list[tuple]) -> set[int]:
    """UPDATE … FROM (VALUES …) guarded by status and attempt; returns the ids it changed."""
    table = connection.ops.quote_name(Notification._meta.db_table)
    postgres = connection.vendor == "postgresql"
    # PostgreSQL needs the types of a VALUES list spelled out; SQLite takes the values as they come.
    types = ("bigint", "integer", "varchar", "timestamptz", "text", "varchar", "timestamptz")
    row_sql = "(" + ", ".join(f"CAST(%s AS {t})" if postgres else "%s" for t in types) + ")"
    params: list = []
    for pk, attempt, status, sent_at, error, provider, next_at in changes:
        params += [pk, attempt, str(status), connection.ops.adapt_datetimefield_value(sent_at), error, provider,
                   connection.ops.adapt_datetimefield_value(next_at)]
    sql = (f"WITH v(id, attempts, status, sent_at, last_error, provider, next_at) AS "
           f"(VALUES {', '.join([row_sql] * len(changes))}) "
           f"UPDATE {table} SET status = v.status, sent_at = v.sent_at, last_error = v.last_error, "
           f"provider_message_id = v.provider, next_attempt_at = v.next_at, claimed_until = NULL "
           f"FROM v WHERE {table}.id = v.id AND {table}.status = %s AND {table}.attempts = v.attempts "
           f"RETURNING {table}.id")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [*params, str(NotificationStatus.SENDING)])
        return {pk for (pk,) in cursor.fetchall()}


def _release(rows: list[_Claimed]) -> None:
    """Put claimed rows that were not sent back as they were (same attempt count, due again)."""
    with transaction.atomic():
        for was, lease in {(r.was, r.lease) for r in rows}:
            pks = [r.pk for r in rows if r.was == was and r.lease == lease]
            status = NotificationStatus.FAILED if was == NotificationStatus.FAILED else NotificationStatus.QUEUED
            Notification.objects.filter(pk__in=pks, status=NotificationStatus.SENDING, claimed_until=lease).update(
                status=status, attempts=F("attempts") - 1, claimed_until=None)


# --- delivery receipts ---------------------------------------------------------------------------


def collect_receipts() -> int:
    """Record the receipts this process's SMS backend has received."""
    try:
        receipts = get_backend("sms").receipts()
    except Exception:  # a receipt problem must never stop delivery
        logger.exception("could not read delivery receipts")
        return 0
    return record_receipts(receipts) if receipts else 0


def record_receipts(receipts: list[Receipt]) -> int:
    """Mark the notifications the receipts are about: delivered, or failed at the phone."""
    recorded = 0
    since = timezone.now() - dt.timedelta(days=3)  # networks give up on a message well before
    for receipt in receipts:
        mid = receipt.message_id
        # A long message has one id per part ("12,13,14"), each with its receipt; the first part's
        # (an indexed prefix) speaks for the message, the others are not looked up.
        n = (Notification.objects.filter(Q(provider_message_id=mid) | Q(provider_message_id__startswith=f"{mid},"),
                                         sent_at__gte=since).order_by("-pk").first())
        if n is None:
            logger.info("delivery receipt for unknown message %s (%s)", mid, receipt.state)
            continue
        if n.receipt == ReceiptStatus.UNDELIVERED and receipt.delivered:
            continue  # one part failed: the message as a whole did not arrive
        n.receipt = ReceiptStatus.DELIVERED if receipt.delivered else ReceiptStatus.UNDELIVERED
        n.receipt_state = f"{receipt.state} {receipt.error}".strip()[:30]
        n.receipt_at = timezone.now()
        n.save(update_fields=["receipt", "receipt_state", "receipt_at"])
        recorded += 1
    return recorded
