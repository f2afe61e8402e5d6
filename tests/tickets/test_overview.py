"""The dispatcher's overview (调度员): everything out with the support groups, by group, with how long
each request has been with its group, the longest waiting first."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.tickets.helpers import act, file_fault_report
from tickets import selectors
from tickets.models import ServiceRequest

pytestmark = pytest.mark.django_db


def out_with_group(org, subject: str, group, *, hours_ago: int) -> ServiceRequest:
    p = org.people
    request = file_fault_report(org, subject=subject)
    act(request, "escalate", p["county"], "上送")
    act(request, "escalate", p["city"], "上送")
    act(request, "dispatch", p["dispatcher"], group=group)
    # How long it has been there: the time the group received it.
    ServiceRequest.objects.filter(pk=request.pk).update(held_since=timezone.now() - timedelta(hours=hours_ago))
    return request


@pytest.fixture
def out(org):
    return {
        "recent": out_with_group(org, "网银登录慢", org.groups[0], hours_ago=1),
        "oldest": out_with_group(org, "核心记账失败", org.groups[0], hours_ago=30),
        "other_group": out_with_group(org, "报表缺失", org.groups[1], hours_ago=5),
    }


def test_the_dispatcher_sees_each_group_with_its_longest_waiting_first(org, client, out):
    file_fault_report(org, subject="还在县里")  # not out with a group: not listed
    client.force_login(org.people["dispatcher"])
    body = client.get("/tickets/overview/").content.decode()
    assert "在支持小组处" in body
    sections = re.findall(r'<section class="group-load" data-group="(\d+)">\s*<h2>([^<]+) <span class="count">([^<]+)'
                          r"</span>", body)
    assert [(name, count) for _pk, name, count in sections] == [("支持小组1", "2 条请求"), ("支持小组2", "1 条请求")]
    first_group = body[body.index(f'data-group="{org.groups[0].pk}"'):body.index(f'data-group="{org.groups[1].pk}"')]
    assert first_group.index(out["oldest"].number) < first_group.index(out["recent"].number)
    assert re.search(r"1\s日，6\s小时", first_group) and "还在县里" not in body
    # The overview is in the dispatcher's navigation.
    assert 'data-nav="tickets:overview"' in body


def test_the_overview_in_the_api(org, api_client_for, out):
    body = api_client_for(org.people["dispatcher"]).get("/api/requests/overview/").json()
    assert [(g["group"]["code"], g["count"]) for g in body] == [("G1", 2), ("G2", 1)]
    assert [r["id"] for r in body[0]["longest_waiting"]] == [out["oldest"].pk, out["recent"].pk]
    assert body[0]["longest_waiting"][0]["waiting_seconds"] >= 30 * 3600


def test_only_the_provincial_centre_oversees_the_groups(org, client, api_client_for, out):
    for who in ("teller", "county", "member"):
        client.force_login(org.people[who])
        assert client.get("/tickets/overview/").status_code == 403
    # The API answers with what the person may see: a group member, their own group's requests.
    body = api_client_for(org.people["member_other"]).get("/api/requests/overview/").json()
    assert [(g["group"]["code"], g["count"]) for g in body] == [("G2", 1)]
    assert api_client_for(org.people["teller_other"]).get("/api/requests/overview/").json() == []


def test_each_group_shows_its_longest_waiting_first_and_counts_them_all(org, out):
    """The first `per_group` of each group (one pass numbers them), each group's full count."""
    also = out_with_group(org, "柜面签到失败", org.groups[0], hours_ago=10)
    loads = selectors.requests_with_groups(user=org.people["dispatcher"], per_group=2)
    assert [(load.group.code, load.count, [r.pk for r in load.longest_waiting]) for load in loads] == [
        ("G1", 3, [out["oldest"].pk, also.pk]), ("G2", 1, [out["other_group"].pk])]
    # A group member: their own group's requests, counted among those alone.
    loads = selectors.requests_with_groups(user=org.people["member"], per_group=1)
    assert [(load.group.code, load.count, [r.pk for r in load.longest_waiting]) for load in loads] == [
        ("G1", 3, [out["oldest"].pk])]
