"""The one notification service every trigger calls, and the delivery of what it queued.

`notify()` must be called inside the transaction of the event it reports: it writes outbox rows
and schedules delivery on commit. `notification_deliver()` is what the Celery task runs: it claims
the row, sends it through the configured backend with the row's idempotency key, and records the
outcome (sent; failed → retried with exponential back-off; dead with the last error).

Who gets flooded by nobody:
- messages about the same object (an incident, a request) to one person inside the group-wait
  window collapse into one digest message;
- past the per-recipient rate limit, non-urgent messages collapse into one digest sent when the
  window allows;
- in quiet hours non-urgent messages wait until the quiet hours end; urgent ones never wait;
- messages to one address go out in the order they were written.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from celery import current_app
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, InterfaceError, OperationalError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from notifications import conf
from notifications.backends import OutgoingMessage, PermanentFailure, TemporaryFailure, get_backend
from notifications.message_templates import render_text
from notifications.models import (
    PENDING_STATUSES,
    Channel,
    Notification,
    NotificationStatus,
    PendingNotice,
)
from notifications.roster import recipients_for_unit
from opsdesk.org.models import Unit, User, normalize_mobile, validate_mobile

__all__ = [
    "notify",
    "notify_later",
    "notice_fan_out",
    "recipients_for_unit",
    "notification_deliver",
    "notification_resend",
    "notifications_dispatch_due",
    "enqueue_delivery",
    "enqueue_deliveries",
    "DeliveryOutcome",
    "mobile_update",
]

logger = logging.getLogger(__name__)

# Holds longer than this are not given to the broker as a countdown; the periodic dispatcher
# releases them (a broker keeps ETA messages unacknowledged, and quiet hours last all night).
MAX_COUNTDOWN_SECONDS = 300


# --- writing -------------------------------------------------------------------------------


def notify(
    *,
    event: str,
    text: str = "",
    key: str,
    about: models.Model | None = None,
    people: Iterable | None = None,
    unit=None,
    urgent: bool = False,
    template: str | None = None,
    context: dict | None = None,
    digest: bool = True,
    channel: str = Channel.SMS,
) -> list[Notification]:
    """Queue one message per recipient. `key` identifies the event; re-running with it adds nothing.

    Recipients: `people` if given, otherwise whoever is on duty for `unit` (see roster).
    Text: template `template` (edited by administrators) filled with `context`, else `text`.
    `digest=False` opts out of collapsing bursts about the same object.
    """
    recipients = list(people) if people is not None else recipients_for_unit(unit) if unit else []
    recipients = sorted({p.pk: p for p in recipients if p is not None}.values(), key=lambda p: p.pk)
    if not recipients:
        return []
    body = render_text(template, context or {}, fallback=text) if template else text
    content_type = ContentType.objects.get_for_model(about) if about is not None else None
    object_id = str(about.pk) if about is not None else ""
    now = timezone.now()
    created: list[Notification] = []
    for person in recipients:
        idempotency_key = f"{key}:{person.pk}"
        address = person.email if channel == Channel.EMAIL else person.mobile
        row = Notification(
            event=event, recipient=person, unit_id=person.unit_id, address=address or "", channel=channel,
            template=template or "", text=body, urgent=urgent, content_type=content_type, object_id=object_id,
            idempotency_key=idempotency_key,
        )
        group = f"{content_type.pk}:{object_id}" if (digest and about is not None) else ""
        try:
            with transaction.atomic():  # a savepoint: a concurrent writer of the same key wins
                if address:
                    _place(row, group=group, now=now)
                else:
                    row.status = NotificationStatus.DEAD
                    row.last_error = "no mobile number" if channel == Channel.SMS else "no e-mail address"
                    row.save()
        except IntegrityError:
            continue
        created.append(row)
    to_enqueue = [(n.pk, _seconds_until(n.not_before, now)) for n in created
                  if n.status == NotificationStatus.QUEUED]
    if to_enqueue:
        transaction.on_commit(lambda: enqueue_deliveries(to_enqueue))
    return created


def notify_later(*, event: str, key: str, about: models.Model | None = None, people: Iterable | None = None,
                 unit=None, **options) -> None:
    """notify(), with the fan-out to recipients done by a worker straight after the commit.

    For the request path (a hand-off, an alert batch): the transaction writes one small row, and the
    roster lookup, rate limits and digests run in the notifications queue. In-process mode (no
    broker) fans out at once, as notify() would. Same arguments as notify().
    """
    if conf.is_eager():
        notify(event=event, key=key, about=about, people=people, unit=unit, **options)
        return
    about_ref = None
    if about is not None:
        about_ref = [ContentType.objects.get_for_model(about).pk, str(about.pk)]
    arguments = {
        **options,
        "people": None if people is None else [p.pk for p in people if p is not None],
        "unit": unit.pk if unit is not None else None,
        "about": about_ref,
    }
    notice = PendingNotice.objects.create(event=event, key=key, arguments=arguments)
    transaction.on_commit(lambda: enqueue_fan_out(notice.pk))


def notice_fan_out(*, notice_id: int) -> int:
    """Turn a pending notice into notifications (once: the row is taken and deleted in the same
    transaction, and notify()'s idempotency keys make a repeat harmless). Returns how many."""
    with transaction.atomic():
        notice = PendingNotice.objects.select_for_update(skip_locked=True).filter(pk=notice_id).first()
        if notice is None:
            return 0  # done already, or another worker has it
        arguments = dict(notice.arguments)
        people_ids, unit_id, about_ref = arguments.pop("people"), arguments.pop("unit"), arguments.pop("about")
        people = None if people_ids is None else list(User.objects.filter(pk__in=people_ids).select_related("unit"))
        unit = Unit.objects.filter(pk=unit_id).first() if unit_id is not None else None
        about = None
        if about_ref is not None:
            model = ContentType.objects.get_for_id(about_ref[0]).model_class()
            about = model._default_manager.filter(pk=about_ref[1]).first() if model is not None else None
        created = notify(event=notice.event, key=notice.key, about=about, people=people, unit=unit, **arguments)
        notice.delete()
    return len(created)


def enqueue_fan_out(notice_id: int) -> None:
    from notifications.tasks import fan_out_notice

    try:
        fan_out_notice.apply_async((notice_id,), queue=conf.get("OPSDESK_NOTIFICATIONS_QUEUE"))
    except Exception:  # broker down: the notice is committed; the relay will hand it over
        logger.exception("could not enqueue notice %s; the dispatcher will retry", notice_id)


def _place(row: Notification, *, group: str, now: dt.datetime) -> None:
    """Save `row`: on its own, held back, or merged into an open digest of the same group."""
    eager = conf.is_eager()
    hold: dt.datetime | None = None
    if not eager and not row.urgent:
        limit, window = conf.get_int("OPSDESK_SMS_RATE_LIMIT"), conf.get_int("OPSDESK_SMS_RATE_WINDOW")
        if limit > 0:
            _lock(f"notify:{row.channel}:{row.address}")
            recent = list(Notification.objects.filter(
                address=row.address, channel=row.channel, created_at__gte=now - dt.timedelta(seconds=window),
            ).exclude(status__in=[NotificationStatus.MERGED, NotificationStatus.DEAD])
             .order_by("created_at").values_list("created_at", flat=True)[:limit])
            if len(recent) >= limit:
                group = f"flood:{row.channel}:{row.address}"
                hold = recent[0] + dt.timedelta(seconds=window)
    if group and hold is None and not eager:
        wait = conf.get_float("OPSDESK_SMS_GROUP_WAIT")
        if wait > 0:
            hold = now + dt.timedelta(seconds=wait)
    if group and hold is not None:
        _lock(f"notify:{row.channel}:{row.address}")
        carrier = (Notification.objects.select_for_update()
                   .filter(address=row.address, channel=row.channel, digest_group=group, urgent=row.urgent,
                           status=NotificationStatus.QUEUED, attempts=0, not_before__gt=now)
                   .order_by("pk").first())
        if carrier is not None:
            carrier.digest_count += 1
            carrier.text = render_text("digest", {"count": carrier.digest_count, "latest": row.text},
                                       fallback=row.text)
            carrier.save(update_fields=["digest_count", "text"])
            row.status = NotificationStatus.MERGED
            row.merged_into = carrier
            row.digest_group = group
            row.save()
            return
        row.digest_group = group
    if not row.urgent:
        quiet_end = _quiet_hours_end(now)
        if quiet_end is not None and (hold is None or hold < quiet_end):
            hold = quiet_end
    row.not_before = hold
    row.save()


def _lock(name: str) -> None:
    """Serialise writers for one address until the end of the transaction (PostgreSQL; SQLite
    serialises writers anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(name.encode()) - 2**31])


def _quiet_hours_end(now: dt.datetime) -> dt.datetime | None:
    """If `now` falls in the quiet hours, when they end; else None."""
    hours = conf.quiet_hours()
    if hours is None:
        return None
    start, end = hours
    local = timezone.localtime(now)
    t = local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_day = local.date() if (start < end or t < end) else local.date() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(end_day, end), local.tzinfo)


def _seconds_until(moment: dt.datetime | None, now: dt.datetime) -> float:
    if moment is None:
        return 0
    return max(0.0, (moment - now).total_seconds())


def enqueue_delivery(notification_id: int, *, countdown: float = 0, producer=None) -> None:
    """Hand one delivery to Celery. Long holds are left to the periodic dispatcher."""
    from notifications.tasks import deliver_notification

    if countdown > MAX_COUNTDOWN_SECONDS:
        return
    options = {"queue": conf.get("OPSDESK_NOTIFICATIONS_QUEUE")}
    if countdown > 0:
        options["countdown"] = countdown
    if producer is not None:
        options["producer"] = producer
    try:
        deliver_notification.apply_async((notification_id,), **options)
    except Exception:  # broker down: the row is committed; the dispatcher will pick it up
        logger.exception("could not enqueue notification %s; the dispatcher will retry", notification_id)


def enqueue_deliveries(items: list[tuple[int, float]]) -> None:
    """Hand several deliveries to Celery over one broker connection."""
    if conf.is_eager() or len(items) == 1:
        for pk, countdown in items:
            enqueue_delivery(pk, countdown=countdown)
        return
    try:
        with current_app.producer_or_acquire() as producer:
            for pk, countdown in items:
                enqueue_delivery(pk, countdown=countdown, producer=producer)
    except Exception:  # broker down: the dispatcher will pick them up
        logger.exception("could not enqueue %d notifications; the dispatcher will retry", len(items))


def mobile_update(*, person, mobile: str):
    """A person sets their own mobile number (validated and normalised)."""
    validate_mobile(mobile)
    person.mobile = normalize_mobile(mobile)
    person.save(update_fields=["mobile"])
    return person


# --- delivering ----------------------------------------------------------------------------


@dataclass
class DeliveryOutcome:
    status: str
    follow_ups: list[tuple[int, float]] = field(default_factory=list)  # (notification id, countdown)


def _lease_seconds() -> float:
    # Long enough for the send and the retried record after it: no other worker sends it meanwhile.
    return 2 * conf.get_float("OPSDESK_SMS_HTTP_TIMEOUT") + 5 + sum(RECORD_RETRY_DELAYS)


def _backoff_seconds(attempts: int) -> float:
    base, cap = conf.get_float("OPSDESK_SMS_RETRY_BASE"), conf.get_float("OPSDESK_SMS_RETRY_MAX")
    delay = min(cap, base * (2 ** max(0, attempts - 1)))
    return round(delay * random.uniform(0.9, 1.1), 3)


def notification_deliver(*, notification_id: int) -> DeliveryOutcome:
    """Send one notification at most once to the gateway per attempt, in order per address."""
    now = timezone.now()
    with transaction.atomic():
        n = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if n is None or n.status in (NotificationStatus.SENT, NotificationStatus.DEAD, NotificationStatus.MERGED):
            return DeliveryOutcome("skipped")
        if n.not_before and n.not_before > now:
            return DeliveryOutcome("held", [(n.pk, _seconds_until(n.not_before, now))])
        if n.status == NotificationStatus.FAILED and n.next_attempt_at and n.next_attempt_at > now:
            return DeliveryOutcome("not-due", [(n.pk, _seconds_until(n.next_attempt_at, now))])
        if n.status == NotificationStatus.SENDING and n.claimed_until and n.claimed_until > now:
            # Another worker is sending it right now; look again when its lease runs out.
            return DeliveryOutcome("busy", [(n.pk, _seconds_until(n.claimed_until, now) + 1)])
        if not n.address:
            n.status, n.last_error = NotificationStatus.DEAD, "no mobile number" if n.channel == Channel.SMS \
                else "no e-mail address"
            n.save(update_fields=["status", "last_error"])
            return DeliveryOutcome("dead")
        if _has_earlier_pending(n, now):
            # The earlier message kicks this one when it is done (see _next_for_address).
            return DeliveryOutcome("waiting")
        n.status = NotificationStatus.SENDING
        n.attempts += 1
        n.claimed_until = now + dt.timedelta(seconds=_lease_seconds())
        n.save(update_fields=["status", "attempts", "claimed_until"])
        attempt = n.attempts
        message = OutgoingMessage(address=n.address, text=n.text, key=n.idempotency_key, channel=n.channel)

    error, permanent, provider_id = "", False, ""
    try:
        provider_id = get_backend(message.channel)(message)
    except TemporaryFailure as exc:
        error = str(exc)
    except PermanentFailure as exc:
        error, permanent = str(exc), True
    except Exception as exc:  # a bug or misconfiguration must not lose the message: retry, then dead
        logger.exception("SMS backend error for notification %s", notification_id)
        error = f"{exc.__class__.__name__}: {exc}"

    finished = timezone.now()
    return _after_retrying_database(lambda: _record_attempt(notification_id, attempt, finished, error, permanent,
                                                            provider_id))


# After the gateway took a message, a database that is restarting must not make it look unsent:
# that record is retried over a few seconds (a restart or fail-over) before the lease is left to run
# out, which would send the message again.
RECORD_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)


def _after_retrying_database(write):
    for delay in (*RECORD_RETRY_DELAYS, None):
        try:
            return write()
        except (OperationalError, InterfaceError):
            if delay is None or connection.in_atomic_block:  # a caller's transaction is lost anyway
                raise
            logger.warning("database unavailable while recording a delivery; retrying in %s s", delay)
            connection.close()  # the next query connects afresh
            time.sleep(delay)


def _record_attempt(notification_id: int, attempt: int, finished: dt.datetime, error: str, permanent: bool,
                    provider_id: str) -> DeliveryOutcome:
    with transaction.atomic():
        n = Notification.objects.select_for_update().get(pk=notification_id)
        if n.status != NotificationStatus.SENDING or n.attempts != attempt:
            return DeliveryOutcome("superseded")  # a later attempt took over after our lease ran out
        n.claimed_until = None
        if not error:
            n.status, n.sent_at, n.last_error = NotificationStatus.SENT, finished, ""
            n.provider_message_id = (provider_id or "")[:100]
            n.next_attempt_at = None
            outcome = DeliveryOutcome("sent")
        elif permanent or n.attempts >= conf.get_int("OPSDESK_SMS_MAX_ATTEMPTS"):
            n.status, n.last_error, n.next_attempt_at = NotificationStatus.DEAD, error, None
            outcome = DeliveryOutcome("dead")
        else:
            delay = _backoff_seconds(n.attempts)
            n.status, n.last_error = NotificationStatus.FAILED, error
            n.next_attempt_at = finished + dt.timedelta(seconds=delay)
            outcome = DeliveryOutcome("failed", [(n.pk, delay)])
        n.save(update_fields=["status", "sent_at", "last_error", "provider_message_id", "next_attempt_at",
                              "claimed_until"])
        if outcome.status in ("sent", "dead"):
            successor = _next_for_address(n, finished)
            if successor is not None:
                outcome.follow_ups.append((successor, 0))
    return outcome


def _pending_for_address(n: Notification, now: dt.datetime):
    return (Notification.objects.filter(address=n.address, channel=n.channel, status__in=PENDING_STATUSES)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now)))


def _has_earlier_pending(n: Notification, now: dt.datetime) -> bool:
    return _pending_for_address(n, now).filter(pk__lt=n.pk).exists()


def _next_for_address(n: Notification, now: dt.datetime) -> int | None:
    return (_pending_for_address(n, now).filter(pk__gt=n.pk)
            .exclude(status=NotificationStatus.FAILED, next_attempt_at__gt=now)
            .order_by("pk").values_list("pk", flat=True).first())


def notification_resend(*, notification: Notification, actor=None) -> Notification:
    """Send again. A dead or failed one is queued again under its own key; a sent one is copied
    under a new key (the recipient says it never arrived)."""
    with transaction.atomic():
        n = Notification.objects.select_for_update().get(pk=notification.pk)
        if n.status in (NotificationStatus.DEAD, NotificationStatus.FAILED):
            n.status, n.next_attempt_at, n.claimed_until, n.not_before = NotificationStatus.QUEUED, None, None, None
            if n.attempts >= conf.get_int("OPSDESK_SMS_MAX_ATTEMPTS"):
                n.attempts = 0
            if n.recipient is not None:  # the person may have corrected their number since
                current = n.recipient.email if n.channel == Channel.EMAIL else n.recipient.mobile
                n.address = current or n.address
            n.save(update_fields=["status", "next_attempt_at", "claimed_until", "not_before", "attempts", "address"])
            target = n
        elif n.status == NotificationStatus.SENT:
            copies = Notification.objects.filter(idempotency_key__startswith=f"{n.idempotency_key}:resend:").count()
            address = (n.recipient.mobile if n.recipient is not None and n.channel == Channel.SMS else "") or n.address
            target = Notification.objects.create(
                event=n.event, recipient=n.recipient, unit=n.unit, address=address, channel=n.channel,
                template=n.template, text=n.text, urgent=n.urgent, content_type=n.content_type,
                object_id=n.object_id, idempotency_key=f"{n.idempotency_key}:resend:{copies + 1}",
            )
        else:
            raise ValueError(n.status)
        pk = target.pk
        transaction.on_commit(lambda: enqueue_delivery(pk))
    return target


def notifications_dispatch_due(*, limit: int = 1000) -> int:
    """The outbox relay: hand Celery what is due and has no task on its way (released holds,
    retries whose task was lost, rows queued while the broker was down, sends whose worker died).
    Idempotent: delivering a row twice is harmless, the claim decides."""
    now = timezone.now()
    # A row whose task went missing (broker down at commit) is handed over again after the grace.
    cutoff = now - dt.timedelta(seconds=conf.get_float("OPSDESK_SMS_RELAY_GRACE"))
    due = Notification.objects.filter(
        Q(status=NotificationStatus.QUEUED, not_before__isnull=True, created_at__lte=cutoff)
        | Q(status=NotificationStatus.QUEUED, not_before__lte=now)
        | Q(status=NotificationStatus.FAILED, next_attempt_at__lte=cutoff)
        | Q(status=NotificationStatus.SENDING, claimed_until__lte=now)
    ).order_by("pk").values_list("pk", flat=True)[:limit]
    ids = list(due)
    for pk in ids:
        enqueue_delivery(pk)
    notices = list(PendingNotice.objects.filter(created_at__lte=cutoff).order_by("pk")
                   .values_list("pk", flat=True)[:limit])
    for pk in notices:
        enqueue_fan_out(pk)
    return len(ids) + len(notices)
