"""Finding requests: by number, subject, outlet, system and person; filters; "handled by us / by me";
saved views; numbered pages — on the search page and in the API, never beyond what the person may see."""

from __future__ import annotations

import re

import pytest

from opsdesk import scoping
from tests.tickets.helpers import act, file_fault_report, file_request
from tickets import search
from tickets.models import SavedView, ServiceRequest

pytestmark = pytest.mark.django_db


def shown(client, query: str = "") -> list[str]:
    """The request numbers the search page lists, in order."""
    body = client.get(f"/tickets/search/?{query}").content.decode()
    return re.findall(r'<a href="/tickets/\d+/">(SR\d{7})</a>', body)


def api_ids(client, query: str = "") -> list[int]:
    return [r["id"] for r in client.get(f"/api/requests/?{query}").json()["results"]]


@pytest.fixture
def filed(org):
    """Three requests of teller1 (outlet O1, county K1) and one of teller8 (O8, county K4)."""
    p = org.people
    printer = file_request(p["teller"], "business_consultation", subject="打印机卡纸", data={"question": "怎么办"})
    deposit = file_fault_report(org, subject="存款交易失败")
    credit = file_request(p["teller"], "fault_report", subject="贷款发放失败", system=org.systems[1],
                          data={"transaction_code": "7001", "occurred_at": "2026-11-20T09:30", "scope": "one_teller",
                                "description": "放款报错"})
    other = file_fault_report(org, teller=p["teller_other"], subject="存款机卡钞")
    return {"printer": printer, "deposit": deposit, "credit": credit, "other": other}


def test_the_search_finds_by_number_subject_outlet_system_and_person(org, client, filed):
    client.force_login(org.people["county"])
    number = filed["deposit"].number
    assert shown(client, f"q={number}") == [number]
    assert shown(client, f"q={filed['deposit'].pk}") == [number]
    assert shown(client, "q=卡纸") == [filed["printer"].number]
    assert shown(client, "outlet=网点1") == [filed["credit"].number, filed["deposit"].number, filed["printer"].number]
    assert shown(client, "outlet=O2") == []
    assert shown(client, f"system={org.systems[1].pk}") == [filed["credit"].number]
    assert shown(client, "person=teller1") == [filed["credit"].number, filed["deposit"].number,
                                              filed["printer"].number]
    body = client.get("/tickets/search/?q=卡纸").content.decode()
    assert "找到 1 条请求" in body and "打印机卡纸" in body


def test_search_never_shows_another_countys_requests(org, client, api_client_for, filed):
    """County 1 searches for county 4's request by its number, its words and its outlet: nothing."""
    other = filed["other"]
    client.force_login(org.people["county"])
    api = api_client_for(org.people["county"])
    for query in (f"q={other.number}", "q=卡钞", "outlet=网点8", "person=teller8", f"unit={org.outlets[7].pk}"):
        assert shown(client, query) == [], query
        assert api_ids(api, query) == [], query
    # County 4 finds it.
    client.force_login(org.people["county_other"])
    assert shown(client, "q=卡钞") == [other.number]


def test_the_search_lists_exactly_what_each_person_may_see(org, filed):
    """The search reads the scoping rule part by part (origin, access rows) for speed: for every
    person it finds the same requests, in the same order, as the rule read whole."""
    p = org.people
    act(filed["deposit"], "escalate", p["county"], "上送")
    act(filed["deposit"], "escalate", p["city"], "上送")
    act(filed["deposit"], "dispatch", p["dispatcher"], group=org.groups[0])
    act(filed["deposit"], "transfer", p["member"], "转网络组", group=org.groups[1])
    act(filed["credit"], "escalate", p["county"], "上送")
    for person in p.values():
        found = search.request_search(user=person, filters={})
        expected = list(scoping.restrict(person, ServiceRequest.objects.order_by("-created_at", "-pk"))
                        .values_list("pk", flat=True))
        assert [r.pk for r in found[0:50]] == expected, person.username
        assert found.count() == len(expected), person.username
        oldest = search.request_search(user=person, filters={"ordering": "created_at"})
        assert [r.pk for r in oldest[0:50]] == expected[::-1], person.username
        text = search.request_search(user=person, filters={"q": "存款"})
        assert {r.pk for r in text[0:50]} == {pk for pk in expected
                                               if pk in (filed["deposit"].pk, filed["other"].pk)}, person.username


def test_filters_state_open_level_type_and_dates(org, client, filed):
    p = org.people
    act(filed["printer"], "answer", p["county"], "请换纸")
    act(filed["credit"], "escalate", p["county"], "上送")
    client.force_login(p["county"])
    assert shown(client, "state=answered") == [filed["printer"].number]
    assert shown(client, "state=answered&state=at_city") == [filed["credit"].number, filed["printer"].number]
    assert shown(client, "level=city") == [filed["credit"].number]
    assert shown(client, "type=business_consultation") == [filed["printer"].number]
    assert shown(client, "open=false") == []
    assert len(shown(client, "date_from=2000-01-01&date_to=2100-01-01")) == 3
    assert shown(client, "date_from=2100-01-01") == []


def test_bad_filters_are_told_in_chinese(org, client, api_client_for):
    client.force_login(org.people["county"])
    body = client.get("/tickets/search/?date_from=2026-02-30&state=teleported").content.decode()
    assert "请修改上面的筛选条件" in body and "日期" in body
    answer = api_client_for(org.people["county"]).get("/api/requests/?created_after=notadate&system=abc&page=0")
    assert answer.status_code == 400
    assert set(answer.json()) >= {"created_after", "system"}
    assert all(re.search(r"[\u4e00-\u9fff]", m) for messages in answer.json().values() for m in messages)
    answer = api_client_for(org.people["county"]).get("/api/requests/?page=0")
    assert answer.status_code == 400 and "页码" in answer.json()["page"][0]


def test_handled_by_my_unit_and_by_me(org, client, filed):
    """A group keeps finding what it once held after passing it on; a person, what they acted on."""
    p = org.people
    request = filed["deposit"]
    act(request, "escalate", p["county"], "上送")
    act(request, "escalate", p["city"], "上送")
    act(request, "dispatch", p["dispatcher"], group=org.groups[0])
    act(request, "transfer", p["member"], "应由网络组处理", group=org.groups[1])
    client.force_login(p["lead"])  # group 1, did not act on it
    assert shown(client, "handled=unit") == [request.number]
    assert shown(client, "handled=me") == []
    client.force_login(p["member"])
    assert shown(client, "handled=me") == [request.number]
    client.force_login(p["county"])
    assert shown(client, "handled=me") == [request.number]


def test_numbered_pages_keep_the_filters(org, client, filed, monkeypatch):
    monkeypatch.setattr("tickets.views.PAGE_SIZE", 1)
    client.force_login(org.people["county"])
    body = client.get("/tickets/search/?outlet=网点1&page=2").content.decode()
    assert 'aria-current="page">2</span>' in body
    assert 'href="?outlet=%E7%BD%91%E7%82%B91&amp;page=3"' in body  # the filter stays on page 3's link
    assert "第 2 页，共 3 页" in body
    assert shown(client, "outlet=网点1&page=3") == [filed["printer"].number]


def test_the_api_pages_by_number(org, api_client_for, filed):
    api = api_client_for(org.people["county"])
    body = api.get("/api/requests/?limit=1&page=2").json()
    assert (body["count"], body["page"], body["pages"], body["count_capped"]) == (3, 2, 3, False)
    assert [r["id"] for r in body["results"]] == [filed["deposit"].pk]


def test_saved_views_are_personal(org, client, filed):
    p = org.people
    client.force_login(p["county"])
    answer = client.post("/tickets/views/", {"name": "本县卡纸", "query": "q=卡纸&page=3"}, follow=True)
    body = answer.content.decode()
    assert "已保存视图“本县卡纸”" in body and filed["printer"].number in body
    view = SavedView.objects.get(owner=p["county"])
    assert view.query == "q=%E5%8D%A1%E7%BA%B8"  # the page is not part of it
    assert "本县卡纸" in client.get("/tickets/search/").content.decode()
    bad = client.post("/tickets/views/", {"name": "坏的", "query": "date_from=notadate"}, follow=True)
    assert "有效的日期" in bad.content.decode() and not SavedView.objects.filter(name="坏的").exists()
    client.force_login(p["county_other"])
    assert "本县卡纸" not in client.get("/tickets/search/").content.decode()
    client.post(f"/tickets/views/{view.pk}/delete/")  # not theirs: nothing happens
    assert SavedView.objects.filter(pk=view.pk).exists()
    client.force_login(p["county"])
    client.post(f"/tickets/views/{view.pk}/delete/")
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_saved_views_in_the_api(org, api_client_for):
    mine, theirs = api_client_for(org.people["county"]), api_client_for(org.people["city"])
    created = mine.post("/api/saved-views/", {"name": "待处理", "query": "open=true"}, format="json")
    assert created.status_code == 201
    assert [v["name"] for v in mine.get("/api/saved-views/").json()] == ["待处理"]
    assert theirs.get("/api/saved-views/").json() == []
    assert theirs.delete(f"/api/saved-views/{created.json()['id']}/").status_code == 404
    assert mine.post("/api/saved-views/", {"name": "", "query": ""}, format="json").status_code == 400


def test_a_drill_down_by_unit_names_the_unit_and_can_be_removed(org, client, filed):
    """A statistics number links to the search with a unit id: the page names the unit, not the id."""
    county = org.people["county"].unit
    client.force_login(org.people["city"])
    body = client.get(f"/tickets/search/?unit={county.pk}&open=true").content.decode()
    assert f"提交单位：<strong>{county.name}</strong>" in body
    assert f'name="unit" value="{county.pk}"' in body and 'type="number" name="unit"' not in body
    remove = re.search(r'<a href="\?([^"]*)" title="去掉此条件"', body).group(1)
    assert "unit=" not in remove and "open=true" in remove
    assert set(shown(client, f"unit={county.pk}")) == {filed[k].number for k in ("printer", "deposit", "credit")}
