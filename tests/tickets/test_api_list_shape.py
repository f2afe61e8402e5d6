"""The written-out representations (tickets/api/serializers.py: the request list, the detail, the
timeline) answer exactly what DRF's generic field walk over the declared fields answers, for requests in
every shape a list shows: just filed, claimed by a person, answered, closed with a rating; and the list a
teller reads says so."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from tests.tickets.helpers import act, file_fault_report, fresh
from tickets.api.serializers import (
    RequestEventSerializer,
    ServiceRequestDetailSerializer,
    ServiceRequestListSerializer,
)
from tickets.models import RequestEvent, ServiceRequest
from tickets.selectors import DETAIL_RELATED, LIST_VALUES

pytestmark = pytest.mark.django_db


def shapes(org) -> list[ServiceRequest]:
    p = org.people
    filed = file_fault_report(org, subject="刚提交")
    claimed = file_fault_report(org, subject="已认领")
    act(claimed, "claim", p["county"])
    closed = file_fault_report(org, subject="已评价")
    for who, name, extra in (("county", "answer", {"comment": "已处理"}), ("teller", "confirm", {"rating": 2})):
        act(closed, name, p[who], extra.pop("comment", ""), **extra)
    answered = file_fault_report(org, subject="已答复")
    act(answered, "answer", p["county"], "请重试")
    return [fresh(r) for r in (filed, claimed, closed, answered)]


def test_each_shape_is_what_the_generic_walk_gives(org, rf):
    found = ServiceRequest.objects.filter(pk__in=[r.pk for r in shapes(org)]).order_by("pk")
    rows = list(found.select_related("request_type", "holder_unit", "origin_unit", "assignee"))
    values = list(found.values(*LIST_VALUES))  # what a page of the API's list reads
    serializer = ServiceRequestListSerializer(context={"request": rf.get("/")})
    for row, row_values in zip(rows, values, strict=True):
        walked = serializers.Serializer.to_representation(serializer, row)
        assert serializer.to_representation(row) == walked
        assert serializer.to_representation(row_values) == walked
    closed = next(r for r in rows if r.subject == "已评价")
    claimed = next(r for r in rows if r.subject == "已认领")
    assert serializer.to_representation(closed)["rating_label"] == str(closed.get_rating_display())
    assert serializer.to_representation(claimed)["assignee"]["username"] == org.people["county"].username


def test_a_tellers_list_shows_state_rating_and_holder(org, api_client_for):
    shapes(org)
    body = api_client_for(org.people["teller"]).get("/api/requests/?mine=true").json()
    by_subject = {r["subject"]: r for r in body["results"]}
    assert set(by_subject) == {"刚提交", "已认领", "已评价", "已答复"}
    assert by_subject["已评价"]["state"] == "closed" and by_subject["已评价"]["rating"] == 2
    assert by_subject["已评价"]["rating_label"] and by_subject["刚提交"]["rating_label"] is None
    assert by_subject["刚提交"]["holder_unit"]["code"] == org.people["county"].unit.code
    assert by_subject["刚提交"]["created_at"].endswith(("Z", "+08:00"))


def test_each_detail_is_what_the_generic_walk_gives(org, rf):
    found = ServiceRequest.objects.filter(pk__in=[r.pk for r in shapes(org)]).order_by("pk")
    for person in ("teller", "county"):
        request = rf.get("/")
        request.user = org.people[person]
        serializer = ServiceRequestDetailSerializer(context={"request": request})
        for row in found.select_related(*DETAIL_RELATED):
            shown = serializer.to_representation(row)
            assert shown == serializers.Serializer.to_representation(serializer, row)
            assert [e["name"] for e in shown["timeline"]][0] == "submit"
    assert any(serializer.to_representation(row)["allowed_transitions"] for row in found)


@pytest.mark.parametrize(("display_name", "first_name", "last_name", "shown"), [
    ("王小明（营业部）", "小明", "王", "王小明（营业部）"), ("", "小明", "王", "小明 王"), ("", "", "", None)])
def test_the_assignee_is_named_in_a_list_as_everywhere_else(org, api_client_for, display_name, first_name,
                                                            last_name, shown):
    county = org.people["county"]
    people = type(county).objects
    people.filter(pk=county.pk).update(display_name=display_name, first_name=first_name, last_name=last_name)
    act(file_fault_report(org, subject="已认领"), "claim", county)
    body = api_client_for(org.people["teller"]).get("/api/requests/?mine=true").json()
    assignee = body["results"][0]["assignee"]
    assert assignee["name"] == (shown or county.username) == str(people.get(pk=county.pk))


def test_each_timeline_event_is_what_the_generic_walk_gives(org, rf):
    shapes(org)
    events = list(RequestEvent.objects.select_related("actor", "from_unit", "to_unit").order_by("pk"))
    assert {e.name for e in events} >= {"submit", "claim", "answer", "confirm"}
    serializer = RequestEventSerializer(context={"request": rf.get("/")})
    for event in events:
        assert serializer.to_representation(event) == serializers.Serializer.to_representation(serializer, event)
