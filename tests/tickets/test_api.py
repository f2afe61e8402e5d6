"""The request API: create per type, list with filters, detail with timeline, transitions, comments,
attachments; errors are 400/403/404/409 with a clear body, never a 500."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.tickets.helpers import ADJUSTMENT_DATA, FAULT_DATA, act, ensure_types, file_fault_report, fresh

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

VALID = {
    "fault_report": {"system": "core", "data": FAULT_DATA},
    "data_adjustment": {"system": "core", "data": ADJUSTMENT_DATA},
    "business_consultation": {"data": {"question": "利率怎么调整？"}},
    "operation_consultation": {"data": {"question": "如何冲正？"}},
    "data_extraction": {"data": {"what_data": "存款明细", "period_from": "2026-01-01", "period_to": "2026-06-30",
                                 "purpose": "审计", "recipient": "稽核部"}},
}


def systems(org):
    return {s.code: s.pk for s in org.systems}


def create(client, org, code, *, key=None, **overrides):
    body = {"type": code, "subject": "测试请求", **VALID[code], **overrides}
    if isinstance(body.get("system"), str):
        body["system"] = systems(org)[body["system"]]
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post("/api/requests/", body, format="json", **headers)


def post_action(client, request_id, action, version, **extra):
    return client.post(f"/api/requests/{request_id}/transitions/", {"action": action, "version": version, **extra},
                       format="json")


def test_request_types_list_their_forms(org, api_client_for):
    ensure_types()
    body = api_client_for(org.people["teller"]).get("/api/request-types/").json()
    assert [t["code"] for t in body] == ["fault_report", "data_adjustment", "business_consultation",
                                         "operation_consultation", "data_extraction"]
    fault = body[0]
    assert fault["name"] == "故障报告" and fault["system_required"] is True
    assert {f["name"] for f in fault["fields"]} >= {"transaction_code", "error_code", "occurred_at", "scope"}


@pytest.mark.parametrize("code", sorted(VALID))
def test_a_teller_files_each_type(org, api_client_for, code):
    ensure_types()
    response = create(api_client_for(org.people["teller"]), org, code)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["state"], body["holder_unit"]["code"], body["version"], body["type"]) == ("at_county", "K1", 1, code)
    assert [e["name"] for e in body["timeline"]] == ["submit"]
    assert body["allowed_transitions"] == ["withdraw"]  # filed by mistake: nobody has taken it yet


@pytest.mark.parametrize("code, overrides, field", [
    ("fault_report", {"system": None}, "system"),
    ("fault_report", {"data": {**FAULT_DATA, "transaction_code": ""}}, "transaction_code"),
    ("fault_report", {"data": {**FAULT_DATA, "scope": "everyone"}}, "scope"),
    ("fault_report", {"data": {**FAULT_DATA, "occurred_at": "yesterday"}}, "occurred_at"),
    ("fault_report", {"data": {**FAULT_DATA, "colour": "red"}}, "colour"),
    ("data_extraction", {"data": {"what_data": "x"}}, "period_from"),
    ("business_consultation", {"subject": ""}, "subject"),
    ("business_consultation", {"type": "nonsense"}, "type"),
    ("business_consultation", {"data": "not an object"}, "data"),
])
def test_bad_forms_are_refused_field_by_field(org, api_client_for, code, overrides, field):
    ensure_types()
    response = create(api_client_for(org.people["teller"]), org, code, **overrides)
    assert response.status_code == 400
    assert field in response.json()


def test_only_tellers_file_requests(org, api_client_for):
    ensure_types()
    response = create(api_client_for(org.people["county"]), org, "business_consultation")
    assert response.status_code == 403


def test_the_whole_route_through_the_api(org, api_client_for):
    ensure_types()
    p = org.people
    clients = {who: api_client_for(p[who]) for who in p}
    rid = create(clients["teller"], org, "fault_report").json()["id"]
    steps = [
        ("county", "escalate", {"comment": "县无法处理"}), ("city", "escalate", {"comment": "市无法处理"}),
        ("dispatcher", "dispatch", {"group": org.groups[0].pk}),
        ("member", "transfer", {"group": org.groups[1].pk, "comment": "转信贷组"}),
        ("member_other", "complete", {"comment": "已修复"}), ("dispatcher", "approve", {}),
        ("city", "pass_down", {"comment": "地市备注"}), ("county", "pass_down", {}),
        ("teller", "confirm", {"rating": 4, "comment": "谢谢"}),
    ]
    version = 1
    for who, action, extra in steps:
        allowed = clients[who].get(f"/api/requests/{rid}/transitions/").json()
        assert action in allowed["allowed"] and allowed["version"] == version
        response = post_action(clients[who], rid, action, version, **extra)
        assert response.status_code == 200, (action, response.json())
        version = response.json()["version"]
    body = clients["teller"].get(f"/api/requests/{rid}/").json()
    assert body["state"] == "closed" and body["rating"] == 4 and body["answer_text"] == "已修复"
    assert [e["name"] for e in body["timeline"]] == ["submit", *[s[1] for s in steps]]
    assert body["timeline"][7]["comment"] == "地市备注"


def test_errors_carry_the_allowed_transitions(org, api_client_for):
    p = org.people
    r = file_fault_report(org)
    county = api_client_for(p["county"])
    act(r, "claim", p["county"])
    stale = post_action(county, r.pk, "escalate", 1, comment="上送")
    assert stale.status_code == 409
    assert stale.json()["allowed"] == ["answer", "ask_info", "escalate"]
    assert "别人" in stale.json()["detail"]  # said in Chinese
    wrong_state = post_action(county, r.pk, "approve", 2)
    assert wrong_state.status_code == 409 and wrong_state.json()["state"] == "at_county"
    wrong_person = post_action(api_client_for(p["teller"]), r.pk, "escalate", 2, comment="x")
    assert wrong_person.status_code == 403 and wrong_person.json()["allowed"] == []
    foreign = post_action(api_client_for(p["county_other"]), r.pk, "escalate", 2, comment="x")
    assert foreign.status_code == 404
    missing_reason = post_action(county, r.pk, "escalate", 2)
    assert missing_reason.status_code == 400 and "detail" in missing_reason.json()
    unknown = post_action(county, r.pk, "teleport", 2)
    assert unknown.status_code == 400 and "action" in unknown.json()
    bad_group = post_action(county, r.pk, "escalate", 2, comment="x", group=999999)
    assert bad_group.status_code == 400
    no_version = county.post(f"/api/requests/{r.pk}/transitions/", {"action": "escalate"}, format="json")
    assert no_version.status_code == 400
    assert (fresh(r).state, fresh(r).version) == ("at_county", 2)


def test_list_filters(org, api_client_for):
    p = org.people
    a = file_fault_report(org, subject="存款交易失败")
    b = file_fault_report(org, subject="打印机卡纸")
    act(b, "answer", p["county"], "换纸")
    client = api_client_for(p["county"])

    def ids(query=""):
        return [r["id"] for r in client.get(f"/api/requests/?{query}").json()["results"]]

    assert ids() == [b.pk, a.pk]
    assert ids("state=answered") == [b.pk]
    assert ids("open=true") == [b.pk, a.pk]  # answered is still open until the teller confirms
    assert ids(f"holder={org.counties[0].pk}&ordering=held_since") == [a.pk]
    assert ids("q=存款") == [a.pk]
    assert ids(f"q={a.number}") == [a.pk]
    assert ids("type=fault_report") == [b.pk, a.pk]
    assert ids("type=data_extraction") == []
    assert ids(f"system={org.systems[1].pk}") == []
    assert ids(f"unit={org.outlets[0].pk}") == [b.pk, a.pk]
    assert ids(f"unit={org.outlets[1].pk}") == []
    assert ids("created_after=2000-01-01T00:00:00Z") == [b.pk, a.pk]
    assert ids("created_before=2000-01-01T00:00:00Z") == []
    assert client.get("/api/requests/?created_after=notadate").status_code == 400
    first = client.get("/api/requests/?ordering=held_since").json()["results"][0]
    assert first["waiting_seconds"] >= 0 and first["holder_unit"]["code"] in {"K1", "O1"}


def test_comments(org, api_client_for):
    r = file_fault_report(org)
    county = api_client_for(org.people["county"])
    assert county.post(f"/api/requests/{r.pk}/comments/", {"body": "请补充截图"}, format="json").status_code == 201
    assert county.post(f"/api/requests/{r.pk}/comments/", {"body": "  "}, format="json").status_code == 400
    body = api_client_for(org.people["teller"]).get(f"/api/requests/{r.pk}/comments/").json()
    assert [c["body"] for c in body] == ["请补充截图"]


def test_attachments_are_checked_and_served_as_downloads(org, api_client_for):
    r = file_fault_report(org)
    teller = api_client_for(org.people["teller"])
    url = f"/api/requests/{r.pk}/attachments/"
    ok = teller.post(url, {"file": SimpleUploadedFile("截图.png", PNG, content_type="image/png")},
                     format="multipart")
    assert ok.status_code == 201, ok.json()
    fake = teller.post(url, {"file": SimpleUploadedFile("x.png", b"MZ\x90\x00 not a png")}, format="multipart")
    assert fake.status_code == 400
    exe = teller.post(url, {"file": SimpleUploadedFile("tool.exe", b"MZ\x90\x00")}, format="multipart")
    assert exe.status_code == 400 and "file" in exe.json()
    listed = api_client_for(org.people["county"]).get(url).json()
    assert [a["original_name"] for a in listed] == ["截图.png"]
    download = api_client_for(org.people["county"]).get(listed[0]["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert api_client_for(org.people["county_other"]).get(listed[0]["download_url"]).status_code == 404


def test_attachment_size_limit(org, api_client_for, settings):
    settings.OPSDESK_ATTACHMENT_MAX_BYTES = 1024 * 1024
    r = file_fault_report(org)
    big = SimpleUploadedFile("big.txt", b"a" * (1024 * 1024 + 1))
    response = api_client_for(org.people["teller"]).post(f"/api/requests/{r.pk}/attachments/", {"file": big},
                                                         format="multipart")
    assert response.status_code == 400 and "1 MB" in str(response.json())


def test_openapi_schema_describes_the_request_api(org, api_client_for):
    response = api_client_for(org.people["teller"]).get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/requests/", "/api/requests/{id}/", "/api/requests/{id}/transitions/",
                 "/api/requests/{id}/comments/", "/api/requests/{id}/attachments/",
                 "/api/requests/{id}/attachments/{attachment_pk}/", "/api/request-types/"):
        assert path in paths, path
    assert "409" in paths["/api/requests/{id}/transitions/"]["post"]["responses"]


def test_the_same_filing_sent_twice_is_filed_once(org, api_client_for):
    """A retry after a timeout carries the same Idempotency-Key: the teller gets the request filed the
    first time, and the county centre sees one request, not two."""
    from tickets.models import RequestEvent, ServiceRequest

    ensure_types()
    client = api_client_for(org.people["teller"])
    first = create(client, org, "fault_report", key="a1b2c3")
    again = create(client, org, "fault_report", key="a1b2c3")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["version"] == 1
    assert ServiceRequest.objects.count() == 1
    assert RequestEvent.objects.filter(name="submit").count() == 1
    # A new key is a new filing; so is a filing without a key.
    assert create(client, org, "fault_report", key="d4e5f6").status_code == 201
    assert create(client, org, "fault_report").status_code == 201
    assert ServiceRequest.objects.count() == 3


def test_a_key_belongs_to_the_teller_who_sent_it(org, api_client_for):
    ensure_types()
    mine = create(api_client_for(org.people["teller"]), org, "business_consultation", key="k1")
    theirs = create(api_client_for(org.people["teller_other"]), org, "business_consultation", key="k1")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["origin_unit"]["code"] != mine.json()["origin_unit"]["code"]


def test_an_overlong_key_is_refused_clearly(org, api_client_for):
    from tickets.models import ServiceRequest

    ensure_types()
    response = create(api_client_for(org.people["teller"]), org, "business_consultation",
                      key="x" * 65)
    assert response.status_code == 400
    assert "64" in response.json()["submission_key"][0]
    assert not ServiceRequest.objects.exists()
