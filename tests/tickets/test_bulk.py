"""Bulk actions: claim several requests of a queue, dispatch several to one support group. Each goes
through the state machine on its own; the person reads one outcome per request, in Chinese."""

from __future__ import annotations

import pytest

from tests.tickets.helpers import act, file_fault_report, fresh

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def at_province(org):
    """Three requests at the provincial operations department."""
    p = org.people
    found = []
    for subject in ("核心记账失败", "网银登录慢", "报表缺失"):
        request = file_fault_report(org, subject=subject)
        act(request, "escalate", p["county"], "上送")
        act(request, "escalate", p["city"], "上送")
        found.append(request)
    return found


def test_a_county_claims_several_requests_and_reads_each_outcome(org, client):
    p = org.people
    first, second, taken = (file_fault_report(org, subject=s) for s in ("一", "二", "三"))
    act(taken, "claim", p["county"])  # already theirs: claiming again is not possible
    client.force_login(p["county"])
    answer = client.post("/tickets/bulk/", {"action": "claim", "ids": [first.pk, second.pk, taken.pk],
                                             "next": "/tickets/search/"}, follow=True)
    said = messages_of(answer)
    assert f"由我处理：已完成 2 条（{first.number}、{second.number}）。" in said
    assert any(m.startswith(f"{taken.number}：您无权") for m in said)
    assert fresh(first).assignee == p["county"] and fresh(second).assignee == p["county"]
    assert answer.redirect_chain[-1][0] == "/tickets/search/"


def test_the_dispatcher_sends_several_to_one_group(org, client, at_province):
    p = org.people
    still_at_county = file_fault_report(org, subject="还在县里")
    client.force_login(p["dispatcher"])
    page = client.get("/tickets/search/?state=at_province").content.decode()
    assert 'name="ids"' in page and "分发给支持小组" in page and "支持小组1" in page
    ids = [r.pk for r in at_province] + [still_at_county.pk]
    answer = client.post("/tickets/bulk/", {"action": "dispatch", "group": org.groups[0].pk, "ids": ids},
                         follow=True)
    said = messages_of(answer)
    assert any(m.startswith("分发给支持小组：已完成 3 条") for m in said)
    # The dispatcher may not even see a request still at a county: it is "not found", not "not allowed".
    assert f"{still_at_county.number}：未找到。" in said
    assert {fresh(r).holder_unit for r in at_province} == {org.groups[0]}
    assert fresh(still_at_county).state == "at_county"


def test_dispatch_without_a_group_moves_nothing(org, client, at_province):
    client.force_login(org.people["dispatcher"])
    answer = client.post("/tickets/bulk/", {"action": "dispatch", "ids": [r.pk for r in at_province]}, follow=True)
    assert "请选择支持小组。" in " ".join(messages_of(answer))
    assert {fresh(r).state for r in at_province} == {"at_province"}


def test_bulk_in_the_api_reports_each_request(org, api_client_for, at_province):
    p = org.people
    act(at_province[0], "dispatch", p["dispatcher"], group=org.groups[1])  # moved meanwhile
    api = api_client_for(p["dispatcher"])
    answer = api.post("/api/requests/bulk/", {"action": "dispatch", "group": org.groups[0].pk,
                                               "ids": [r.pk for r in at_province] + [999999]}, format="json",
                      HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert answer.status_code == 200
    outcomes = answer.json()
    assert [(o["number"], o["ok"]) for o in outcomes] == [
        (at_province[0].number, False), (at_province[1].number, True), (at_province[2].number, True),
        ("SR0999999", False)]
    assert "当前的状态不允许" in outcomes[0]["message"] and outcomes[3]["message"] == "未找到。"
    # Only claim and dispatch make sense in bulk.
    bad = api.post("/api/requests/bulk/", {"action": "answer", "ids": [at_province[1].pk]}, format="json")
    assert bad.status_code == 400


def test_a_teller_gets_no_bulk_actions(org, client, api_client_for):
    request = file_fault_report(org)
    client.force_login(org.people["teller"])
    assert 'id="bulk-form"' not in client.get("/tickets/search/").content.decode()
    answer = api_client_for(org.people["teller"]).post("/api/requests/bulk/", {"action": "claim",
                                                                              "ids": [request.pk]}, format="json")
    assert answer.json()[0]["ok"] is False and fresh(request).assignee is None
