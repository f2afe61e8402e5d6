"""The roll-ups (per city, per system) that the province and city pages read: kept current by the
workflow in each transition, equal to the sum of the rows they roll up, rebuilt from the audit
trail, and scoped like the rows they sum. On the hand-made history of conftest.py."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F, Sum

from opsdesk import scoping
from reports.models import (
    INCIDENT_COUNTERS,
    REQUEST_COUNTERS,
    CityDaily,
    CountyDaily,
    IncidentDaily,
    SystemIncidentDaily,
)
from tests.reports.test_figures import pick, table

pytestmark = pytest.mark.django_db

NOV = date(2026, 11, 1)


def _rows(model, keys, counters) -> dict[tuple, dict[str, int]]:
    return {tuple(r[k] for k in keys): {c: r[c] for c in counters}
            for r in model.objects.values(*keys, *counters)}


def _summed(model, keys, counters) -> dict[tuple, dict[str, int]]:
    rows = model.objects.values(*keys).annotate(**{c: Sum(c) for c in counters}).order_by()
    return {tuple(r[k] for k in keys): {c: r[c] for c in counters} for r in rows}


def assert_rollups_equal_their_parts() -> None:
    city_keys = ["grain", "day", "city_id"]
    assert _rows(CityDaily, city_keys, REQUEST_COUNTERS) == _summed(CountyDaily, city_keys, REQUEST_COUNTERS)
    system_keys = ["grain", "day", "system_id"]
    assert (_rows(SystemIncidentDaily, system_keys, INCIDENT_COUNTERS)
            == _summed(IncidentDaily, system_keys, INCIDENT_COUNTERS))


def test_rollups_equal_the_sum_of_their_parts_after_each_transition(org, history, now):
    assert_rollups_equal_their_parts()
    c1, c2 = org.cities
    month = {(r["city_id"]): (r["sent"], r["escalated_county"], r["closed"], r["rating_sum"])
             for r in CityDaily.objects.filter(grain="m", day=NOV).values()}
    # C1: R1, R2 and R4 filed, R2 escalated by its county, R1 (5) and R2 (3) confirmed; C2: R3 filed
    # and escalated, not closed.
    assert month == {c1.pk: (3, 1, 2, 8), c2.pk: (1, 1, 0, 0)}
    core = SystemIncidentDaily.objects.get(grain="m", day=NOV, system=org.systems[0])
    # core-db01 acknowledged after 10 min and resolved after 40; core-app01 resolved after 30.
    assert (core.opened, core.acknowledged, core.ack_seconds, core.resolved, core.resolve_seconds) == (
        2, 1, 600, 2, 4200)

    from tests.tickets.helpers import act

    act(history["r3"], "confirm", org.people["teller_other"], rating=4)  # Nov 6, in the city roll-up at once
    assert_rollups_equal_their_parts()
    nov6 = CityDaily.objects.get(grain="d", day=date(2026, 11, 6), city=c2)
    assert (nov6.closed, nov6.closed_city, nov6.rating_count, nov6.rating_sum) == (1, 1, 1, 4)
    assert CityDaily.objects.get(grain="m", day=NOV, city=c2).closed == 1


def test_rebuild_gives_the_same_rollups_and_check_finds_a_wrong_one(org, history, now):
    before = (_rows(CityDaily, ["grain", "day", "city_id"], REQUEST_COUNTERS),
              _rows(SystemIncidentDaily, ["grain", "day", "system_id"], INCIDENT_COUNTERS))
    CityDaily.objects.all().delete()
    SystemIncidentDaily.objects.all().delete()
    call_command("rebuild_report_summaries")
    after = (_rows(CityDaily, ["grain", "day", "city_id"], REQUEST_COUNTERS),
             _rows(SystemIncidentDaily, ["grain", "day", "system_id"], INCIDENT_COUNTERS))
    assert after == before and before[0] and before[1]
    assert_rollups_equal_their_parts()
    call_command("rebuild_report_summaries", "--check")
    CityDaily.objects.filter(grain="m").update(sent=F("sent") + 1)
    SystemIncidentDaily.objects.filter(grain="d", system=org.systems[0]).update(resolved=F("resolved") + 1)
    with pytest.raises(CommandError, match="CityDaily 2 rows, SystemIncidentDaily 2 rows"):
        call_command("rebuild_report_summaries", "--check")


def test_city_rollup_is_read_only_by_who_sees_the_whole_city(org, history, now):
    p = org.people
    c1, c2 = org.cities

    def cities(person):
        return set(scoping.restrict(person, CityDaily.objects.all()).values_list("city_id", flat=True))

    assert cities(p["manager"]) == cities(p["dispatcher"]) == {c1.pk, c2.pk}
    assert cities(p["city_manager"]) == cities(p["city"]) == {c1.pk}
    # A county centre sees its own county's rows, never the sum over its neighbours.
    assert cities(p["county"]) == set() and cities(p["teller"]) == set() and cities(p["member"]) == set()
    assert scoping.restrict(p["county"], SystemIncidentDaily.objects.all()).count() == 0
    assert scoping.restrict(p["dispatcher"], SystemIncidentDaily.objects.all()).count() > 0


def test_city_and_county_trends_and_comparison_read_the_same_figures(org, history, now):
    c1, k1 = org.cities[0], org.counties[0]
    keys = ("period", "sent", "answered", "escalated", "closed", "mean_rating")
    by_city = table(org.people["city_manager"], "trends", grain="day")  # the city roll-up
    by_county = table(org.people["manager"], "trends", grain="day", unit=str(k1.pk))  # K1's own rows
    # Everything C1 filed came from K1 (teller1's outlet), so the two agree row for row.
    assert pick(by_city.rows, *keys) == pick(by_county.rows, *keys) == [
        ("2026-11-02", 2, 1, 1, 1, 5.0),
        ("2026-11-03", 1, 0, 1, 0, None),  # R4 filed; R2 escalated by the city (R3's answer is C2's)
        ("2026-11-04", 0, 1, 0, 0, None),
        ("2026-11-05", 0, 0, 0, 1, 3.0),
    ]
    assert by_city.root == c1 and "incidents" not in by_city.rows[0]
    c = table(org.people["city_manager"], "compare", compare_from="2026-11-02", compare_to="2026-11-02")
    assert pick(c.rows, "period", "compared")[:2] == [(3, 2), (1, 1)]  # sent; escalated to the city
    county_view = table(org.people["county"], "trends", grain="week")
    assert pick(county_view.rows, "period", "sent", "closed") == [("2026-11-02", 3, 2)]


def test_incidents_on_hosts_outside_the_catalogue_count_in_one_row(org, now):
    # No system: the summary key holds NULL, and NULLs must still meet in one row per day (not a
    # new row per incident).
    from alerts import services as alert_services
    from tests.reports.conftest import _alert

    for host in ("unknown-01", "unknown-02", "unknown-03"):
        alert_services.ingest_alerts(alerts=[_alert(host, "disk", "major", "os", "problem")], raw=host.encode())
    [row] = IncidentDaily.objects.filter(grain="d", system=None)
    assert (row.category, row.severity, row.opened) == ("os", "major", 3)
    [total] = SystemIncidentDaily.objects.filter(grain="m", system=None)
    assert total.opened == 3
    assert_rollups_equal_their_parts()
