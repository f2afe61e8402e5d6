"""Every report's figures on the hand-made history of conftest.py, whose right answers are written
out here (worked by hand from the timeline in conftest.py)."""

from __future__ import annotations

import pytest

from alerts.choices import Category, Severity
from reports.forms import ReportFilterForm
from reports.selectors import report_table
from tests.reports.conftest import RANGE

pytestmark = pytest.mark.django_db


def table(user, slug, **params):
    form = ReportFilterForm({**RANGE, **params})
    assert form.is_valid(), form.errors
    return report_table(user, slug, form.cleaned_data["filter"])


def pick(rows, *keys):
    return [tuple(r[k] for k in keys) for r in rows]


UNIT_KEYS = ("unit", "sent", "received", "answered", "escalated", "returned", "closed", "resolved_county_pct",
             "resolved_city_pct", "resolved_province_pct", "mean_rating", "backlog", "backlog_mean_days",
             "backlog_oldest_days")


def test_units_province_city_county(org, history, now):
    manager = org.people["manager"]
    t = table(manager, "units")
    assert pick(t.rows, *UNIT_KEYS) == [
        # C1: R1, R2, R4. The city escalated R2; closed R1 (county answer) and R2 (group answer); R4 open 3 days.
        ("地市1", 3, 1, 0, 1, 0, 2, 50.0, 0.0, 50.0, 4.0, 1, 3.0, 3.0),
        # C2: R3, escalated into the city, answered there twice (rejected once), still open since Nov 2 10:00.
        ("地市2", 1, 1, 2, 0, 1, 0, None, None, None, None, 1, 4.0, 4.0),
    ]
    assert pick([t.total], *UNIT_KEYS) == [("合计", 4, 2, 2, 1, 1, 2, 50.0, 0.0, 50.0, 4.0, 2, 3.5, 4.0)]

    city = table(manager, "units", unit=org.cities[0].pk)
    assert pick(city.rows, *UNIT_KEYS) == [
        ("县1", 3, 3, 1, 1, 0, 2, 50.0, 0.0, 50.0, 4.0, 1, 3.0, 3.0),
        ("县2", 0, 0, 0, 0, 0, 0, None, None, None, None, 0, None, None),
    ]
    county = table(manager, "units", unit=org.counties[0].pk)
    assert pick(county.rows, *UNIT_KEYS) == [
        ("网点1", 3, 3, 1, 1, 0, 2, 50.0, 0.0, 50.0, 4.0, 1, 3.0, 3.0),
        ("网点2", 0, 0, 0, 0, 0, 0, None, None, None, None, 0, None, None),
    ]


HANDLING_KEYS = ("level", "request_type", "periods", "wait_mean_h", "wait_median_h", "wait_p90_h", "work_mean_h",
                 "work_median_h", "work_p90_h", "sla_met", "sla_breached", "sla_pct")


def test_handling_times_per_level_and_type(org, history, now):
    t = table(org.people["manager"], "handling")
    assert pick(t.rows, *HANDLING_KEYS) == [
        # County, fault reports: R1 (waits 30 min for the claim, works 30 min), R2 up (3 h 50 min),
        # R2 passing down (1 h). Median wait 1 h; the 3 h 50 min falls in the band up to 4 h.
        ("县级支持中心", "故障报告", 3, 1.78, 1.0, 4.0, 0.17, 0.08, 0.5, 3, 0, 100.0),
        # County, business consultation R3: 2 h up, then 1 h and 1 h passing answers down.
        ("县级支持中心", "业务咨询", 3, 1.33, 1.0, 2.0, 0.0, 0.08, 0.08, 3, 0, 100.0),
        # County, operation consultation R4: 1 h until it asked the teller for information.
        ("县级支持中心", "操作咨询", 1, 1.0, 1.0, 1.0, 0.0, 0.08, 0.08, 1, 0, 100.0),
        # City, fault report R2: 20 h overnight (breach), 1 h passing down.
        ("地市级支持中心", "故障报告", 2, 10.5, 1.0, 24.0, 0.0, 0.08, 0.08, 1, 1, 50.0),
        # City, business consultation R3: 2 h, then 18 h after the teller rejected (breach).
        ("地市级支持中心", "业务咨询", 2, 10.0, 2.0, 24.0, 0.0, 0.08, 0.08, 1, 1, 50.0),
        # Province operations, R2: three holds of 1 h (dispatch, return for rework, approve).
        ("省中心运维", "故障报告", 3, 1.0, 1.0, 1.0, 0.0, 0.08, 0.08, 3, 0, 100.0),
        # Groups, R2: G1 1 h, G2 4 h, G2 again 18 h after the rework request (breach).
        ("支持小组", "故障报告", 3, 7.67, 4.0, 24.0, 0.0, 0.08, 0.08, 2, 1, 66.7),
    ]
    assert (t.total["periods"], t.total["sla_met"], t.total["sla_breached"], t.total["sla_pct"]) == (17, 14, 3, 82.4)


PEOPLE_KEYS = ("rank", "person", "handled", "transitions", "transfers_in", "transfers_out", "held_hours",
               "mean_held_hours", "rating_count", "mean_rating")


def test_people_ranking(org, history, now):
    p = org.people
    t = table(p["manager"], "people")
    name = {k: str(v) for k, v in p.items()}
    assert pick(t.rows, *PEOPLE_KEYS) == [
        (1, name["county"], 3, 5, 0, 0, 5.83, 1.94, 1, 5.0),
        (2, name["county_other"], 3, 3, 0, 0, 4.0, 1.33, 0, None),
        (3, name["dispatcher"], 3, 3, 0, 0, 3.0, 1.0, 0, None),
        (4, name["city"], 2, 2, 0, 0, 21.0, 10.5, 0, None),
        (5, name["city_other"], 2, 2, 0, 0, 20.0, 10.0, 0, None),
        (6, name["member_other"], 2, 2, 1, 0, 22.0, 11.0, 1, 3.0),
        (7, name["member"], 1, 1, 0, 1, 1.0, 1.0, 0, None),
    ]
    # A city manager sees only the people of the city and its counties and outlets.
    c = table(p["city_manager"], "people")
    assert [r["person"] for r in c.rows] == [name["county"], name["city"]]


GROUP_KEYS = ("unit", "received", "handled", "transitions", "transfers_in", "transfers_out", "held_hours",
              "rating_count", "mean_rating")


def test_groups_and_centres(org, history, now):
    t = table(org.people["manager"], "groups")
    assert pick(t.rows, *GROUP_KEYS) == [
        ("支持小组2", 2, 2, 2, 1, 0, 22.0, 1, 3.0),
        ("支持小组1", 1, 1, 1, 0, 1, 1.0, 0, None),
        ("运维部", 3, 3, 3, 0, 0, 3.0, 0, None),
        ("地市1", 2, 2, 2, 0, 0, 21.0, 0, None),
        ("地市2", 2, 2, 2, 0, 0, 20.0, 0, None),
        ("县1", 5, 3, 5, 0, 0, 5.83, 1, 5.0),
        ("县4", 3, 3, 3, 0, 0, 4.0, 0, None),
    ]


def test_systems_and_incidents(org, history, now):
    manager = org.people["manager"]
    t = table(manager, "systems")
    assert pick(t.rows, "system", "fault_reports", "other_requests", "requests", "closed", "incidents") == [
        ("核心系统", 2, 0, 2, 2, 2)]
    i = table(manager, "incidents")
    assert pick(i.rows, "system", "category", "severity", "opened", "reopened", "acknowledged", "mtta_min",
                "resolved", "mttr_min") == [
        ("核心系统", str(Category.APP_PROCESS.label), str(Severity.MAJOR.label), 1, 0, 0, None, 1, 30.0),
        ("核心系统", str(Category.DB.label), str(Severity.CRITICAL.label), 1, 0, 1, 10.0, 1, 40.0),
    ]
    assert (i.total["opened"], i.total["mtta_min"], i.total["mttr_min"]) == (2, 10.0, 35.0)


def test_trends_by_day_and_comparison(org, history, now):
    manager = org.people["manager"]
    t = table(manager, "trends", grain="day")
    assert pick(t.rows, "period", "sent", "answered", "escalated", "closed", "mean_rating", "incidents") == [
        ("2026-11-02", 3, 2, 2, 1, 5.0, 1),
        ("2026-11-03", 1, 1, 1, 0, None, 1),
        ("2026-11-04", 0, 1, 0, 0, None, 0),
        ("2026-11-05", 0, 0, 0, 1, 3.0, 0),
    ]
    week = table(manager, "trends", grain="week")
    assert pick(week.rows, "period", "sent", "answered", "escalated", "closed", "incidents") == [
        ("2026-11-02", 4, 4, 3, 2, 2)]
    c = table(manager, "compare", compare_from="2026-11-02", compare_to="2026-11-02")
    assert pick(c.rows, "period", "compared", "change", "change_pct") == [
        (4, 3, 1, 33.3),          # sent
        (2, 2, 0, 0.0),           # escalated to the city: R3 and R2, both on Nov 2
        (1, 0, 1, None),          # escalated to the province
        (4, 2, 2, 100.0),         # answered
        (2, 1, 1, 100.0),         # returned: R3 rejected on Nov 2, R2 returned for rework on Nov 3
        (2, 1, 1, 100.0),         # closed
        (50.0, 100.0, -50.0, -50.0),  # resolved at county %
        (4.0, 5.0, -1.0, -20.0),  # mean rating
        (2, 1, 1, 100.0),         # incidents opened
    ]


def test_whole_months_read_from_month_rows_give_the_same_figures(org, history, now):
    """A range over whole months reads the month rows (and the day rows only at its ragged ends)."""
    manager = org.people["manager"]
    days = table(manager, "units")
    for date_from, date_to in (("2026-11-01", "2026-11-30"), ("2026-10-15", "2026-12-10"),
                               ("2026-10-01", "2026-11-03")):
        other = table(manager, "units", date_from=date_from, date_to=date_to)
        if date_to == "2026-11-03":  # only Nov 2–3 of the history: R1–R4 filed, R1 closed
            assert pick([other.total], "sent", "closed", "mean_rating") == [(4, 1, 5.0)]
        else:
            assert pick(other.rows, *UNIT_KEYS) == pick(days.rows, *UNIT_KEYS), (date_from, date_to)
        handling = table(manager, "handling", date_from=date_from, date_to=date_to)
        assert handling.total["periods"] == (13 if date_to == "2026-11-03" else 17)  # 5 end on Nov 2, 8 on Nov 3
    months = table(manager, "trends", grain="month", date_from="2026-10-01", date_to="2026-11-30")
    assert pick(months.rows, "period", "sent", "answered", "escalated", "closed", "incidents") == [
        ("2026-10-01", 0, 0, 0, 0, 0), ("2026-11-01", 4, 4, 3, 2, 2)]
