"""Every write of the statistics app: the summary tables, kept current by the workflow.

`record_request_event` and `record_incident_events` are called by `reports.handlers`, which
subscribes to the transition events the workflow engine publishes (inside the transition's
transaction; the alert ingest publishes a whole batch at once). `summaries_rebuild` recomputes everything from the audit
trails: `manage.py rebuild_report_summaries` (back-fill) and `--check` (the truth check).

Both paths count with the same function (`_tally_request_event`, `_tally_incident_event`), so the
live tables and a rebuild agree by construction. What a step counts as is declared next to its
transition (`workflow.requests.ReportEffect`, `workflow.incidents.IncidentEffect`); these functions
read those effects, the kinds of the units involved and the levels, never transition names or states,
so a new transition counts as it declares. The roll-ups the province and city pages read
(`CityDaily`: a city's counties together; `SystemIncidentDaily`: a system's categories and
severities together) are counted there too, in the same transaction as the rows they sum.
With workers running, the counts of a transaction are one PendingTally row folded in right after the
commit (`tallies_fold`): the summaries are then seconds behind, and no two requests wait on one counter.

Definitions (the pages explain them in the same words):
- sent: filed by a teller; received at a level: escalated into it (the county: filed);
- answered at a level: the answer given there (province: the dispatcher's own answer, or a group's
  answer approved by the provincial review);
- escalated: sent up from the level; returned: came back to it (sent back down by the province,
  returned for rework, or its answer rejected by the teller);
- closed / resolved at a level: closed (confirmed or closed automatically) with the final answer
  from that level; ratings: the teller's 1–5 rating on confirmation, credited to who answered;
- a holding period: from the moment a unit receives a request until it leaves that unit; waiting
  is until the first action of that unit (claim, or any step), working the rest; the SLA target is
  the resolution target of `notifications.SlaPolicy` for the request type and level.
"""

from __future__ import annotations

import bisect
import functools
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from celery import current_app
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.db.models import F, UniqueConstraint
from django.utils import timezone

from alerts.models import Incident, IncidentEvent
from notifications.models import SlaPolicy
from opsdesk.org.choices import UnitKind
from opsdesk.org.models import Unit
from opsdesk.transactions import on_commit_once
from reports.models import (
    DAY_GRAIN,
    DURATION_BUCKETS,
    MONTH_GRAIN,
    CityDaily,
    CountyDaily,
    HandlingDaily,
    IncidentDaily,
    OutletDaily,
    PendingTally,
    PersonDaily,
    ProvinceHandlingDaily,
    SystemDaily,
    SystemIncidentDaily,
    UnitWorkDaily,
)
from tickets.models import RequestEvent, ServiceRequest
from workflow import incidents as incident_workflow
from workflow.incidents import IncidentEffect
from workflow.requests import ReportEffect, transition_effects

__all__ = ["record_request_event", "record_incident_events", "summaries_rebuild", "tallies_fold", "Tally", "LEVEL_OF_KIND",
           "REPORT_LEVELS", "bucket_of"]

# The four levels of the reports and the unit kinds that make them.
LEVEL_OF_KIND = {UnitKind.COUNTY: "county", UnitKind.CITY: "city", UnitKind.OPERATIONS: "province",
                 UnitKind.PROVINCE: "province", UnitKind.SUPPORT_GROUP: "group"}
REPORT_LEVELS = ("county", "city", "province", "group")
FLOW_LEVEL = {"county": "county", "city": "city", "province": "province", "group": "province"}
E = ReportEffect
logger = logging.getLogger(__name__)
# Counted as answered at the level holding the request.
ANSWERS_THERE = {E.ANSWERED_HERE, E.ANSWER_APPROVED}
# Counted as returned to the level the request comes back to.
RETURNS = {E.SENT_BACK, E.RETURNED_FOR_REWORK, E.ANSWER_REJECTED}
SUMMARY_MODELS = (CountyDaily, OutletDaily, CityDaily, SystemDaily, UnitWorkDaily, PersonDaily, HandlingDaily,
                  ProvinceHandlingDaily)
INCIDENT_MODELS = (IncidentDaily, SystemIncidentDaily)


def bucket_of(seconds: float) -> int:
    """Index of the histogram bucket holding a duration (upper edges inclusive)."""
    return bisect.bisect_left(DURATION_BUCKETS, seconds)


class Tally:
    """Increments collected per summary row (model + key), applied together."""

    def __init__(self) -> None:
        self.rows: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, model, key: dict[str, Any], **counts: int) -> None:
        """Count into the day row and the month row of `key["day"]`."""
        day = key["day"]
        for grain, start in ((DAY_GRAIN, day), (MONTH_GRAIN, day.replace(day=1))):
            row = self.rows[(model, tuple(sorted({**key, "day": start, "grain": grain}.items())))]
            for name, n in counts.items():
                row[name] += int(n)

    def apply(self, *, now: bool = False) -> None:
        """Add to the stored rows (creating missing ones), in a fixed order to avoid deadlocks.

        Inside a transaction with workers running, the counts are written as one PendingTally row and
        folded in by a worker after the commit (see PendingTally); `now` adds them at once."""
        ordered = sorted(self.rows.items(), key=lambda kv: (kv[0][0].__name__, repr(kv[0][1])))
        ordered = [(model, key, {k: v for k, v in counts.items() if v}) for (model, key), counts in ordered]
        ordered = [(model, key, counts) for model, key, counts in ordered if counts]
        if not ordered:
            return
        if not now and connection.in_atomic_block and not current_app.conf.task_always_eager:
            PendingTally.objects.create(rows=[[model._meta.label, list(key), counts] for model, key, counts in ordered])
            on_commit_once(_fold_soon)  # folded after the commit, asked for once per transaction
            return
        if connection.vendor == "postgresql":
            # One upsert statement per summary table: a transition touches a dozen rows, and a
            # round trip (and a savepoint on a first count) per row was most of its time.
            by_model: dict[type, list] = defaultdict(list)
            for model, key, counts in ordered:
                by_model[model].append((key, counts))
            for model, rows in by_model.items():
                _upsert(model, rows)
            return
        for model, key, counts in ordered:
            lookup = dict(key)
            update = {name: F(name) + n for name, n in counts.items()}
            if model.objects.filter(**lookup).update(**update):
                continue
            try:
                with transaction.atomic():
                    model.objects.create(**lookup, **counts)
            except IntegrityError:  # created meanwhile by a concurrent transition
                model.objects.filter(**lookup).update(**update)

    def objects(self) -> dict[type, list]:
        """The tally as unsaved model instances, for a rebuild."""
        out: dict[type, list] = defaultdict(list)
        for (model, key), counts in self.rows.items():
            out[model].append(model(**dict(key), **counts))
        return out


# With workers, a fold is asked for with this delay, and a process that has asked for one that has not
# run yet asks for no other: at the desk's peak that is one fold a second per web process instead of
# one per transition (each a Celery message and a worker's transaction), and the statistics are at
# most about a second behind.
FOLD_DELAY_SECONDS = 1.0
# A commit this close to the pending fold's start asks for a new one (a worker's clock a little ahead).
FOLD_MARGIN_SECONDS = 0.25
_fold_asked_until = 0.0  # time.monotonic() before which the fold this process asked for does not start


def _fold_soon() -> None:
    """After a commit: a fold this process asked for starts after this moment, so it folds this
    transaction's tallies too; otherwise ask for one, FOLD_DELAY_SECONDS from now. In-process mode
    folds at once."""
    global _fold_asked_until
    if current_app.conf.task_always_eager:
        wake_fold()
        return
    now = time.monotonic()
    if now < _fold_asked_until - FOLD_MARGIN_SECONDS:
        return
    if wake_fold(countdown=FOLD_DELAY_SECONDS):
        _fold_asked_until = now + FOLD_DELAY_SECONDS


def wake_fold(countdown: float = 0) -> bool:
    """Ask a worker to fold pending tallies (after `countdown` seconds); False if the broker refused."""
    from reports.tasks import fold_tallies

    try:
        fold_tallies.apply_async(countdown=countdown or None)  # None: Celery's default, no ETA
    except Exception:  # broker down: the rows are committed; beat folds them later
        logger.exception("could not wake the statistics fold; beat will fold")
        return False
    return True


def tallies_fold(*, limit: int = 500) -> int:
    """Add pending tallies to the summary tables and delete them, in one transaction per batch (two
    workers take different rows: SKIP LOCKED). Returns how many were folded."""
    folded = 0
    while True:
        with transaction.atomic():
            pending = list(PendingTally.objects.select_for_update(skip_locked=True).order_by("pk")[:limit])
            if not pending:
                return folded
            t = Tally()
            for tally in pending:
                for label, key, counts in tally.rows:
                    model = apps.get_model(label)
                    key = tuple((name, model._meta.get_field(name).to_python(value)) for name, value in key)
                    row = t.rows[(model, key)]
                    for name, n in counts.items():
                        row[name] += int(n)
            t.apply(now=True)
            PendingTally.objects.filter(pk__in=[tally.pk for tally in pending]).delete()
            folded += len(pending)


def _upsert(model, rows: list[tuple[tuple, dict[str, int]]]) -> None:
    """`INSERT ... ON CONFLICT (the model's unique key) DO UPDATE SET c = c + EXCLUDED.c` for `rows`
    of (key items, counts): adds to the stored rows, creating the missing ones, in one statement."""
    opts = model._meta
    qn = connection.ops.quote_name
    [unique] = [c for c in opts.constraints if isinstance(c, UniqueConstraint)]
    key_names = [name for name, _value in rows[0][0]]
    counted = {name for _key, counts in rows for name in counts}
    # Every counter column is written (a new row starts at 0: the defaults are Django's, not the
    # table's); only the counted ones are added to on conflict.
    counters = [f.attname for f in opts.concrete_fields if not f.primary_key and f.attname not in key_names]
    columns = [opts.get_field(name).column for name in key_names + counters]
    params: list = []
    for key, counts in rows:
        params.extend(value for _name, value in key)
        params.extend(counts.get(name, 0) for name in counters)
    table = qn(opts.db_table)
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    conflict = ", ".join(qn(opts.get_field(name).column) for name in unique.fields)
    updates = ", ".join(f"{qn(c)} = {table}.{qn(c)} + EXCLUDED.{qn(c)}"
                        for c in (opts.get_field(name).column for name in counters if name in counted))
    sql = (f"INSERT INTO {table} ({', '.join(qn(c) for c in columns)}) VALUES "
           f"{', '.join([placeholders] * len(rows))} ON CONFLICT ({conflict}) DO UPDATE SET {updates}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- service requests ----------------------------------------------------------------------------

@dataclass(frozen=True)
class RequestFacts:
    """What a request's counters are keyed by; fixed when it is filed."""

    outlet_id: int
    county_id: int
    city_id: int
    type_id: int
    type_code: str
    system_id: int | None


@dataclass(frozen=True)
class EventFacts:
    version: int
    name: str
    at: datetime
    actor_id: int | None
    from_unit_id: int | None
    to_unit_id: int | None
    details: dict


EVENT_FIELDS = ("version", "name", "at", "actor_id", "from_unit_id", "to_unit_id", "details")


def _sla_targets() -> dict[tuple[str, str], int]:
    """Resolution targets in minutes by (request type code, level kind); "" means any."""
    return {(p.request_type, p.level): p.resolution_minutes for p in SlaPolicy.objects.filter(is_active=True)}


def _sla_minutes(targets: dict, type_code: str, kind: str) -> int | None:
    for key in ((type_code, kind), (type_code, ""), ("", kind), ("", "")):
        if key in targets:
            return targets[key]
    return None


def _seconds(later: datetime, earlier: datetime) -> int:
    return max(0, round((later - earlier).total_seconds()))


def _arrives(event: EventFacts) -> bool:
    """The request reaches a unit: filed, or handed from one unit to another."""
    return event.from_unit_id != event.to_unit_id or E.FILED in transition_effects(event.name)


def _flow_level(kind: str | None) -> str | None:
    """The level of the request-flow counters (a group counts with the province) for a unit kind."""
    return FLOW_LEVEL[LEVEL_OF_KIND[kind]] if kind in LEVEL_OF_KIND else None


def _tally_request_event(t: Tally, req: RequestFacts, events: list[EventFacts], i: int, kinds: dict[int, str],
                         sla: Callable[[], dict]) -> None:
    """Add what event `events[i]` of a request counts, knowing the events before it. `sla()` gives the
    SLA targets (read only by a step that ends a holding period)."""
    e = events[i]
    effects = transition_effects(e.name)
    day = timezone.localdate(e.at)
    county_key = {"day": day, "city_id": req.city_id, "county_id": req.county_id, "request_type_id": req.type_id}
    outlet_key = {**county_key, "outlet_id": req.outlet_id}
    city_key = {"day": day, "city_id": req.city_id}

    def flow(**counts: int) -> None:
        t.add(CountyDaily, county_key, **counts)
        t.add(OutletDaily, outlet_key, **counts)
        t.add(CityDaily, city_key, **counts)

    from_kind, to_kind = kinds.get(e.from_unit_id), kinds.get(e.to_unit_id)
    filed = E.FILED in effects
    moved = _arrives(e)

    if filed:
        flow(sent=1, received_county=1)
        if req.system_id:
            t.add(SystemDaily, {"day": day, "system_id": req.system_id, "request_type_id": req.type_id}, sent=1)
    if E.ESCALATED in effects:
        if from_kind == UnitKind.COUNTY:
            flow(escalated_county=1, received_city=1)
        elif from_kind == UnitKind.CITY:
            flow(escalated_city=1, received_province=1)
    if effects & ANSWERS_THERE and _flow_level(from_kind):
        flow(**{f"answered_{_flow_level(from_kind)}": 1})
    if effects & RETURNS and _flow_level(to_kind):
        flow(**{f"returned_{_flow_level(to_kind)}": 1})
    if E.CLOSED in effects:
        # Credited to the last answer the teller got.
        answer = next((x for x in reversed(events[:i]) if E.GIVES_ANSWER in transition_effects(x.name)), None)
        answer_level = _flow_level(kinds.get(answer.from_unit_id)) if answer else None
        counts = {"closed": 1}
        if answer_level:
            counts[f"closed_{answer_level}"] = 1
        rating = (e.details or {}).get("rating")
        if rating:
            counts.update(rating_count=1, rating_sum=int(rating))
            if answer is not None:
                if answer.actor_id:
                    t.add(PersonDaily, {"day": day, "person_id": answer.actor_id, "unit_id": answer.from_unit_id},
                          rating_count=1, rating_sum=int(rating))
                t.add(UnitWorkDaily, {"day": day, "unit_id": answer.from_unit_id},
                      rating_count=1, rating_sum=int(rating))
        flow(**counts)
        if req.system_id:
            t.add(SystemDaily, {"day": day, "system_id": req.system_id, "request_type_id": req.type_id}, closed=1)

    # Work of units and people.
    # People: the support staff (a teller's filing and confirming is not support work).
    person_key = ({"day": day, "person_id": e.actor_id, "unit_id": e.from_unit_id}
                  if e.actor_id and from_kind in LEVEL_OF_KIND else None)
    if e.from_unit_id and not filed:
        t.add(UnitWorkDaily, {"day": day, "unit_id": e.from_unit_id}, transitions=1)
    if person_key:
        t.add(PersonDaily, person_key, transitions=1)
    if moved and e.to_unit_id:
        t.add(UnitWorkDaily, {"day": day, "unit_id": e.to_unit_id}, received=1)
    if E.TRANSFERRED in effects:
        t.add(UnitWorkDaily, {"day": day, "unit_id": e.from_unit_id}, transfers_out=1)
        t.add(UnitWorkDaily, {"day": day, "unit_id": e.to_unit_id}, transfers_in=1)
        if person_key:
            t.add(PersonDaily, person_key, transfers_out=1)

    # A holding period at a support unit ends.
    if moved and not filed and from_kind in LEVEL_OF_KIND:
        start = next((j for j in range(i - 1, -1, -1)
                      if events[j].to_unit_id == e.from_unit_id and _arrives(events[j])), None)
        if start is None:
            return
        arrived = events[start].at
        first = next((x for x in events[start + 1:i + 1] if x.actor_id), e)
        wait, work, held = _seconds(first.at, arrived), _seconds(e.at, first.at), _seconds(e.at, arrived)
        level = LEVEL_OF_KIND[from_kind]
        target = _sla_minutes(sla(), req.type_code, from_kind)
        handling = {"periods": 1, "wait_seconds": wait, "work_seconds": work,
                    f"wait_{bucket_of(wait)}": 1, f"work_{bucket_of(work)}": 1}
        if target is not None:
            handling["sla_met" if held <= target * 60 else "sla_breached"] = 1
        t.add(HandlingDaily, {"day": day, "city_id": req.city_id, "county_id": req.county_id, "level": level,
                              "request_type_id": req.type_id}, **handling)
        t.add(ProvinceHandlingDaily, {"day": day, "level": level, "request_type_id": req.type_id}, **handling)
        if E.ASKS_TELLER not in effects:  # the request comes back: not handled yet
            t.add(UnitWorkDaily, {"day": day, "unit_id": e.from_unit_id}, handled=1, held_seconds=held)
            if person_key:
                transferred_in = E.TRANSFERRED in transition_effects(events[start].name)
                t.add(PersonDaily, person_key, handled=1, held_seconds=held, transfers_in=1 if transferred_in else 0)


def _request_facts(request) -> RequestFacts:
    return RequestFacts(outlet_id=request.origin_unit_id, county_id=request.origin_county_id,
                        city_id=request.origin_city_id, type_id=request.request_type_id,
                        type_code=request.request_type.code, system_id=request.system_id)


def _unit_kinds(unit_ids, *, known=()) -> dict[int, str]:
    """The kinds of these units; those among `known` (units already read) are not read again."""
    kinds = {unit.pk: unit.kind for unit in known if unit is not None}
    missing = {u for u in unit_ids if u and u not in kinds}
    if missing:
        kinds.update(Unit.objects.filter(pk__in=missing).values_list("pk", "kind"))
    return kinds


def _loaded(obj, *relations: str) -> list:
    """The related objects of `obj` already read with it (none is fetched here)."""
    return [getattr(obj, name) for name in relations if obj._meta.get_field(name).is_cached(obj)]


def record_request_event(*, event, request) -> None:
    """Count one transition of a service request (called in the transition's transaction)."""
    if event.version == 1:  # the filing: its event is the request's only one, and it is in hand
        events = [EventFacts(**{name: getattr(event, name) for name in EVENT_FIELDS})]
    else:
        events = [EventFacts(**row) for row in RequestEvent.objects.filter(
            request_id=request.pk, version__lte=event.version).order_by("version").values(*EVENT_FIELDS)]
        if not events or events[-1].version != event.version:
            return
    kinds = _unit_kinds({u for x in events for u in (x.from_unit_id, x.to_unit_id)},
                        known=_loaded(event, "from_unit", "to_unit") + _loaded(request, "origin_unit", "holder_unit"))
    t = Tally()
    _tally_request_event(t, _request_facts(request), events, len(events) - 1, kinds, functools.cache(_sla_targets))
    t.apply()


# --- incidents -----------------------------------------------------------------------------------

# The audit actions that count as anything, and those the acknowledge and resolve times run from.
COUNTED_INCIDENT_ACTIONS = incident_workflow.transitions_with()
OPENING_ACTIONS = incident_workflow.transitions_with(IncidentEffect.OPENED)


def _tally_incident_event(t: Tally, incident, action: str, at: datetime, opened_at: datetime | None) -> None:
    effects = incident_workflow.transition_effects(action)
    day = timezone.localdate(at)
    counts: dict[str, int] = {}
    if IncidentEffect.OPENED in effects:
        counts["opened"] = 1
    if IncidentEffect.REOPENED in effects:
        counts["reopened"] = 1
    if IncidentEffect.ACKNOWLEDGED in effects:
        counts.update(acknowledged=1, ack_seconds=_seconds(at, opened_at or incident.first_seen))
    if IncidentEffect.RESOLVED in effects:
        counts.update(resolved=1, resolve_seconds=_seconds(at, opened_at or incident.first_seen))
    if not counts:
        return
    t.add(IncidentDaily, {"day": day, "system_id": incident.system_id, "category": incident.category,
                          "severity": incident.severity}, **counts)
    t.add(SystemIncidentDaily, {"day": day, "system_id": incident.system_id}, **counts)


def record_incident_events(*, events) -> None:
    """Count incident audit rows just written (the alert pipeline's batch, or one person's step)."""
    events = [e for e in events if e.action in COUNTED_INCIDENT_ACTIONS]
    if not events:
        return
    openings: dict[int, list[datetime]] = defaultdict(list)
    # Acknowledging and resolving count the time since the incident (last) opened.
    needing = {e.incident.pk for e in events
               if incident_workflow.transition_effects(e.action) & {IncidentEffect.ACKNOWLEDGED, IncidentEffect.RESOLVED}}
    if needing:
        for incident_id, at in (IncidentEvent.objects.filter(incident_id__in=needing, action__in=OPENING_ACTIONS)
                                .values_list("incident_id", "at")):
            openings[incident_id].append(at)
    t = Tally()
    for e in events:
        opened = max((a for a in openings.get(e.incident.pk, ()) if a <= e.at), default=None)
        _tally_incident_event(t, e.incident, e.action, e.at, opened)
    t.apply()


# --- rebuild from the audit trails ---------------------------------------------------------------

def _tally_all_requests(t: Tally, *, chunk: int = 2000) -> int:
    kinds = dict(Unit.objects.values_list("pk", "kind"))
    sla = functools.cache(_sla_targets)
    last_pk, count = 0, 0
    while True:
        batch = list(ServiceRequest.objects.filter(pk__gt=last_pk).order_by("pk").values(
            "pk", "origin_unit_id", "origin_county_id", "origin_city_id", "request_type_id", "request_type__code",
            "system_id")[:chunk])
        if not batch:
            return count
        last_pk = batch[-1]["pk"]
        events: dict[int, list[EventFacts]] = defaultdict(list)
        for row in (RequestEvent.objects.filter(request_id__in=[b["pk"] for b in batch])
                    .order_by("request_id", "version").values("request_id", *EVENT_FIELDS)):
            events[row.pop("request_id")].append(EventFacts(**row))
        for b in batch:
            req = RequestFacts(outlet_id=b["origin_unit_id"], county_id=b["origin_county_id"],
                               city_id=b["origin_city_id"], type_id=b["request_type_id"],
                               type_code=b["request_type__code"], system_id=b["system_id"])
            evs = events.get(b["pk"], [])
            for i in range(len(evs)):
                _tally_request_event(t, req, evs, i, kinds, sla)
            count += 1


def _tally_all_incidents(t: Tally) -> int:
    incidents = {i.pk: i for i in Incident.objects.only("pk", "system_id", "category", "severity", "first_seen")}
    opened: dict[int, datetime] = {}
    count = 0
    for incident_id, action, at in (IncidentEvent.objects.filter(action__in=COUNTED_INCIDENT_ACTIONS)
                                    .order_by("incident_id", "at", "pk").values_list("incident_id", "action", "at")):
        if action in OPENING_ACTIONS:
            opened[incident_id] = at
        _tally_incident_event(t, incidents[incident_id], action, at, opened.get(incident_id))
        count += 1
    return count


def _stored(model, fields: list[str]) -> dict[tuple, dict[str, int]]:
    keys = [f.attname for f in model._meta.concrete_fields if f.attname not in fields and f.attname != "id"]
    out: dict[tuple, dict[str, int]] = {}
    for row in model.objects.values(*keys, *fields):
        key = tuple(sorted((k, row[k]) for k in keys))
        counts = out.setdefault(key, defaultdict(int))
        for f in fields:
            counts[f] += row[f]
    return out


def summaries_rebuild(*, check_only: bool = False) -> dict[str, Any]:
    """Recompute every summary from the audit trails. With `check_only`, change nothing and report
    the rows whose stored counters differ from the recomputed ones."""
    t = Tally()
    requests = _tally_all_requests(t)
    incident_events = _tally_all_incidents(t)
    built = t.objects()
    report: dict[str, Any] = {"requests": requests, "incident_events": incident_events, "rows": {}, "differences": {}}
    for model in (*SUMMARY_MODELS, *INCIDENT_MODELS):
        report["rows"][model.__name__] = len(built.get(model, []))
    if check_only:
        for model in (*SUMMARY_MODELS, *INCIDENT_MODELS):
            counters = [f.attname for f in model._meta.concrete_fields
                        if f.get_internal_type() == "BigIntegerField"]
            expected: dict[tuple, dict[str, int]] = {}
            for (m, key), counts in t.rows.items():
                if m is model:
                    expected[tuple(sorted(key))] = {c: counts.get(c, 0) for c in counters}
            stored = {k: {c: v.get(c, 0) for c in counters} for k, v in _stored(model, counters).items()}
            zero = dict.fromkeys(counters, 0)
            diffs = [k for k in set(expected) | set(stored) if expected.get(k, zero) != stored.get(k, zero)]
            report["differences"][model.__name__] = len(diffs)
        return report
    with transaction.atomic():
        PendingTally.objects.all().delete()  # already in the audit trails the rebuild counted
        for model in (*SUMMARY_MODELS, *INCIDENT_MODELS):
            model.objects.all().delete()
            model.objects.bulk_create(built.get(model, []), batch_size=2000)
    return report
