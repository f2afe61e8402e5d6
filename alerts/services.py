"""Every write of the alert app: ingest (the one service every source calls), incident actions,
silences and re-processing.

Ingest works on batches: a poller hands over everything one IMAP FETCH returned, and the batch is
parsed, stored and folded into incidents in one transaction with bulk statements, so the cost per
message is a few rows, not a few round trips. On PostgreSQL a transaction-level advisory lock
serialises ingest across pollers, so two mailboxes never race to open the same incident.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from ipaddress import ip_address

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts import silencing
from alerts.bulk import insert_rows, update_rows
from alerts.choices import ALARM_SEVERITIES, SEVERITY_RANK, Origin, Outcome
from alerts.conf import setting
from alerts.escalation import start_chain
from alerts.handlers import incident_event_row
from alerts.models import (
    Alert,
    Incident,
    IncidentEvent,
    IngestedMessage,
    MessageAttachment,
    ParsingRule,
    Silence,
    SourceBinding,
)
from alerts.models.incidents import key_hash
from alerts.parsing import Alert as ParsedAlert
from alerts.parsing import ParseError, ParseResult, Rule
from alerts.parsing.binding import Binding
from alerts.sources.parsepool import ParsePool, parse_many, parse_one
from notifications.roster import Duty, on_duty_with_role
from notifications.services import Message, notify_many
from opsdesk import scoping
from opsdesk.org.choices import Role
from opsdesk.org.models import Host, ProductionSystem, User
from workflow import engine
from workflow.events import Transitioned, publish
from workflow.incidents import OPEN, IncidentState, may_act_on_incidents

__all__ = [
    "Inbound",
    "Handled",
    "load_rules",
    "ingest_messages",
    "ingest_alerts",
    "message_reprocess",
    "incident_acknowledge",
    "incident_resolve",
    "incident_reopen",
    "incident_silence",
    "incident_note_add",
    "ActionRefused",
]

log = logging.getLogger("opsdesk.alerts")

INGEST_LOCK_KEY = 0x0A1E_0001  # pg_advisory_xact_lock key of the ingest critical section


class ActionRefused(Exception):
    """A person's action on an incident cannot be done (bad input or not allowed)."""

    def __init__(self, message: str, *, status_code: int = 400):
        super().__init__(message)
        self.message = message
        self.status_code = status_code


@dataclass
class Inbound:
    """One thing that arrived: raw mail bytes (or a webhook body with its alerts already read)."""

    raw: bytes
    origin: str
    received_at: datetime = field(default_factory=timezone.now)
    folder_id: int | None = None
    uidvalidity: int | None = None
    uid: int | None = None
    location: str = ""
    internal_date: datetime | None = None  # when the mail server received it (IMAP INTERNALDATE)
    # Webhooks: the alerts read from the JSON, and no message-level de-duplication.
    alerts: list[ParsedAlert] | None = None
    rejected: list[dict] = field(default_factory=list)  # webhook alerts that could not be read
    subject: str = ""
    parsed: ParseResult | ParseError | None = None

    @property
    def mailbox(self) -> str:
        """The key a source binding names this mailbox by."""
        return f"folder:{self.folder_id}" if self.folder_id is not None else self.origin


@dataclass
class Handled:
    inbound: Inbound
    outcome: str  # an Outcome value, or "known" when this UID was ingested before
    message_pk: int | None = None
    alert_count: int = 0
    row: IngestedMessage | None = field(default=None, repr=False)


# --- rules and the host catalogue --------------------------------------------------------------

def load_rules() -> tuple[Rule, ...]:
    """The enabled admin rules, in the order the parser tries them."""
    return tuple(r.to_rule() for r in ParsingRule.objects.filter(enabled=True).order_by("priority", "pk"))


def load_bindings() -> tuple[Binding, ...]:
    """The enabled source bindings: folder bindings before sender-only ones, then by name."""
    rows = SourceBinding.objects.filter(enabled=True).order_by(F("folder_id").asc(nulls_last=True), "name")
    return tuple(b.to_binding() for b in rows)


_catalogue_cache: dict[str, object] = {"at": 0.0, "hosts": frozenset()}


def known_hosts() -> frozenset[str]:
    """Host names of the catalogue (cached 30 s), for formats that name the host in free text."""
    if time.monotonic() - _catalogue_cache["at"] > 30:
        _catalogue_cache["hosts"] = frozenset(Host.objects.filter(is_active=True).values_list("hostname", flat=True))
        _catalogue_cache["at"] = time.monotonic()
    return _catalogue_cache["hosts"]


def _parse(items: Sequence[Inbound], rules: tuple[Rule, ...], pool: ParsePool | None) -> None:
    todo = [i for i in items if i.parsed is None and i.alerts is None]
    if not todo:
        return
    hosts = known_hosts()
    bindings = load_bindings()
    raws = [i.raw for i in todo]
    mailboxes = [i.mailbox for i in todo]
    if pool is not None and len(todo) >= setting("OPSDESK_ALERT_PARSE_POOL_MIN_BATCH"):
        results = pool.parse(raws, rules, hosts, bindings, mailboxes)
    else:
        results = parse_many(raws, rules, hosts, bindings, mailboxes)
    for item, result in zip(todo, results, strict=True):
        item.parsed = result


def _identity(message_id: str, fingerprint: str) -> str:
    return hashlib.sha256(f"{message_id}\x00{fingerprint}".encode()).hexdigest()


def _lock_ingest() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [INGEST_LOCK_KEY])


# --- ingest --------------------------------------------------------------------------------------

def ingest_messages(*, items: Sequence[Inbound], rules: tuple[Rule, ...] | None = None,
                    pool: ParsePool | None = None, guard: Callable[[], None] | None = None) -> list[Handled]:
    """Parse, store and fold a batch into incidents, in one transaction. Idempotent per UID and per
    (Message-ID, fingerprint): what was ingested before comes back as "known" or "duplicate".
    `guard` is called inside the transaction (after the ingest lock) and may raise to abort it: the
    mail poller checks there that it still holds its mailbox lock."""
    if not items:
        return []
    if rules is None:
        rules = load_rules()
    _parse(items, rules, pool)
    raw_limit = setting("OPSDESK_ALERT_RAW_MAX_BYTES")
    with transaction.atomic():
        _lock_ingest()
        if guard is not None:
            guard()
        known = _known_uids(items)
        identities: dict[int, str] = {}
        for n, item in enumerate(items):
            if item.alerts is None and (item.folder_id, item.uidvalidity, item.uid) not in known:
                result = item.parsed.result if isinstance(item.parsed, ParseError) else item.parsed
                fp = result.fingerprint if result is not None else hashlib.sha256(item.raw).hexdigest()
                identities[n] = _identity((result.message_id or "") if result else "", fp)
        existing = dict(IngestedMessage.objects.filter(identity__in=set(identities.values()))
                        .values_list("identity", "pk"))
        handled: list[Handled] = []
        rows: list[IngestedMessage] = []
        dup_rows: list[tuple[IngestedMessage, str]] = []  # duplicates of rows in this same batch
        first_in_batch: dict[str, IngestedMessage] = {}
        for n, item in enumerate(items):
            if item.folder_id is not None and (item.folder_id, item.uidvalidity, item.uid) in known:
                handled.append(Handled(item, "known"))
                continue
            row = _message_row(item, raw_limit)
            ident = identities.get(n)
            if ident and (ident in existing or ident in first_in_batch):
                row.outcome, row.alert_count = Outcome.DUPLICATE, 0
                row.reason = _("Delivered again: same Message-ID and content as an earlier message.")
                if ident in existing:
                    row.duplicate_of_id = existing[ident]
                    rows.append(row)
                else:
                    dup_rows.append((row, ident))
            else:
                row.identity = ident
                if ident:
                    first_in_batch[ident] = row
                rows.append(row)
            handled.append(Handled(item, row.outcome, alert_count=row.alert_count, row=row))
        insert_rows(IngestedMessage, rows)
        for row, ident in dup_rows:
            row.duplicate_of_id = first_in_batch[ident].pk
        insert_rows(IngestedMessage, [r for r, _ident in dup_rows])
        _store_attachments(rows)
        entries = []
        for h in handled:
            row = h.row
            if row is None:
                continue
            h.message_pk = row.pk
            if row.outcome == Outcome.ALERT:
                for alert in _alerts_of(h.inbound):
                    entries.append((alert, row))
        if entries:
            _apply_alerts(entries)
    return handled


def ingest_alerts(*, alerts: list[ParsedAlert], raw: bytes, origin: str = Origin.WEBHOOK, location: str = "",
                  subject: str = "", rejected: list[dict] | None = None) -> Handled:
    """Alerts that arrived already structured (webhooks): stored with their body, then folded.
    ``rejected`` are the payload's alerts that could not be read: recorded on the stored body (all
    of them refused: the body is quarantined)."""
    item = Inbound(raw=raw, origin=origin, location=location, alerts=alerts, subject=subject,
                   rejected=list(rejected or []))
    return ingest_messages(items=[item], rules=())[0]


def _known_uids(items: Sequence[Inbound]) -> set[tuple]:
    by_box: dict[tuple, list[int]] = {}
    for item in items:
        if item.folder_id is not None and item.uid is not None:
            by_box.setdefault((item.folder_id, item.uidvalidity), []).append(item.uid)
    known: set[tuple] = set()
    for (folder_id, uidvalidity), uids in by_box.items():
        for uid in IngestedMessage.objects.filter(folder_id=folder_id, uidvalidity=uidvalidity,
                                                  uid__in=uids).values_list("uid", flat=True):
            known.add((folder_id, uidvalidity, uid))
    return known


def _alerts_of(item: Inbound) -> list[ParsedAlert]:
    if item.alerts is not None:
        return item.alerts
    return list(item.parsed.alerts) if isinstance(item.parsed, ParseResult) else []


def _message_row(item: Inbound, raw_limit: int) -> IngestedMessage:
    row = IngestedMessage(origin=item.origin, folder_id=item.folder_id, uidvalidity=item.uidvalidity,
                          uid=item.uid, location=item.location[:255], received_at=item.received_at,
                          raw=item.raw[:raw_limit], raw_size=len(item.raw), raw_truncated=len(item.raw) > raw_limit)
    if item.alerts is not None:
        row.fingerprint = hashlib.sha256(item.raw).hexdigest()
        row.subject = item.subject[:500]
        row.outcome = Outcome.ALERT if item.alerts else Outcome.NOT_ALERT
        row.alert_count = len(item.alerts)
        row.reason = "" if item.alerts else _("No alerts in the payload.")
        if item.rejected:
            row.error = "\n".join(f"alert {r['index']}: {r['error']}" for r in item.rejected)[:2000]
            if not item.alerts:
                row.outcome, row.reason = Outcome.QUARANTINED, ""
        return row
    parsed = item.parsed
    result = parsed.result if isinstance(parsed, ParseError) else parsed
    row._result = result  # for its attachments, stored once the row has a key
    if result is not None:
        row.fingerprint = result.fingerprint
        row.message_id = (result.message_id or "")[:300]
        row.subject = (result.subject or "")[:500]
        row.sender = (result.sender or "")[:300]
        row.sent_at = result.sent_at
    else:
        row.fingerprint = hashlib.sha256(item.raw).hexdigest()
    if isinstance(parsed, ParseError):
        row.outcome = Outcome.QUARANTINED
        row.error = str(parsed)[:2000]
    elif parsed.is_alert:
        row.outcome = Outcome.ALERT
        row.alert_count = len(parsed.alerts)
    else:
        row.outcome = Outcome.NOT_ALERT
        row.reason = (parsed.reason or "")[:300]
    return row


def _store_attachments(rows: Iterable[IngestedMessage]) -> None:
    limit = setting("OPSDESK_ALERT_ATTACHMENT_MAX_BYTES")
    per_message = setting("OPSDESK_ALERT_ATTACHMENTS_PER_MESSAGE")
    attachments = []
    for row in rows:
        result = getattr(row, "_result", None)
        if result is None or row.outcome == Outcome.DUPLICATE:
            continue
        for att in result.attachments[:per_message]:
            attachments.append(MessageAttachment(
                message=row, filename=(att.filename or "")[:255], content_type=(att.content_type or "")[:100],
                size=att.size, data=att.data[:limit], truncated=att.truncated or len(att.data) > limit))
    if attachments:
        MessageAttachment.objects.bulk_create(attachments)


# --- folding alerts into incidents ---------------------------------------------------------------

def _system_map(hosts: set[str]) -> dict[str, int]:
    ips = []
    for host in hosts:
        try:
            ips.append(str(ip_address(host)))
        except ValueError:
            pass
    mapping: dict[str, int] = {}
    for hostname, ip, system_id in Host.objects.filter(
            Q(hostname__in=hosts) | Q(ip_address__in=ips)).values_list("hostname", "ip_address", "system_id"):
        mapping[hostname] = system_id
        if ip:
            mapping[ip] = system_id
    return mapping


def _current_incidents(keys: set[str]) -> dict[str, Incident]:
    """Per key, the incident an alert folds into: the unresolved one (at most one per key), else the
    newest. (Someone may have reopened an older incident after a newer one was resolved.)"""
    hashes = [key_hash(k) for k in keys]
    rows = (Incident.objects.filter(key_hash__in=hashes).values("key_hash")
            .annotate(newest=Max("pk"), unresolved=Max("pk", filter=~Q(state=IncidentState.RESOLVED))))
    found = Incident.objects.select_for_update().filter(pk__in=[r["unresolved"] or r["newest"] for r in rows])
    return {inc.dedup_key: inc for inc in found if inc.dedup_key in keys}


def _event(inc: Incident, name: str, at: datetime, **fields) -> Transitioned:
    """An event of the monitoring system itself (no actor), with its unsaved audit row: the batch
    inserts the rows together and publishes the events together."""
    event = Transitioned(obj=inc, name=name, actor=None, at=at, **fields)
    return replace(event, record=incident_event_row(event))


def _record_change(inc: Incident, at: datetime, events: list[Transitioned]) -> None:
    """A problem↔recovery change (the opening problem counts); flag flapping when they crowd."""
    window = timedelta(minutes=setting("OPSDESK_INCIDENT_FLAP_WINDOW_MINUTES"))
    changes = [datetime.fromisoformat(s) for s in inc.recent_changes] + [at]
    changes = [c for c in changes if at - c <= window]
    inc.recent_changes = [c.isoformat() for c in changes[-50:]]
    if not inc.flapping and len(changes) >= setting("OPSDESK_INCIDENT_FLAP_CHANGES"):
        inc.flapping = True
        events.append(_event(inc, "flapping", at, source=inc.state, target=inc.state,
                             details={"changes": len(changes)}))


def _transition(inc: Incident, name: str, at: datetime, events: list[Transitioned], comment: str = "") -> None:
    """A transition fired by the monitoring system on a row this transaction holds locked: the
    engine checks and fires it (`apply`); the batch saves, records and publishes in bulk."""
    event = engine.apply(inc, name, actor=None, comment=comment, at=at)
    events.append(replace(event, record=incident_event_row(event)))


def _apply_alerts(entries: list[tuple[ParsedAlert, IngestedMessage]]) -> None:
    now = timezone.now()
    reopen_window = timedelta(minutes=setting("OPSDESK_INCIDENT_REOPEN_WINDOW_MINUTES"))
    current = _current_incidents({a.dedup_key for a, _row in entries})
    systems = _system_map({a.host for a, _row in entries})
    silences = list(Silence.objects.active(now))
    new_incidents: list[Incident] = []
    changed: dict[int, Incident] = {}
    events: list[Transitioned] = []
    alert_rows: list[Alert] = []
    to_notify: dict[int, Incident] = {}

    for alert, row in entries:
        at = row.sent_at or row.received_at
        system_id = systems.get(alert.host)
        silence = next((s for s in silences if s.matches(host=alert.host, check=alert.check,
                                                          category=alert.category, system_id=system_id)), None)
        inc = current.get(alert.dedup_key)
        opened = False
        stale = (inc is not None and inc.state == IncidentState.RESOLVED and inc.resolved_at is not None
                 and at <= inc.resolved_at)
        if alert.status == "problem" and stale:
            # Sent before the incident was resolved and delivered after (a mail overtaken by the
            # webhook's recovery): kept on the incident, never a reopen.
            pass
        elif alert.status == "problem":
            if inc is None or (inc.state == IncidentState.RESOLVED
                               and at - (inc.resolved_at or at) > reopen_window):
                inc = Incident(dedup_key=alert.dedup_key, key_hash=key_hash(alert.dedup_key), source=alert.source,
                               host=alert.host[:255], check_name=alert.check[:500],
                               check_label=(alert.check_label or alert.check)[:500], category=alert.category,
                               severity=alert.severity, system_id=system_id, summary=alert.message,
                               first_seen=at, last_seen=at, updated_at=now)
                new_incidents.append(inc)
                current[alert.dedup_key] = inc
                events.append(_event(inc, OPEN, at, source="", target=IncidentState.OPEN))
                _record_change(inc, at, events)
                opened = True
            elif inc.state == IncidentState.RESOLVED:
                _transition(inc, "reopen", at, events)
                inc.severity = alert.severity
                _record_change(inc, at, events)
                opened = True
            elif SEVERITY_RANK[alert.severity] < SEVERITY_RANK[inc.severity]:
                inc.severity = alert.severity
                opened = inc.state == IncidentState.OPEN  # escalated to a louder severity
            inc.occurrences += 1
            inc.summary = alert.message or inc.summary
            # An unsure reading flags the incident for a look; a later sure one clears the flag.
            inc.needs_review = alert.needs_review[:300]
            if inc.system_id is None and system_id:
                inc.system_id = system_id
            if silence is not None:
                inc.silenced_count += 1
                if not inc.silenced_until or inc.silenced_until < silence.ends_at:
                    inc.silenced_until = silence.ends_at
            elif opened and inc.severity in ALARM_SEVERITIES and not inc.flapping:
                to_notify[id(inc)] = inc
        elif alert.status == "recovery":
            if inc is not None and inc.state in (IncidentState.OPEN, IncidentState.ACKNOWLEDGED):
                _transition(inc, "resolve", at, events, comment=_("Recovered: the monitoring tool reports OK."))
                _record_change(inc, at, events)
        elif alert.status == "ack":
            if inc is not None and inc.state == IncidentState.OPEN:
                _transition(inc, "acknowledge", at, events,
                            comment=_("Acknowledged in the monitoring tool."))
        if inc is not None:
            if at > inc.last_seen:
                inc.last_seen = at
            inc.updated_at = now
            if inc.pk:
                changed[inc.pk] = inc
        alert_rows.append(Alert(incident=inc, message=row, source=alert.source, host=alert.host[:255],
                                check_name=alert.check[:500], severity=alert.severity, status=alert.status,
                                category=alert.category, dedup_key=alert.dedup_key, text=alert.message,
                                needs_review=alert.needs_review[:300],
                                system_id=system_id, occurred_at=at, received_at=row.received_at,
                                silence=silence))

    insert_rows(Incident, new_incidents)
    if changed:
        update_rows(Incident, list(changed.values()), INCIDENT_BATCH_FIELDS)
    insert_rows(Alert, alert_rows)
    insert_rows(IncidentEvent, [event.record for event in events])
    publish(events)
    # Flapping found later in the same batch holds the notification back.
    pending = [inc for inc in to_notify.values() if not inc.flapping and inc.state == IncidentState.OPEN]
    if pending:
        _notify_opened(pending)


INCIDENT_BATCH_FIELDS = (
    "state", "version", "severity", "system", "summary", "needs_review", "last_seen", "occurrences", "silenced_count",
    "silenced_until", "flapping", "recent_changes", "reopen_count", "acknowledged_at", "acknowledged_by",
    "resolved_at", "resolved_by", "updated_at")


def _on_duty_operators() -> list[User]:
    # The operators on alert duty (告警值班), or every operator with a mobile when no such roster is kept.
    return on_duty_with_role(Role.OPERATOR, duty=Duty.ALERTS)


def _notify_opened(incidents: list[Incident]) -> None:
    for inc in incidents:
        # The escalation chain (operator → lead → manager) runs whether or not anyone is on shift.
        start_chain(inc)
    operators = _on_duty_operators()
    if not operators:
        return
    # One query for the systems' names, not one per incident of a burst.
    system_names = dict(ProductionSystem.objects.filter(pk__in={i.system_id for i in incidents if i.system_id})
                        .values_list("pk", "name"))
    messages = []
    for inc in incidents:
        fallback = _("[%(severity)s] %(host)s %(check)s: %(summary)s") % {
            "severity": inc.get_severity_display(), "host": inc.host, "check": inc.check_title,
            "summary": inc.summary[:120]}
        # The administrators' template "incident.opened"; the title names host, check and what the
        # tool said (the operator on a night shift decides from the SMS alone whether to run).
        title = f"{inc.host} {inc.check_title}" + (f"：{inc.summary[:80]}" if inc.summary else "")
        context = {"severity": inc.get_severity_display(), "title": title,
                   "system": system_names.get(inc.system_id, inc.host), "host": inc.host,
                   "check": inc.check_title, "summary": inc.summary[:120]}
        messages.append(Message(event="incident.opened", template="incident.opened", context=context, text=fallback,
                                key=f"incident:{inc.pk}:opened:{inc.reopen_count}", about=inc, people=operators,
                                urgent=inc.severity == "critical"))
    notify_many(messages)  # a burst of incidents: one write for all their messages


# --- re-processing quarantined mail --------------------------------------------------------------

def message_reprocess(*, message_pk: int) -> str:
    """Parse a stored message that was not read as an alert (quarantined, or taken for no alert)
    again with today's rules and bindings; returns its new outcome. Alerts read before are never
    read twice."""
    rules = load_rules()
    with transaction.atomic():
        _lock_ingest()
        row = IngestedMessage.objects.select_for_update().get(pk=message_pk)
        if row.outcome not in (Outcome.QUARANTINED, Outcome.NOT_ALERT) or row.origin == Origin.WEBHOOK:
            return row.outcome
        if row.raw_truncated:
            row.error = _("The stored copy is truncated; it cannot be parsed again.")
            row.save(update_fields=["error"])
            return row.outcome
        mailbox = f"folder:{row.folder_id}" if row.folder_id else row.origin
        parsed = parse_one(bytes(row.raw), rules, known_hosts(), load_bindings(), mailbox)
        row.reprocessed_at = timezone.now()
        if isinstance(parsed, ParseError):
            row.error = str(parsed)[:2000]
            row.save(update_fields=["error", "reprocessed_at"])
            return row.outcome
        row.error = ""
        row.outcome = Outcome.ALERT if parsed.is_alert else Outcome.NOT_ALERT
        row.alert_count = len(parsed.alerts)
        row.reason = (parsed.reason or "")[:300]
        row.save(update_fields=["error", "outcome", "alert_count", "reason", "reprocessed_at"])
        if parsed.alerts:
            _apply_alerts([(alert, row) for alert in parsed.alerts])
        return row.outcome


# --- people's actions on incidents ---------------------------------------------------------------

def _visible_incident(actor, incident_pk: int) -> Incident:
    incident = scoping.restrict(actor, Incident.objects.filter(pk=incident_pk)).first()
    if incident is None:
        raise ActionRefused(_("No such incident."), status_code=404)
    return incident


def _perform(actor, incident_pk: int, name: str, expected_version: int | None, comment: str):
    # Looked up inside the actor's scope by the transition's own locked read (one query, not a
    # scoped read and then a lock): outside it, "no such incident".
    try:
        return engine.perform(Incident, incident_pk, name, actor=actor, expected_version=expected_version,
                              comment=comment, within=scoping.restrict(actor, Incident.objects.all()))
    except Incident.DoesNotExist:
        raise ActionRefused(_("No such incident."), status_code=404) from None


def incident_acknowledge(*, actor, incident_pk: int, expected_version: int | None = None, comment: str = ""):
    return _perform(actor, incident_pk, "acknowledge", expected_version, comment)


def incident_resolve(*, actor, incident_pk: int, expected_version: int | None = None, comment: str = ""):
    return _perform(actor, incident_pk, "resolve", expected_version, comment)


def incident_reopen(*, actor, incident_pk: int, expected_version: int | None = None, comment: str = ""):
    try:
        with transaction.atomic():
            return _perform(actor, incident_pk, "reopen", expected_version, comment)
    except IntegrityError:
        raise ActionRefused(_("A newer incident for the same alert is already open."), status_code=409) from None


def incident_silence(*, actor, incident_pk: int, minutes: int, reason: str) -> Silence:
    """Silence this incident's host and check for `minutes`; its alarm stops at once."""
    incident = _visible_incident(actor, incident_pk)
    if not reason.strip():
        raise ActionRefused(_("Give a reason for the silence."))
    if not 1 <= minutes <= 60 * 24 * 30:
        raise ActionRefused(_("A silence lasts between 1 minute and 30 days."))
    # The same kind of window as the maintenance-window page makes; it quiets this incident at once.
    try:
        return silencing.silence_create(actor=actor, reason=reason.strip()[:300], duration=timedelta(minutes=minutes),
                                        host_pattern=glob.escape(incident.host),
                                        check_pattern=glob.escape(incident.check_name))
    except PermissionDenied:
        raise ActionRefused(_("You may not silence alerts."), status_code=403) from None
    except ValidationError as exc:
        raise ActionRefused("; ".join(exc.messages)) from None


def incident_note_add(*, actor, incident_pk: int, text: str) -> IncidentEvent:
    """A note on the incident's history (what was checked, who was called): no change of state."""
    if not may_act_on_incidents(actor):
        raise ActionRefused(_("You may not act on incidents."), status_code=403)
    incident = _visible_incident(actor, incident_pk)
    text = (text or "").strip()
    if not text:
        raise ActionRefused(_("Write the note."))
    if len(text) > 4000:
        raise ActionRefused(_("Keep a note under 4,000 characters."))
    return IncidentEvent.objects.create(incident=incident, actor=actor, action="note", source_state=incident.state,
                                        target_state=incident.state, comment=text)
