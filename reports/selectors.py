"""Every report, computed from the summary tables (and the open requests for the backlog).

Each selector takes the reader and a `ReportFilter` and returns a `Table`: columns, rows, a total
row and what to chart. The pages, the CSV/XLSX exports and the API all render the same `Table`, so
their numbers are the same numbers. Scoping: every queryset goes through `opsdesk.scoping.restrict`,
and the unit drilled into must lie inside what the reader may see.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from alerts.choices import Category, Severity
from opsdesk import scoping
from opsdesk.org.choices import UnitKind
from opsdesk.org.models import ProductionSystem, Unit, User
from reports.forms import ReportFilter
from reports.models import (
    BUCKET_COUNT,
    DAY_GRAIN,
    DURATION_BUCKETS,
    INCIDENT_COUNTERS,
    MONTH_GRAIN,
    REQUEST_COUNTERS,
    WORK_COUNTERS,
    CityDaily,
    CountyDaily,
    HandlingDaily,
    IncidentDaily,
    OutletDaily,
    PersonDaily,
    ProvinceHandlingDaily,
    SystemDaily,
    SystemIncidentDaily,
    UnitWorkDaily,
)
from reports.services import REPORT_LEVELS
from tickets.choices import BuiltinType
from tickets.models import RequestType, ServiceRequest

__all__ = ["Column", "Table", "REPORTS", "REQUESTS_KEY", "report_table", "report_root", "drill_path",
           "percentile_seconds"]

REQUESTS_KEY = "requests_behind"  # not a column key (the systems table has a "requests" column)


def _filed(f: ReportFilter, date_from: date | None = None, date_to: date | None = None, **more) -> dict[str, Any]:
    """The requests list's filters for "filed in the period" (and `more`)."""
    return {"date_from": (date_from or f.date_from).isoformat(), "date_to": (date_to or f.date_to).isoformat(), **more}

LEVEL_LABELS = {"county": _("County support centre"), "city": _("City support centre"),
                "province": _("Provincial operations"), "group": _("Support group")}
CHILD_KIND = {UnitKind.PROVINCE: UnitKind.CITY, UnitKind.CITY: UnitKind.COUNTY, UnitKind.COUNTY: UnitKind.OUTLET}


@dataclass
class Column:
    key: str
    label: Any
    kind: str = "int"  # text | int | dec | pct


@dataclass
class Table:
    slug: str
    title: Any
    columns: list[Column]
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None = None
    chart: dict[str, Any] = field(default_factory=dict)  # {"type", "x", "series": [keys]}
    note: Any = ""
    root: Unit | None = None
    # Rows (and the total row) may carry REQUESTS_KEY: {column key: filters of the request search}
    # in the search's own words (tickets.search.RequestSearchForm: date_from, date_to, unit = filed
    # under, type = code, system = id, open); only numbers that count filed or open requests carry them.

    def column_keys(self) -> list[str]:
        return [c.key for c in self.columns]


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _ratio(part: float, whole: float, scale: float = 1.0) -> float | None:
    return _r(part * scale / whole) if whole else None


def percentile_seconds(counts: list[int], p: float) -> int | None:
    """The upper edge of the histogram bucket holding the p-quantile (None: no data or beyond the
    last edge). Reports show it as "at most N hours"."""
    n = sum(counts)
    if not n:
        return None
    rank = max(1, math.ceil(p * n))
    seen = 0
    for i, c in enumerate(counts):
        seen += c
        if seen >= rank:
            return DURATION_BUCKETS[i] if i < len(DURATION_BUCKETS) else None
    return None


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else _r(seconds / 3600, 2)


# --- scope: which unit the reader looks at ----------------------------------------------------------

def report_root(user, unit_id: int | None) -> Unit:
    """The unit drilled into (default: the reader's own scope); PermissionDenied outside it."""
    roots = scoping.report_roots(user)
    if not roots:
        raise PermissionDenied(_("You have no statistics to read."))
    if unit_id is None:
        return sorted(roots, key=lambda u: u.depth)[0]
    unit = Unit.objects.filter(pk=unit_id, kind__in=[UnitKind.PROVINCE, *CHILD_KIND.values()]).first()
    if unit is None or not any(unit.is_inside(root) for root in roots):
        raise PermissionDenied(_("This unit is outside what you may see."))
    return unit


def drill_path(user, root: Unit) -> list[Unit]:
    """The breadcrumb from the reader's own scope down to `root`."""
    tops = scoping.report_roots(user)
    chain = list(root.ancestors())
    start = next((i for i, u in enumerate(chain) if any(u.pk == t.pk for t in tops)), len(chain) - 1)
    return chain[start:]


def _next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def range_q(date_from: date, date_to: date) -> Q:
    """Rows covering [date_from, date_to] exactly once: month rows for the whole months inside it,
    day rows for the days before the first and after the last whole month."""
    first = date_from if date_from.day == 1 else _next_month(date_from)
    months = []
    m = first
    while _next_month(m) - timedelta(days=1) <= date_to:
        months.append(m)
        m = _next_month(m)
    if not months:
        return Q(grain=DAY_GRAIN, day__gte=date_from, day__lte=date_to)
    end = _next_month(months[-1])
    q = Q(grain=MONTH_GRAIN, day__in=months)
    if date_from < first:
        q |= Q(grain=DAY_GRAIN, day__gte=date_from, day__lt=first)
    if end <= date_to:
        q |= Q(grain=DAY_GRAIN, day__gte=end, day__lte=date_to)
    return q


def _in_range(qs, f: ReportFilter, date_from: date | None = None, date_to: date | None = None, *,
              by_day: bool = False):
    date_from, date_to = date_from or f.date_from, date_to or f.date_to
    if by_day:
        return qs.filter(grain=DAY_GRAIN, day__gte=date_from, day__lte=date_to)
    return qs.filter(range_q(date_from, date_to))


def _under_root(qs, root: Unit):
    if root.kind == UnitKind.PROVINCE:
        return qs.filter(county__path__startswith=root.path) if root.depth else qs
    if root.kind == UnitKind.CITY:
        return qs.filter(city=root)
    if root.kind == UnitKind.COUNTY:
        return qs.filter(county=root)
    return qs.filter(outlet=root)


def _flow(user, root: Unit):
    """The request-flow rows that add up to `root`, the fewest there are: the city roll-up for the
    province and a city, a county's own rows, an outlet's own rows."""
    if root.kind == UnitKind.PROVINCE:
        qs = scoping.restrict(user, CityDaily.objects.all())
        return qs.filter(city__path__startswith=root.path) if root.depth else qs
    if root.kind == UnitKind.CITY:
        return scoping.restrict(user, CityDaily.objects.filter(city=root))
    if root.kind == UnitKind.COUNTY:
        return scoping.restrict(user, CountyDaily.objects.filter(county=root))
    return scoping.restrict(user, OutletDaily.objects.filter(outlet=root))


def _sums(qs, group: list[str], fields) -> dict[Any, dict[str, int]]:
    out: dict[Any, dict[str, int]] = {}
    for row in qs.values(*group).annotate(**{f"s_{n}": Sum(n) for n in fields}).order_by():
        key = tuple(row[g] for g in group) if len(group) != 1 else row[group[0]]
        out[key] = {n: row[f"s_{n}"] or 0 for n in fields}
    return out


def _add(into: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    for k, v in more.items():
        into[k] = into.get(k, 0) + (v or 0)
    return into


# --- per unit, with drill-down -------------------------------------------------------------------------

def _units_row(s: dict[str, int], level: str, backlog: dict[str, Any]) -> dict[str, Any]:
    closed = s.get("closed", 0)
    return {
        "sent": s.get("sent", 0),
        "received": s.get(f"received_{level}", 0),
        "answered": s.get(f"answered_{level}", 0),
        "escalated": s.get(f"escalated_{level}", 0),
        "returned": s.get(f"returned_{level}", 0),
        "closed": closed,
        "resolved_county_pct": _ratio(s.get("closed_county", 0), closed, 100),
        "resolved_city_pct": _ratio(s.get("closed_city", 0), closed, 100),
        "resolved_province_pct": _ratio(s.get("closed_province", 0), closed, 100),
        "mean_rating": _ratio(s.get("rating_sum", 0), s.get("rating_count", 0)),
        "backlog": backlog.get("count", 0),
        "backlog_mean_days": backlog.get("mean_days"),
        "backlog_oldest_days": backlog.get("oldest_days"),
    }


def _backlog(user, root: Unit, group_field: str) -> dict[Any, dict[str, Any]]:
    # Counts by origin under `root`, which report_root() has already checked against the reader's
    # scope (opsdesk.scoping.report_roots). Not restrict(): its "or held by my unit" branch would
    # turn this indexed read of the open requests into a scan of every request ever filed.
    qs = ServiceRequest.objects.open()
    if root.depth:
        qs = qs.filter(**{{UnitKind.CITY: "origin_city", UnitKind.COUNTY: "origin_county"}
                          .get(root.kind, "origin_unit"): root})
    # Counted in the database: at bank scale tens of thousands of requests are open at once. COUNT(*),
    # not of the key, so an index on the open requests' origin and filing time can answer it alone.
    now = timezone.now()
    age = ExpressionWrapper(Value(now, output_field=DateTimeField()) - F("created_at"), output_field=DurationField())
    out: dict[Any, dict[str, Any]] = {}
    count, age_sum, oldest = 0, 0.0, None
    for row in qs.values(group_field).annotate(n=Count("*"), mean=Avg(age), first=Min("created_at")).order_by():
        mean_days = row["mean"].total_seconds() / 86400
        oldest_days = (now - row["first"]).total_seconds() / 86400
        out[row[group_field]] = {"count": row["n"], "mean_days": _r(mean_days), "oldest_days": _r(oldest_days)}
        count, age_sum = count + row["n"], age_sum + mean_days * row["n"]
        oldest = oldest_days if oldest is None else max(oldest, oldest_days)
    out["__all__"] = {"count": count, "mean_days": _r(age_sum / count), "oldest_days": _r(oldest)} if count else {}
    return out


def units_table(user, f: ReportFilter) -> Table:
    root = report_root(user, f.unit_id)
    if root.kind == UnitKind.OUTLET:
        root = root.parent
    child_kind = CHILD_KIND.get(root.kind)
    if root.kind == UnitKind.PROVINCE:  # one row per city and day or month: the city roll-up
        qs, group, level, backlog_field = _flow(user, root), "city_id", "city", "origin_city_id"
    elif root.kind == UnitKind.CITY:
        qs, group, level, backlog_field = CountyDaily.objects.all(), "county_id", "county", "origin_county_id"
        qs = _under_root(scoping.restrict(user, qs), root)
    else:
        qs, group, level, backlog_field = OutletDaily.objects.all(), "outlet_id", "county", "origin_unit_id"
        qs = _under_root(scoping.restrict(user, qs), root)
    qs = _in_range(qs, f)
    sums = _sums(qs, [group], REQUEST_COUNTERS)
    backlog = _backlog(user, root, backlog_field)
    children = list(Unit.objects.filter(parent=root, kind=child_kind).order_by("code"))
    visible = set(scoping.visible_units(user).filter(pk__in=[c.pk for c in children]).values_list("pk", flat=True))
    rows, total = [], {}
    for unit in children:
        if unit.pk not in visible:
            continue
        s = sums.get(unit.pk, {})
        _add(total, s)
        rows.append({"unit_id": unit.pk, "unit": unit.name, "drill": child_kind != UnitKind.OUTLET,
                     **_units_row(s, level, backlog.get(unit.pk, {})),
                     REQUESTS_KEY: {"sent": _filed(f, unit=unit.pk), "backlog": {"open": "true", "unit": unit.pk}}})
    total_row = {"unit": _("Total"), **_units_row(total, level, backlog.get("__all__", {})),
                 REQUESTS_KEY: {"sent": _filed(f, unit=root.pk), "backlog": {"open": "true", "unit": root.pk}}}
    columns = [
        Column("unit", _("Unit"), "text"), Column("sent", _("Requests sent")), Column("received", _("Received")),
        Column("answered", _("Answered at this level")), Column("escalated", _("Escalated onward")),
        Column("returned", _("Returned")), Column("closed", _("Closed")),
        Column("resolved_county_pct", _("Resolved at county %"), "pct"),
        Column("resolved_city_pct", _("Resolved at city %"), "pct"),
        Column("resolved_province_pct", _("Resolved at province %"), "pct"),
        Column("mean_rating", _("Mean rating"), "dec"), Column("backlog", _("Open now")),
        Column("backlog_mean_days", _("Open: mean age (days)"), "dec"),
        Column("backlog_oldest_days", _("Open: oldest (days)"), "dec"),
    ]
    return Table("units", _("Requests per unit"), columns, rows, total_row, root=root,
                 chart={"type": "bar", "x": "unit", "series": ["sent", "answered", "escalated", "closed"]},
                 note=_("Sent, closed and the resolution shares count the requests that started under each unit; "
                        "received, answered, escalated and returned count the work of its support centre on "
                        "them (for an outlet: its county centre). Open now ignores the date range."))


# --- handling time per level and request type ------------------------------------------------------------

def handling_table(user, f: ReportFilter) -> Table:
    root = report_root(user, f.unit_id)
    if root.depth == 0:  # the whole province: its own small table
        qs = _in_range(scoping.restrict(user, ProvinceHandlingDaily.objects.all()), f)
    else:
        qs = _under_root(_in_range(scoping.restrict(user, HandlingDaily.objects.all()), f), root)
    fields = ["periods", "wait_seconds", "work_seconds", "sla_met", "sla_breached",
              *[f"wait_{i}" for i in range(BUCKET_COUNT)], *[f"work_{i}" for i in range(BUCKET_COUNT)]]
    sums = _sums(qs, ["level", "request_type_id"], fields)
    types = {t.pk: t for t in RequestType.objects.all()}

    def row(s: dict[str, int]) -> dict[str, Any]:
        n = s.get("periods", 0)
        wait = [s.get(f"wait_{i}", 0) for i in range(BUCKET_COUNT)]
        work = [s.get(f"work_{i}", 0) for i in range(BUCKET_COUNT)]
        judged = s.get("sla_met", 0) + s.get("sla_breached", 0)
        return {
            "periods": n,
            "wait_mean_h": _hours(s.get("wait_seconds", 0) / n) if n else None,
            "wait_median_h": _hours(percentile_seconds(wait, 0.5)),
            "wait_p90_h": _hours(percentile_seconds(wait, 0.9)),
            "work_mean_h": _hours(s.get("work_seconds", 0) / n) if n else None,
            "work_median_h": _hours(percentile_seconds(work, 0.5)),
            "work_p90_h": _hours(percentile_seconds(work, 0.9)),
            "sla_met": s.get("sla_met", 0), "sla_breached": s.get("sla_breached", 0),
            "sla_pct": _ratio(s.get("sla_met", 0), judged, 100),
        }

    rows, total = [], {}
    order = {lvl: i for i, lvl in enumerate(REPORT_LEVELS)}
    for (level, type_id), s in sorted(sums.items(), key=lambda kv: (
            order.get(kv[0][0], 9), getattr(types.get(kv[0][1]), "position", 0), kv[0][1])):
        _add(total, s)
        rtype = types.get(type_id)
        rows.append({"level": LEVEL_LABELS.get(level, level), "request_type": rtype.display_name if rtype else "",
                     "label": f"{LEVEL_LABELS.get(level, level)} · {rtype.display_name if rtype else ''}", **row(s)})
    columns = [
        Column("level", _("Level"), "text"), Column("request_type", _("Request type"), "text"),
        Column("periods", _("Holding periods")),
        Column("wait_mean_h", _("Waiting: mean (h)"), "dec"), Column("wait_median_h", _("Waiting: median ≤ (h)"), "dec"),
        Column("wait_p90_h", _("Waiting: 90th percentile ≤ (h)"), "dec"),
        Column("work_mean_h", _("Working: mean (h)"), "dec"), Column("work_median_h", _("Working: median ≤ (h)"), "dec"),
        Column("work_p90_h", _("Working: 90th percentile ≤ (h)"), "dec"),
        Column("sla_met", _("SLA met")), Column("sla_breached", _("SLA breached")),
        Column("sla_pct", _("SLA compliance %"), "pct"),
    ]
    return Table("handling", _("Handling time per level and request type"), columns, rows,
                 {"level": _("Total"), "request_type": "", **row(total)}, root=root,
                 chart={"type": "bar", "x": "label", "series": ["wait_median_h", "work_median_h"]},
                 note=_("A holding period runs from the moment a unit receives a request until it leaves that "
                        "unit. Waiting lasts until the unit's first action on it (taking it, or any step); "
                        "working is the rest. Medians and percentiles are the upper edge of the time band that "
                        "holds them. The SLA is the resolution target of the request type at that level."))


# --- people and groups -------------------------------------------------------------------------------------

WORK_COLUMNS = [
    Column("received", _("Received")), Column("handled", _("Handled")), Column("transitions", _("Steps made")),
    Column("transfers_in", _("Transfers in")), Column("transfers_out", _("Transfers out")),
    Column("held_hours", _("Time held (h)"), "dec"), Column("mean_held_hours", _("Mean time held (h)"), "dec"),
    Column("rating_count", _("Ratings")), Column("mean_rating", _("Mean rating"), "dec"),
]


def _work_row(s: dict[str, int]) -> dict[str, Any]:
    handled = s.get("handled", 0)
    return {
        "received": s.get("received", 0), "handled": handled, "transitions": s.get("transitions", 0),
        "transfers_in": s.get("transfers_in", 0), "transfers_out": s.get("transfers_out", 0),
        "held_hours": _hours(s.get("held_seconds", 0)),
        "mean_held_hours": _hours(s.get("held_seconds", 0) / handled) if handled else None,
        "rating_count": s.get("rating_count", 0), "mean_rating": _ratio(s.get("rating_sum", 0), s.get("rating_count", 0)),
    }


def people_table(user, f: ReportFilter) -> Table:
    root = report_root(user, f.unit_id)
    qs = _in_range(scoping.restrict(user, PersonDaily.objects.all()), f)
    if root.depth:
        qs = qs.filter(unit__path__startswith=root.path)
    sums = _sums(qs, ["person_id"], WORK_COUNTERS)
    people = {p.pk: p for p in User.objects.filter(pk__in=list(sums)).select_related("unit")}
    ranked = sorted(sums.items(), key=lambda kv: (-kv[1]["handled"], -kv[1]["transitions"], kv[0]))
    rows, total = [], {}
    for rank, (pk, s) in enumerate(ranked, start=1):
        _add(total, s)
        person = people.get(pk)
        rows.append({"rank": rank, "person": str(person) if person else pk,
                     "unit": str(person.unit) if person and person.unit else "", **_work_row(s)})
    columns = [Column("rank", _("Rank")), Column("person", _("Support person"), "text"), Column("unit", _("Unit"), "text"),
               *[c for c in WORK_COLUMNS if c.key != "received"]]
    return Table("people", _("Workload per person"), columns, rows,
                 {"rank": None, "person": _("Total"), "unit": "", **_work_row(total)}, root=root,
                 chart={"type": "bar", "x": "person", "series": ["handled", "transitions"], "limit": 20},
                 note=_("Handled: requests the person passed on or answered; time held: from the moment the "
                        "request reached the person's unit until the person passed it on. Ratings are credited "
                        "to who gave the answer. Ranked by requests handled."))


def groups_table(user, f: ReportFilter) -> Table:
    root = report_root(user, f.unit_id)
    qs = _in_range(scoping.restrict(user, UnitWorkDaily.objects.all()), f).filter(
        unit__kind__in=[UnitKind.SUPPORT_GROUP, UnitKind.OPERATIONS, UnitKind.CITY, UnitKind.COUNTY])
    if root.depth:
        qs = qs.filter(unit__path__startswith=root.path)
    sums = _sums(qs, ["unit_id"], WORK_COUNTERS)
    units = {u.pk: u for u in Unit.objects.filter(pk__in=list(sums))}
    kind_order = {UnitKind.SUPPORT_GROUP: 0, UnitKind.OPERATIONS: 1, UnitKind.CITY: 2, UnitKind.COUNTY: 3}
    ranked = sorted(sums.items(), key=lambda kv: (kind_order.get(units[kv[0]].kind, 9), -kv[1]["handled"],
                                                  units[kv[0]].code))
    rows, total = [], {}
    for pk, s in ranked:
        _add(total, s)
        unit = units[pk]
        rows.append({"unit": unit.name, "kind": unit.get_kind_display(), **_work_row(s)})
    columns = [Column("unit", _("Group or centre"), "text"), Column("kind", _("Kind"), "text"), *WORK_COLUMNS]
    return Table("groups", _("Workload per support group and centre"), columns, rows,
                 {"unit": _("Total"), "kind": "", **_work_row(total)}, root=root,
                 chart={"type": "bar", "x": "unit", "series": ["received", "handled", "transfers_in"]},
                 note=_("Received: requests that reached the unit; transfers in and out: between support groups."))


# --- production systems and incidents -----------------------------------------------------------------

def _province_only(user) -> None:
    if not any(r.depth == 0 for r in scoping.report_roots(user)):
        raise PermissionDenied(_("Production systems are reported for the whole province only."))


def systems_table(user, f: ReportFilter) -> Table:
    _province_only(user)
    qs = _in_range(scoping.restrict(user, SystemDaily.objects.all()), f)
    sums = defaultdict(lambda: {"fault_reports": 0, "other_requests": 0, "closed": 0})
    for row in qs.values("system_id", "request_type__code").annotate(s=Sum("sent"), c=Sum("closed")).order_by():
        s = sums[row["system_id"]]
        s["fault_reports" if row["request_type__code"] == BuiltinType.FAULT_REPORT else "other_requests"] += row["s"]
        s["closed"] += row["c"]
    incidents = _sums(_in_range(scoping.restrict(user, SystemIncidentDaily.objects.all()), f), ["system_id"],
                      ["opened"])
    systems = {s.pk: s for s in ProductionSystem.objects.all()}
    keys = sorted(set(sums) | {k for k in incidents if k}, key=lambda k: (
        -sums[k]["fault_reports"] if k in sums else 0, -(incidents.get(k, {}).get("opened", 0)), systems[k].code))
    rows, total = [], {"fault_reports": 0, "other_requests": 0, "closed": 0, "incidents": 0}
    for k in keys:
        s = sums.get(k, {"fault_reports": 0, "other_requests": 0, "closed": 0})
        row = {"system": systems[k].name, **s, "requests": s["fault_reports"] + s["other_requests"],
               "incidents": incidents.get(k, {}).get("opened", 0)}
        for name in total:
            total[name] += row[name]
        row[REQUESTS_KEY] = {"fault_reports": _filed(f, system=k, type=BuiltinType.FAULT_REPORT.value),
                             "requests": _filed(f, system=k)}
        rows.append(row)
    columns = [Column("system", _("Production system"), "text"), Column("fault_reports", _("Fault reports")),
               Column("other_requests", _("Other requests")), Column("requests", _("All requests")),
               Column("closed", _("Closed")), Column("incidents", _("Incidents opened"))]
    return Table("systems", _("Work per production system"), columns, rows,
                 {"system": _("Total"), **total, "requests": total["fault_reports"] + total["other_requests"],
                  REQUESTS_KEY: {"fault_reports": _filed(f, type=BuiltinType.FAULT_REPORT.value),
                                 "requests": _filed(f)}},
                 chart={"type": "bar", "x": "system", "series": ["fault_reports", "incidents"]},
                 note=_("Requests filed about each production system, and the incidents its hosts raised."))


def incidents_table(user, f: ReportFilter) -> Table:
    _province_only(user)
    qs = _in_range(scoping.restrict(user, IncidentDaily.objects.all()), f)
    sums = _sums(qs, ["system_id", "category", "severity"], INCIDENT_COUNTERS)
    systems = {s.pk: s for s in ProductionSystem.objects.all()}
    sev_rank = {s: i for i, s in enumerate(Severity.values)}

    def row(s: dict[str, int]) -> dict[str, Any]:
        return {"opened": s.get("opened", 0), "reopened": s.get("reopened", 0),
                "acknowledged": s.get("acknowledged", 0),
                "mtta_min": _ratio(s.get("ack_seconds", 0), s.get("acknowledged", 0), 1 / 60),
                "resolved": s.get("resolved", 0),
                "mttr_min": _ratio(s.get("resolve_seconds", 0), s.get("resolved", 0), 1 / 60)}

    rows, total = [], {}
    for (system_id, category, severity), s in sorted(sums.items(), key=lambda kv: (
            -kv[1]["opened"], systems[kv[0][0]].code if kv[0][0] in systems else "~", kv[0][1],
            sev_rank.get(kv[0][2], 9))):
        _add(total, s)
        name = systems[system_id].name if system_id in systems else str(_("Unknown system"))
        rows.append({"system": name, "category": Category(category).label if category in Category.values else category,
                     "severity": Severity(severity).label if severity in Severity.values else severity,
                     "label": name, **row(s)})
    columns = [Column("system", _("Production system"), "text"), Column("category", _("Category"), "text"),
               Column("severity", _("Severity"), "text"), Column("opened", _("Opened")),
               Column("reopened", _("Reopened")), Column("acknowledged", _("Acknowledged")),
               Column("mtta_min", _("Mean time to acknowledge (min)"), "dec"), Column("resolved", _("Resolved")),
               Column("mttr_min", _("Mean time to resolve (min)"), "dec")]
    return Table("incidents", _("Incidents by system, category and severity"), columns, rows,
                 {"system": _("Total"), "category": "", "severity": "", **row(total)},
                 chart={"type": "bar", "x": "label", "series": ["opened", "resolved"], "limit": 20},
                 note=_("Counted on the day each step happened; times run from the incident's (re)opening."))


# --- trends and comparison ---------------------------------------------------------------------------------

TREND_FIELDS = ("sent", "answered_county", "answered_city", "answered_province", "escalated_county",
                "escalated_city", "closed", "rating_count", "rating_sum")


def _periods(f: ReportFilter) -> list[date]:
    starts, d = [], f.date_from
    if f.grain == "week":
        d = d - timedelta(days=d.weekday())
    elif f.grain == "month":
        d = d.replace(day=1)
    while d <= f.date_to:
        starts.append(d)
        if f.grain == "day":
            d += timedelta(days=1)
        elif f.grain == "week":
            d += timedelta(days=7)
        else:
            d = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return starts


def _periods_end(start: date, grain: str) -> date:
    if grain == "day":
        return start
    if grain == "week":
        return start + timedelta(days=6)
    return _next_month(start) - timedelta(days=1)


def _trunc(grain: str):
    return {"week": TruncWeek("day"), "month": TruncMonth("day")}.get(grain)


def trends_table(user, f: ReportFilter) -> Table:
    root = report_root(user, f.unit_id)
    by_day = f.grain != "month"
    qs = _in_range(_flow(user, root), f, by_day=by_day)
    trunc = _trunc(f.grain)
    if trunc is not None:
        qs = qs.annotate(period=trunc)
    sums = _sums(qs, ["period" if trunc is not None else "day"], TREND_FIELDS)
    with_incidents = any(r.depth == 0 for r in scoping.report_roots(user)) and root.depth == 0
    incidents = {}
    if with_incidents:
        iqs = _in_range(scoping.restrict(user, SystemIncidentDaily.objects.all()), f, by_day=by_day)
        if trunc is not None:
            iqs = iqs.annotate(period=trunc)
        incidents = _sums(iqs, ["period" if trunc is not None else "day"], ["opened"])

    def norm(k):
        return k.date() if hasattr(k, "date") and callable(k.date) else k

    sums = {norm(k): v for k, v in sums.items()}
    incidents = {norm(k): v for k, v in incidents.items()}

    def row(s: dict[str, int], inc: int) -> dict[str, Any]:
        answered = s.get("answered_county", 0) + s.get("answered_city", 0) + s.get("answered_province", 0)
        out = {"sent": s.get("sent", 0), "answered": answered,
               "escalated": s.get("escalated_county", 0) + s.get("escalated_city", 0),
               "closed": s.get("closed", 0), "mean_rating": _ratio(s.get("rating_sum", 0), s.get("rating_count", 0))}
        if with_incidents:
            out["incidents"] = inc
        return out

    rows, total, total_inc = [], {}, 0
    for start in _periods(f):
        s = sums.get(start, {})
        inc = incidents.get(start, {}).get("opened", 0)
        _add(total, s)
        total_inc += inc
        end = min(f.date_to, _periods_end(start, f.grain))
        rows.append({"period": start.isoformat(), **row(s, inc),
                     REQUESTS_KEY: {"sent": _filed(f, max(start, f.date_from), end, unit=root.pk)}})
    columns = [Column("period", _("Period starting"), "text"), Column("sent", _("Requests sent")),
               Column("answered", _("Answered")), Column("escalated", _("Escalated")), Column("closed", _("Closed")),
               Column("mean_rating", _("Mean rating"), "dec")]
    series = ["sent", "answered", "closed"]
    if with_incidents:
        columns.append(Column("incidents", _("Incidents opened")))
        series.append("incidents")
    total_row = {"period": _("Total"), **row(total, total_inc), REQUESTS_KEY: {"sent": _filed(f, unit=root.pk)}}
    return Table("trends", _("Trends over time"), columns, rows, total_row,
                 root=root, chart={"type": "line", "x": "period", "series": series},
                 note=_("Answered counts answers given at any level; escalated counts every step up."))


def compare_table(user, f: ReportFilter) -> Table:
    root = report_root(user, f.unit_id)
    base = _flow(user, root)
    fields = REQUEST_COUNTERS
    a = _in_range(base, f).aggregate(**{n: Sum(n) for n in fields})
    b = _in_range(base, f, f.compare_from, f.compare_to).aggregate(**{n: Sum(n) for n in fields})
    # (label, value, unit of measure): the chart shows the counts only, never a share or a mean beside them.
    metrics: list[tuple[Any, Callable[[dict], float | None], str]] = [
        (_("Requests sent"), lambda s: s["sent"] or 0, "count"),
        (_("Escalated to the city"), lambda s: s["escalated_county"] or 0, "count"),
        (_("Escalated to the province"), lambda s: s["escalated_city"] or 0, "count"),
        (_("Answered"), lambda s: (s["answered_county"] or 0) + (s["answered_city"] or 0) + (s["answered_province"] or 0),
         "count"),
        (_("Returned"), lambda s: (s["returned_county"] or 0) + (s["returned_city"] or 0) + (s["returned_province"] or 0),
         "count"),
        (_("Closed"), lambda s: s["closed"] or 0, "count"),
        (_("Resolved at county %"), lambda s: _ratio(s["closed_county"] or 0, s["closed"] or 0, 100), "pct"),
        (_("Mean rating"), lambda s: _ratio(s["rating_sum"] or 0, s["rating_count"] or 0), "rating"),
    ]
    if any(r.depth == 0 for r in scoping.report_roots(user)) and root.depth == 0:
        iq = scoping.restrict(user, SystemIncidentDaily.objects.all())
        ia = _in_range(iq, f).aggregate(opened=Sum("opened"))
        ib = _in_range(iq, f, f.compare_from, f.compare_to).aggregate(opened=Sum("opened"))
        a["incidents"], b["incidents"] = ia["opened"] or 0, ib["opened"] or 0
        metrics.append((_("Incidents opened"), lambda s: s["incidents"], "count"))
    rows = []
    for label, fn, measure in metrics:
        va, vb = fn(a), fn(b)
        change = _r(va - vb, 2) if va is not None and vb is not None else None
        rows.append({"metric": label, "period": va, "compared": vb, "change": change,
                     "change_pct": _ratio(change, vb, 100) if change is not None and vb else None,
                     "measure": measure})
    rows[0][REQUESTS_KEY] = {"period": _filed(f, unit=root.pk),
                             "compared": _filed(f, f.compare_from, f.compare_to, unit=root.pk)}
    columns = [Column("metric", _("Measure"), "text"),
               Column("period", f"{f.date_from:%Y-%m-%d} – {f.date_to:%Y-%m-%d}", "dec"),
               Column("compared", f"{f.compare_from:%Y-%m-%d} – {f.compare_to:%Y-%m-%d}", "dec"),
               Column("change", pgettext_lazy("difference between two periods", "Change"), "dec"),
               Column("change_pct", pgettext_lazy("difference between two periods", "Change %"), "pct")]
    return Table("compare", _("Compare two periods"), columns, rows, None, root=root,
                 chart={"type": "bar", "x": "metric", "series": ["period", "compared"], "where": {"measure": "count"}},
                 note=_("The period to compare with defaults to the same number of days just before."))


REPORTS: dict[str, tuple[Any, Callable[[Any, ReportFilter], Table]]] = {
    "units": (_("Per unit"), units_table),
    "handling": (_("Handling time"), handling_table),
    "people": (_("Per person"), people_table),
    "groups": (_("Per group"), groups_table),
    "systems": (_("Per system"), systems_table),
    "incidents": (_("Incidents"), incidents_table),
    "trends": (_("Trends"), trends_table),
    "compare": (_("Compare periods"), compare_table),
}


def report_table(user, slug: str, f: ReportFilter) -> Table:
    """The report `slug` for `user`; KeyError for an unknown report, PermissionDenied outside scope."""
    return REPORTS[slug][1](user, f)
