"""Who reads which statistics, bad input, the downloads and the API, and the rebuild from the audit
trail: all on the hand-made history of conftest.py."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F
from openpyxl import load_workbook

from reports.models import CountyDaily, HandlingDaily, IncidentDaily, OutletDaily, PersonDaily

pytestmark = pytest.mark.django_db

QUERY = "date_from=2026-11-02&date_to=2026-11-05"


def test_province_manager_page_shows_the_table_in_chinese(client, org, history, now):
    client.force_login(org.people["manager"])
    page = client.get(f"/reports/?{QUERY}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "各单位服务请求" in text and "地市1" in text and "地市2" in text and "合计" in text
    assert 'src="/static/reports/charts.js"' in text  # served by the desk itself, no CDN
    for slug in ("handling", "people", "groups", "systems", "incidents", "trends", "compare"):
        assert client.get(f"/reports/{slug}/?{QUERY}").status_code == 200, slug


def test_city_manager_sees_only_its_city(client, org, history, now):
    client.force_login(org.people["city_manager"])
    page = client.get(f"/reports/?{QUERY}")
    text = page.content.decode()
    assert page.status_code == 200 and "县1" in text and "地市2" not in text
    assert client.get(f"/reports/?{QUERY}&unit={org.cities[1].pk}").status_code == 403
    assert client.get(f"/reports/export.csv?{QUERY}&unit={org.cities[1].pk}").status_code == 404
    assert client.get(f"/reports/units/export.csv?{QUERY}&unit={org.cities[1].pk}").status_code == 403
    # Production systems and incidents are province-wide figures.
    assert client.get(f"/reports/systems/?{QUERY}").status_code == 403


def test_people_without_statistics_are_refused(client, api_client_for, org, history, now):
    for who in ("teller", "member", "operator"):
        client.force_login(org.people[who])
        assert client.get("/reports/").status_code == 403, who
        assert api_client_for(org.people[who]).get("/api/reports/units/").status_code == 403, who
    client.logout()
    assert client.get("/reports/").status_code == 302  # to the login page


def test_bad_filters_get_a_clear_error(client, api_client_for, org, history, now):
    client.force_login(org.people["manager"])
    page = client.get("/reports/?date_from=2026-11-05&date_to=2026-11-02")
    assert page.status_code == 400 and "开始日期不能晚于结束日期。" in page.content.decode()
    assert client.get("/reports/?date_from=yesterday").status_code == 400
    assert client.get("/reports/?date_from=2020-01-01&date_to=2026-01-01").status_code == 400
    assert client.get("/reports/?unit=abc").status_code == 400
    assert client.get("/reports/?unit=999999").status_code == 403
    assert client.get("/reports/nonsense/").status_code == 404
    assert client.get(f"/reports/units/export.pdf?{QUERY}").status_code == 404
    bad = client.get("/reports/units/export.csv?date_from=2026-11-05&date_to=2026-11-02")
    assert bad.status_code == 400 and "开始日期不能晚于结束日期。" in bad.content.decode()
    api = api_client_for(org.people["manager"])
    answer = api.get("/api/reports/units/?date_from=2026-11-05&date_to=2026-11-02")
    assert answer.status_code == 400 and "开始日期不能晚于结束日期。" in str(answer.json())
    assert api.get("/api/reports/nonsense/").status_code == 404
    assert api.get("/api/reports/units/?compare_from=2026-11-01").status_code == 400


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_csv_and_xlsx_hold_the_same_numbers(client, org, history, now):
    client.force_login(org.people["manager"])
    rows = _csv_rows(client.get(f"/reports/export.csv?{QUERY}").content if False else
                     client.get(f"/reports/units/export.csv?{QUERY}").content)
    assert rows[0][:4] == ["单位", "发出", "收到", "本级答复"]
    assert rows[1][:8] == ["地市1", "3", "1", "0", "1", "0", "2", "50.0"]
    assert rows[-1][:2] == ["合计", "4"]
    response = client.get(f"/reports/units/export.xlsx?{QUERY}&unit={org.cities[0].pk}")
    assert response["Content-Disposition"].startswith('attachment; filename="opsdesk-units-20261102-20261105')
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][:10] == ["县1", 3, 3, 1, 1, 0, 2, 50, 0, 50]
    assert values[2][:7] == ["县2", 0, 0, 0, 0, 0, 0]
    for slug in ("handling", "people", "groups", "systems", "incidents", "trends", "compare"):
        for fmt in ("csv", "xlsx"):
            assert client.get(f"/reports/{slug}/export.{fmt}?{QUERY}").status_code == 200, (slug, fmt)


def test_api_returns_the_same_tables(api_client_for, org, history, now):
    api = api_client_for(org.people["manager"])
    listing = api.get("/api/reports/").json()
    assert [r["name"] for r in listing] == ["units", "handling", "people", "groups", "systems", "incidents",
                                            "trends", "compare"]
    data = api.get(f"/api/reports/units/?{QUERY}&unit={org.cities[0].pk}").json()
    assert data["unit"] == {"id": org.cities[0].pk, "name": "地市1", "kind": "city"}
    assert [(r["unit"], r["unit_id"], r["sent"], r["answered"], r["resolved_county_pct"]) for r in data["rows"]] == [
        ("县1", org.counties[0].pk, 3, 1, 50.0), ("县2", org.counties[1].pk, 0, 0, None)]
    people = api.get(f"/api/reports/people/?{QUERY}").json()
    assert [r["handled"] for r in people["rows"]] == [3, 3, 3, 2, 2, 2, 1]
    city = api_client_for(org.people["city_manager"])
    assert city.get(f"/api/reports/units/?{QUERY}&unit={org.cities[1].pk}").status_code == 403
    assert city.get(f"/api/reports/incidents/?{QUERY}").status_code == 403
    assert [r["unit"] for r in city.get(f"/api/reports/units/?{QUERY}").json()["rows"]] == ["县1", "县2"]


def test_rebuild_from_the_audit_trail_gives_the_same_summaries(org, history, now):
    call_command("rebuild_report_summaries", "--check")  # the live tables agree with the audit trail
    before = {m.__name__: sorted(m.objects.values_list("day", "sent", "closed", "rating_sum"))
              for m in (CountyDaily, OutletDaily)}
    CountyDaily.objects.all().delete()
    PersonDaily.objects.all().delete()
    call_command("rebuild_report_summaries")
    after = {m.__name__: sorted(m.objects.values_list("day", "sent", "closed", "rating_sum"))
             for m in (CountyDaily, OutletDaily)}
    assert after == before and PersonDaily.objects.count() > 0
    call_command("rebuild_report_summaries", "--check")
    HandlingDaily.objects.filter(level="city").update(periods=F("periods") + 1)
    IncidentDaily.objects.update(opened=F("opened") + 5)
    with pytest.raises(CommandError, match="HandlingDaily 6 rows, IncidentDaily 4 rows"):
        call_command("rebuild_report_summaries", "--check")


def test_reports_stay_current_with_each_transition(org, history, now, api_client_for):
    """No nightly job: a step taken now shows at once."""
    from tests.tickets.helpers import act

    api = api_client_for(org.people["manager"])
    before = api.get("/api/reports/units/?date_from=2026-11-06&date_to=2026-11-06").json()["total"]
    assert (before["sent"], before["closed"]) == (0, 0)
    act(history["r3"], "confirm", org.people["teller_other"], rating=4)
    after = api.get("/api/reports/units/?date_from=2026-11-06&date_to=2026-11-06").json()
    assert (after["total"]["closed"], after["total"]["resolved_city_pct"], after["total"]["mean_rating"]) == (
        1, 100.0, 4.0)
    assert after["total"]["backlog"] == 1  # only R4 still open
