"""Statistics a manager trusts: the date boxes show the range in force, "Change" reads 变更, a chart
never mixes counts with shares or means, and a number of requests opens the list behind it."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.reports.conftest import RANGE

pytestmark = pytest.mark.django_db


class _Page(HTMLParser):
    """The inputs' values, the chart's data and the links of the report table."""

    def __init__(self):
        super().__init__()
        self.inputs, self.links, self.headers = {}, [], []
        self._chart, self.chart, self._in_th, self._cell = False, "", False, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.inputs[a["name"]] = a.get("value", "")
        if tag == "script" and a.get("id") == "report-chart-data":
            self._chart = True
        if tag == "td":
            self._cell = a.get("data-col")
        if tag == "a" and "data-requests" in a:
            self.links.append((self._cell, a["href"]))
        self._in_th = tag == "th" or self._in_th

    def handle_endtag(self, tag):
        if tag == "script":
            self._chart = False
        if tag == "th":
            self._in_th = False

    def handle_data(self, data):
        if self._chart:
            self.chart += data
        if self._in_th and data.strip():
            self.headers.append(data.strip())


def read(client, url) -> _Page:
    response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:500]
    page = _Page()
    page.feed(response.content.decode())
    return page


def test_the_date_boxes_show_the_default_range(org, history, now, client):
    client.force_login(org.people["manager"])
    page = read(client, "/reports/")
    # The default: the 30 days up to today (NOW is 2026-11-06), shown, not left blank.
    assert page.inputs["date_from"] == "2026-10-08" and page.inputs["date_to"] == "2026-11-06"
    compare = read(client, "/reports/compare/")
    assert compare.inputs["compare_from"] == "2026-09-08" and compare.inputs["compare_to"] == "2026-10-07"
    chosen = read(client, "/reports/?date_from=2026-11-02")
    assert chosen.inputs["date_from"] == "2026-11-02" and chosen.inputs["date_to"] == "2026-11-06"


def test_change_reads_as_a_change_between_periods_and_the_chart_shows_counts_only(org, history, now, client):
    client.force_login(org.people["manager"])
    page = read(client, "/reports/compare/?date_from=2026-11-02&date_to=2026-11-05")
    assert "变更" in page.headers and "修改" not in page.headers
    chart = json.loads(page.chart)
    shown = [row["metric"] for row in chart["rows"]]
    # Shares (%) and means (rating) are in the table, never on the chart of counts.
    assert "发出" in shown and "县级解决率 %" not in shown and "平均满意度" not in shown
    assert all(row["measure"] == "count" for row in chart["rows"])


def _filters(href: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


def test_request_numbers_open_the_requests_behind_them(org, history, now, client):
    client.force_login(org.people["manager"])
    page = read(client, "/reports/?" + "&".join(f"{k}={v}" for k, v in RANGE.items()))
    links = {}
    for column, href in page.links:
        links.setdefault(column, []).append(href)
    city1 = _filters(links["sent"][0])
    assert city1 == {"date_from": "2026-11-02", "date_to": "2026-11-05", "unit": str(org.cities[0].pk)}
    assert urlsplit(links["sent"][0]).path == "/tickets/search/"
    assert _filters(links["backlog"][0]) == {"open": "true", "unit": str(org.cities[0].pk)}
    total = _filters(links["sent"][-1])
    assert total["unit"] == str(org.province.pk)
    # The list the link opens shows those requests: the three filed under city 1 in the range.
    response = client.get(links["sent"][0])
    assert response.status_code == 200
    html = response.content.decode()
    assert all(history[r].number in html for r in ("r1", "r2", "r4"))
    assert history["r3"].number not in html

    trends = read(client, "/reports/trends/?" + "&".join(f"{k}={v}" for k, v in RANGE.items()))
    day = [_filters(h) for c, h in trends.links if c == "sent"][0]
    assert day["date_from"] == day["date_to"] == "2026-11-02"
