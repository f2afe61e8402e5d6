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
import functools
import json
import logging
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

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
    "notify_many",
    "Message",
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


@dataclass
class Message:
    """One event to tell people about: notify()'s arguments, for notify_many()."""

    event: str
    key: str
    text: str = ""
    about: models.Model | None = None
    people: Iterable | None = None
    unit: Unit | None = None
    urgent: bool = False
    template: str | None = None
    context: dict | None = None
    digest: bool = True
    channel: str = Channel.SMS


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
    return notify_many([Message(event=event, text=text, key=key, about=about, people=people, unit=unit, urgent=urgent,
                                template=template, context=context, digest=digest, channel=channel)])


def notify_many(messages: Iterable[Message]) -> list[Notification]:
    """notify() for several events at once (a burst of incidents, a batch of hand-offs): every
    recipient of every event in one INSERT, the rate limits, digests and quiet hours decided for all
    of them together exactly as one by one. Returns the rows written."""
    now = timezone.now()
    rows: list[Notification] = []
    groups: dict[int, str] = {}
    for message in messages:
        people, unit = message.people, message.unit
        recipients = list(people) if people is not None else recipients_for_unit(unit) if unit else []
        recipients = sorted({p.pk: p for p in recipients if p is not None}.values(), key=lambda p: p.pk)
        if not recipients:
            continue
        template, about, channel = message.template, message.about, message.channel
        body = render_text(template, message.context or {}, fallback=message.text) if template else message.text
        content_type_id = ContentType.objects.get_for_model(about).pk if about is not None else None
        object_id = str(about.pk) if about is not None else ""
        group = f"{content_type_id}:{object_id}" if (message.digest and about is not None) else ""
        for person in recipients:
            address = (person.email if channel == Channel.EMAIL else person.mobile) or ""
            row = _new_row(event=message.event, recipient_id=person.pk, unit_id=person.unit_id, address=address,
                           channel=channel, template=template or "", text=body, urgent=message.urgent,
                           content_type_id=content_type_id, object_id=object_id,
                           idempotency_key=f"{message.key}:{person.pk}", created_at=now)
            _RECIPIENT.set_cached_value(row, person)
            if not address:
                row.status = NotificationStatus.DEAD
                row.last_error = "no mobile number" if channel == Channel.SMS else "no e-mail address"
            rows.append(row)
            groups[id(row)] = group
    if not rows:
        return []
    merges = _place(rows, groups=groups, now=now)
    # Digests opened in this very batch: their carriers first, then the rows merged into them.
    carried = [row for row in rows if row.merged_into is not None and row.merged_into.pk is None]
    carried_ids = {id(row) for row in carried}
    created = _insert_new([row for row in rows if id(row) not in carried_ids])
    for row in carried:
        carrier = row.merged_into
        if carrier.pk is not None:
            row.merged_into = carrier  # now saved: sets merged_into_id
        else:  # its carrier's key was written before (a repeated event): the row waits on its own
            row.status, row.merged_into, row.not_before = NotificationStatus.QUEUED, None, carrier.not_before
    if carried:
        created += _insert_new(carried)
    for carrier, merged in merges:
        if carrier.pk is None:
            continue
        count = sum(1 for row in merged if row.pk is not None and row.merged_into_id == carrier.pk)
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


_RECIPIENT = Notification._meta.get_field("recipient")
_ATTNAMES = [f.attname for f in Notification._meta.concrete_fields]


@functools.cache
def _row_defaults() -> dict:
    return {f.attname: f.get_default() for f in Notification._meta.concrete_fields}


def _new_row(**values) -> Notification:
    """An unsaved outbox row. Built from positional values, as Django builds rows it reads: a burst
    builds thousands, and keyword construction (a default looked up per missing field) was a third
    of its Python time."""
    values = {**_row_defaults(), **values}
    return Notification(*[values[name] for name in _ATTNAMES])


def _insert_new(rows: list[Notification]) -> list[Notification]:
    """INSERT all rows in one statement; a row whose idempotency key exists already is skipped
    (ON CONFLICT DO NOTHING: a concurrent writer of the same event wins). Returns the new ones, given
    their ids in the order of `rows` (the order delivery keeps per address).

    On PostgreSQL the rows travel as one JSON document that the server turns into table rows
    (`json_populate_recordset`): encoding it is one C call, where a parameter per value, or an array
    per column, was dumped value by value in Python — most of a burst's cost. The statement is the
    same whatever the number of rows, so it is prepared once."""
    meta = Notification._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    table = quote(meta.db_table)
    if connection.vendor == "postgresql":
        names = [(f.column, f.attname) for f in fields]  # every value is text, a number, a time or NULL
        document = json.dumps([{column: vars(row)[attname] for column, attname in names} for row in rows],
                              default=_json_time, ensure_ascii=False)
        source = (f"SELECT {columns} FROM json_populate_recordset(NULL::{table}, %s::json) "
                  f"WITH ORDINALITY AS r ORDER BY r.ordinality")
        params = [document]
    else:
        values = [[_db_value(f, row) for row in rows] for f in fields]
        placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
        source = f"VALUES {', '.join([placeholders] * len(rows))}"
        params = [column[i] for i in range(len(rows)) for column in values]
    sql = (f"INSERT INTO {table} ({columns}) {source} "
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


NOTICES_PER_FAN_OUT = 200  # notices a worker turns into notifications in one transaction


def notice_fan_out(*, notice_id: int) -> int:
    """Turn a pending notice into notifications, and with it the other notices waiting (hand-offs come
    in bursts: one write for all of them; their own tasks then find nothing to do). Once each: a
    notice is taken and deleted in the same transaction, and notify()'s idempotency keys make a repeat
    harmless. Returns how many notifications were written."""
    with transaction.atomic():
        taken = PendingNotice.objects.select_for_update(skip_locked=True)
        notices = list(taken.filter(pk=notice_id)) + list(taken.exclude(pk=notice_id).order_by("pk")
                                                           [:NOTICES_PER_FAN_OUT - 1])
        if not notices or notices[0].pk != notice_id:
            return 0  # done already, or another worker has it (and the others with it)
        notices.sort(key=lambda notice: notice.pk)  # in the order they were written
        people_ids = {pk for n in notices for pk in (n.arguments.get("people") or [])}
        people = User.objects.select_related("unit").in_bulk(people_ids) if people_ids else {}
        unit_ids = {n.arguments["unit"] for n in notices if n.arguments.get("unit") is not None}
        units = Unit.objects.in_bulk(unit_ids) if unit_ids else {}
        about: dict[tuple[int, str], models.Model] = {}
        for ct_id, ids in _group_refs(n.arguments.get("about") for n in notices).items():
            model = ContentType.objects.get_for_id(ct_id).model_class()
            if model is not None:
                about.update({(ct_id, str(obj.pk)): obj for obj in model._default_manager.filter(pk__in=ids)})
        messages, done = [], []
        for notice in notices:
            arguments = dict(notice.arguments)
            try:
                people_ref, unit_ref, about_ref = arguments.pop("people"), arguments.pop("unit"), arguments.pop("about")
                messages.append(Message(
                    event=notice.event, key=notice.key, **arguments,
                    people=None if people_ref is None else [people[pk] for pk in people_ref if pk in people],
                    unit=units.get(unit_ref) if unit_ref is not None else None,
                    about=about.get((about_ref[0], str(about_ref[1]))) if about_ref is not None else None))
            except (KeyError, TypeError, IndexError):
                if notice.pk == notice_id:
                    raise  # this task's own notice: its failure is reported, the notice kept
                logger.exception("notice %s is unreadable; left for its own task", notice.pk)
                continue  # another task's notice: kept for that task, not lost with this batch
            done.append(notice.pk)
        created = notify_many(messages)
        PendingNotice.objects.filter(pk__in=done).delete()
    return len(created)


def _group_refs(refs) -> dict[int, set[str]]:
    """[content type id, object id] references, object ids grouped by content type."""
    grouped: dict[int, set[str]] = defaultdict(set)
    for ref in refs:
        if ref is not None:
            grouped[ref[0]].add(str(ref[1]))
    return grouped


def enqueue_fan_out(notice_id: int) -> None:
    from notifications.tasks import fan_out_notice

    try:
        fan_out_notice.apply_async((notice_id,), queue=conf.get("OPSDESK_NOTIFICATIONS_QUEUE"))
    except Exception:  # broker down: the notice is committed; the relay will hand it over
        logger.exception("could not enqueue notice %s; the dispatcher will retry", notice_id)


def _db_value(field, row: Notification):
    """One value for the INSERT. Rows carry created_at from notify_many() (one `now` for the batch,
    the moment its rate limits were decided), so auto_now_add is not applied again."""
    value = getattr(row, field.attname)
    if value is None and getattr(field, "auto_now_add", False):
        value = field.pre_save(row, True)
    return field.get_db_prep_save(value, connection)


def _json_time(value):
    # Not DjangoJSONEncoder: it cuts times to milliseconds, and created_at is the moment the rate
    # limits were decided for.
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _place(rows: list[Notification], *, groups: dict[int, str], now: dt.datetime
           ) -> list[tuple[Notification, list[Notification]]]:
    """Decide for each row, in order, as if each were written on its own: sent on its own, held back
    (`not_before`), or merged into an open digest of its group (`groups`: row id → digest group, ""
    for none) — one stored, or one opened by an earlier row of this batch. Past the rate limit a row's
    group is its address's flood digest. Returns the digests the merged rows join (counted after the
    insert)."""
    live = [row for row in rows if row.address]
    eager = conf.is_eager()
    limit, window = conf.get_int("OPSDESK_SMS_RATE_LIMIT"), conf.get_int("OPSDESK_SMS_RATE_WINDOW")
    limited = {id(row) for row in live if not row.urgent} if (limit > 0 and not eager) else set()
    wait = conf.get_float("OPSDESK_SMS_GROUP_WAIT") if not eager else 0
    grouping = wait > 0 and any(groups[id(row)] for row in live)
    if limited or grouping:
        _lock_addresses({(row.channel, row.address) for row in live if grouping or id(row) in limited})
    counts: dict[tuple[str, str], tuple[int, dt.datetime]] = {}
    if limited:
        recent = (Notification.objects.filter(
            address__in={row.address for row in live if id(row) in limited},
            created_at__gte=now - dt.timedelta(seconds=window),
        ).exclude(status__in=[NotificationStatus.MERGED, NotificationStatus.DEAD])
            .values("address", "channel").annotate(n=Count("pk"), first=Min("created_at")))
        counts = {(r["address"], r["channel"]): (r["n"], r["first"]) for r in recent}
    carriers: dict[tuple, Notification] = {}
    candidates = {groups[id(row)] for row in live if groups[id(row)] and wait > 0}
    candidates |= {f"flood:{row.channel}:{row.address}" for row in live if id(row) in limited}
    if candidates:
        open_digests = (Notification.objects.select_for_update()
                        .filter(address__in={row.address for row in live}, digest_group__in=candidates,
                                status=NotificationStatus.QUEUED, attempts=0, not_before__gt=now)
                        .order_by("pk"))
        for carrier in open_digests:
            carriers.setdefault((carrier.address, carrier.channel, carrier.digest_group, carrier.urgent), carrier)
    holds: dict[int, dt.datetime] = {}
    merges: dict[int, tuple[Notification, list[Notification]]] = {}  # by id(): a carrier may be unsaved yet
    for row in live:
        group, hold, address = groups[id(row)], None, (row.address, row.channel)
        if id(row) in limited:
            n, first = counts.get(address, (0, now))
            if n >= limit:
                group, hold = f"flood:{row.channel}:{row.address}", first + dt.timedelta(seconds=window)
        if group and hold is None and wait > 0:
            hold = now + dt.timedelta(seconds=wait)
        if hold is not None:
            holds[id(row)] = hold
            row.digest_group = group
            key = (row.address, row.channel, group, row.urgent)
            carrier = carriers.get(key)
            if carrier is not None:
                row.status, row.merged_into = NotificationStatus.MERGED, carrier
                merges.setdefault(id(carrier), (carrier, []))[1].append(row)
            else:
                carriers[key] = row  # opens the digest: later rows join it
        if id(row) in limited and row.status != NotificationStatus.MERGED:
            n, first = counts.get(address, (0, now))
            counts[address] = (n + 1, first)  # a merged row is not a message of its own: not counted
    quiet_end = _quiet_hours_end(now)
    for row in live:
        if row.status != NotificationStatus.QUEUED:
            continue
        hold = holds.get(id(row))
        if not row.urgent and quiet_end is not None and (hold is None or hold < quiet_end):
            hold = quiet_end
        row.not_before = hold
    return list(merges.values())


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
