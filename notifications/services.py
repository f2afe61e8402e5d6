"""The one notification service every trigger calls.

`notify()` must be called inside the transaction of the event it reports: it writes outbox rows
(one INSERT for all recipients) and wakes delivery once the transaction commits. Delivery itself
(claiming batches, sending over kept-alive connections, recording outcomes) is notifications/delivery.py.

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
import zlib
from collections import defaultdict
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.db.models import Count, F, Min
from django.utils import timezone

from notifications import conf
from notifications.delivery import deliver_due, due_filter, request_delivery, wake_up
from notifications.message_templates import render_text
from notifications.models import Channel, Notification, NotificationStatus, PendingNotice
from notifications.roster import recipients_for_unit
from opsdesk.org.models import Unit, User, normalize_mobile, validate_mobile

__all__ = [
    "notify",
    "notify_later",
    "notice_fan_out",
    "recipients_for_unit",
    "deliver_due",
    "notification_resend",
    "notifications_dispatch_due",
    "mobile_update",
]

logger = logging.getLogger(__name__)


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
    All recipients are written by one INSERT (a repeated key is skipped by the database), and one
    wake-up per transaction tells a worker there is something to send.
    """
    recipients = list(people) if people is not None else recipients_for_unit(unit) if unit else []
    recipients = sorted({p.pk: p for p in recipients if p is not None}.values(), key=lambda p: p.pk)
    if not recipients:
        return []
    body = render_text(template, context or {}, fallback=text) if template else text
    content_type = ContentType.objects.get_for_model(about) if about is not None else None
    object_id = str(about.pk) if about is not None else ""
    group = f"{content_type.pk}:{object_id}" if (digest and about is not None) else ""
    now = timezone.now()
    rows = []
    for person in recipients:
        address = person.email if channel == Channel.EMAIL else person.mobile
        row = Notification(
            event=event, recipient=person, unit_id=person.unit_id, address=address or "", channel=channel,
            template=template or "", text=body, urgent=urgent, content_type=content_type, object_id=object_id,
            idempotency_key=f"{key}:{person.pk}", created_at=now,
        )
        if not address:
            row.status = NotificationStatus.DEAD
            row.last_error = "no mobile number" if channel == Channel.SMS else "no e-mail address"
        rows.append(row)
    merges = _place(rows, group=group, now=now)
    created = _insert_new(rows)
    for carrier, merged in merges.items():
        count = sum(1 for row in merged if row.pk is not None)
        if count:
            Notification.objects.filter(pk=carrier.pk).update(digest_count=F("digest_count") + count)
            carrier.refresh_from_db(fields=["digest_count"])
            latest = [row for row in merged if row.pk is not None][-1]
            carrier.text = render_text("digest", {"count": carrier.digest_count, "latest": latest.text},
                                       fallback=latest.text)
            carrier.save(update_fields=["text"])
    queued = [n for n in created if n.status == NotificationStatus.QUEUED]
    if any(n.not_before is None for n in queued):
        request_delivery()
    for hold in sorted({_seconds_until(n.not_before, now) for n in queued if n.not_before is not None}):
        request_delivery(hold)
    return created


VALUES_ROWS = 4  # up to this many recipients, VALUES rows; more, one array per column


def _insert_new(rows: list[Notification]) -> list[Notification]:
    """INSERT all rows in one statement; a row whose idempotency key exists already is skipped
    (ON CONFLICT DO NOTHING: a concurrent writer of the same event wins). Returns the new ones.

    Many rows go, on PostgreSQL, as one array per column (`SELECT … FROM unnest(…)`): the statement is the
    same whatever the number of recipients, so it is parsed once and prepared, not rebuilt per event; a
    few go as VALUES rows, cheaper to send."""
    meta = Notification._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    values = [[f.get_db_prep_save(f.pre_save(row, True), connection) for row in rows] for f in fields]
    columns = ", ".join(quote(f.column) for f in fields)
    if connection.vendor == "postgresql" and len(rows) > VALUES_ROWS:
        arrays = ", ".join(f"%s::{f.cast_db_type(connection)}[]" for f in fields)
        source, params = f"SELECT * FROM unnest({arrays})", values
    else:
        placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
        source = f"VALUES {', '.join([placeholders] * len(rows))}"
        params = [column[i] for i in range(len(rows)) for column in values]
    sql = (f"INSERT INTO {quote(meta.db_table)} ({columns}) {source} "
           f"ON CONFLICT ({quote('idempotency_key')}) DO NOTHING "
           f"RETURNING {quote(meta.pk.column)}, {quote('idempotency_key')}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = dict((key, pk) for pk, key in cursor.fetchall())
    created = []
    for row in rows:
        pk = inserted.get(row.idempotency_key)
        if pk is not None:
            row.pk = pk
            row._state.adding, row._state.db = False, connection.alias
            created.append(row)
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


def _place(rows: list[Notification], *, group: str, now: dt.datetime) -> dict[Notification, list[Notification]]:
    """Decide for each row: sent on its own, held back (`not_before`), or merged into an open digest
    of the same group. Returns the digests the merged rows join (counted after the insert)."""
    live = [row for row in rows if row.address]
    eager = conf.is_eager()
    limit, window = conf.get_int("OPSDESK_SMS_RATE_LIMIT"), conf.get_int("OPSDESK_SMS_RATE_WINDOW")
    limited = [row for row in live if not row.urgent] if (limit > 0 and not eager) else []
    wait = conf.get_float("OPSDESK_SMS_GROUP_WAIT") if (group and not eager) else 0
    if limited or wait > 0:
        _lock_addresses({(row.channel, row.address) for row in (live if wait > 0 else limited)})
    holds: dict[int, dt.datetime] = {}
    groups: dict[int, str] = {id(row): group for row in live}
    if limited:
        recent = (Notification.objects.filter(
            address__in={row.address for row in limited}, created_at__gte=now - dt.timedelta(seconds=window),
        ).exclude(status__in=[NotificationStatus.MERGED, NotificationStatus.DEAD])
            .values("address", "channel").annotate(n=Count("pk"), first=Min("created_at")))
        counts = {(r["address"], r["channel"]): (r["n"], r["first"]) for r in recent}
        for row in limited:
            n, first = counts.get((row.address, row.channel), (0, now))
            counts[(row.address, row.channel)] = (n + 1, first)
            if n >= limit:
                groups[id(row)] = f"flood:{row.channel}:{row.address}"
                holds[id(row)] = first + dt.timedelta(seconds=window)
    for row in live:
        if groups[id(row)] and id(row) not in holds and wait > 0:
            holds[id(row)] = now + dt.timedelta(seconds=wait)
    merges: dict[Notification, list[Notification]] = defaultdict(list)
    grouped = [row for row in live if groups[id(row)] and id(row) in holds]
    if grouped:
        open_digests = (Notification.objects.select_for_update()
                        .filter(address__in={row.address for row in grouped},
                                digest_group__in={groups[id(row)] for row in grouped},
                                status=NotificationStatus.QUEUED, attempts=0, not_before__gt=now)
                        .order_by("pk"))
        carriers: dict[tuple, Notification] = {}
        for carrier in open_digests:
            carriers.setdefault((carrier.address, carrier.channel, carrier.digest_group, carrier.urgent), carrier)
        for row in grouped:
            row.digest_group = groups[id(row)]
            carrier = carriers.get((row.address, row.channel, row.digest_group, row.urgent))
            if carrier is not None:
                row.status, row.merged_into = NotificationStatus.MERGED, carrier
                merges[carrier].append(row)
    quiet_end = _quiet_hours_end(now)
    for row in live:
        if row.status != NotificationStatus.QUEUED:
            continue
        hold = holds.get(id(row))
        if not row.urgent and quiet_end is not None and (hold is None or hold < quiet_end):
            hold = quiet_end
        row.not_before = hold
    return merges


def _lock_addresses(addresses: set[tuple[str, str]]) -> None:
    """Serialise writers per address until the end of the transaction (PostgreSQL; SQLite
    serialises writers anyway). Taken in one statement, in a fixed order: no deadlock."""
    if connection.vendor != "postgresql" or not addresses:
        return
    keys = sorted({zlib.crc32(f"notify:{channel}:{address}".encode()) - 2**31 for channel, address in addresses})
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k ORDER BY k", [keys])


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


def mobile_update(*, person, mobile: str):
    """A person sets their own mobile number (validated and normalised)."""
    validate_mobile(mobile)
    person.mobile = normalize_mobile(mobile)
    person.save(update_fields=["mobile"])
    return person


# --- delivering (notifications/delivery.py) -----------------------------------------------------


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
        request_delivery()
    return target


def notifications_dispatch_due(*, limit: int = 1000) -> int:
    """The outbox relay (beat): wake delivery if anything is due that no wake-up is on its way for
    (released holds, retries whose timer was lost, rows queued while the broker was down, sends whose
    worker died), and hand over notices whose fan-out task was lost. Harmless when repeated: the
    claim decides who sends. Returns how many rows and notices it found."""
    now = timezone.now()
    # A row written moments ago has its wake-up on the way; after the grace it is presumed lost.
    cutoff = now - dt.timedelta(seconds=conf.get_float("OPSDESK_SMS_RELAY_GRACE"))
    due = (Notification.objects.filter(due_filter(now))
           .exclude(status=NotificationStatus.QUEUED, not_before__isnull=True, created_at__gt=cutoff)
           .exclude(status=NotificationStatus.FAILED, next_attempt_at__gt=cutoff)
           .order_by("pk").values_list("pk", flat=True)[:limit])
    found = len(due)
    if found:
        wake_up()
    notices = list(PendingNotice.objects.filter(created_at__lte=cutoff).order_by("pk")
                   .values_list("pk", flat=True)[:limit])
    for pk in notices:
        enqueue_fan_out(pk)
    return found + len(notices)
