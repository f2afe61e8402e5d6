"""Request types are edited in admin without code; the audit trail is read-only there."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from opsdesk.org.choices import Role
from tests.factories import make_person
from tests.tickets.helpers import ensure_types, file_fault_report
from tickets.models import RequestEvent

pytestmark = pytest.mark.django_db


def superuser(org):
    return make_person(org.province, Role.ADMINISTRATOR, username="root", is_staff=True, is_superuser=True)


def editor_post(request_type, rows: list[dict], **more) -> dict:
    """What the admin's field editor sends: the type's own fields and one row per form field."""
    data = {"code": request_type.code, "name": request_type.name, "position": request_type.position,
            "is_active": "on", "spec-TOTAL_FORMS": str(len(rows)),
            "spec-INITIAL_FORMS": str(min(len(rows), len(request_type.fields))),
            "spec-MIN_NUM_FORMS": "0", "spec-MAX_NUM_FORMS": "1000", **more}
    for i, row in enumerate(rows):
        for key, value in row.items():
            if value is True:
                value = "on"
            if value not in (False, None):
                data[f"spec-{i}-{key}"] = value
    return data


def test_an_administrator_adds_a_field_and_the_form_asks_for_it(org, client, api_client_for):
    types = ensure_types()
    consult = types["business_consultation"]
    client.force_login(superuser(org))
    response = client.post(f"/admin/tickets/requesttype/{consult.pk}/change/", editor_post(consult, [
        {"label": "咨询问题", "name": "question", "kind": "textarea", "required": True, "order": 10,
         "label_msgid": "Question"},
        {"label": "账号", "name": "account_no", "kind": "text", "required": True, "max_length": 30, "order": 20},
    ]))
    assert response.status_code == 302, response.content.decode()[:2000]
    teller = api_client_for(org.people["teller"])
    missing = teller.post("/api/requests/", {"type": "business_consultation", "subject": "咨询",
                                             "data": {"question": "如何开户？"}}, format="json")
    assert missing.status_code == 400 and "account_no" in missing.json()
    ok = teller.post("/api/requests/", {"type": "business_consultation", "subject": "咨询",
                                        "data": {"question": "如何开户？", "account_no": "6221000012345678"}},
                     format="json")
    assert ok.status_code == 201
    client.force_login(org.people["teller"])
    assert "账号" in client.get("/tickets/new/business_consultation/").content.decode()


@pytest.mark.parametrize("fields", [
    "not a list", [{"name": "Bad Name", "label": "x", "kind": "text"}], [{"name": "a", "label": "x", "kind": "blob"}],
    [{"name": "a", "label": "x", "kind": "choice"}], [{"name": "a", "label": "x", "kind": "text"}] * 2,
    [{"name": "subject", "label": "x", "kind": "text"}],
])
def test_bad_field_lists_are_refused(org, fields):
    request_type = ensure_types()["business_consultation"]
    request_type.fields = fields
    with pytest.raises(ValidationError):
        request_type.full_clean()


def test_the_audit_trail_is_read_only_in_admin(org, client):
    request = file_fault_report(org)
    event = RequestEvent.objects.get(request=request)
    client.force_login(superuser(org))
    page = client.get(f"/admin/tickets/requestevent/{event.pk}/change/")
    assert page.status_code == 200 and 'name="comment"' not in page.content.decode()
    assert client.post(f"/admin/tickets/requestevent/{event.pk}/change/", {"comment": "改"}).status_code == 403
    assert client.post(f"/admin/tickets/requestevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/tickets/requestevent/add/").status_code == 403
    assert client.get(f"/admin/tickets/servicerequest/{request.pk}/change/").status_code == 200
    assert RequestEvent.objects.get(pk=event.pk).comment == ""


def _editor_rows(html: str) -> list[str]:
    return re.findall(r'<tr class="field-row" data-field="([^"]*)"', html)


def test_the_field_editor_shows_rows_in_chinese_with_a_preview_and_keeps_the_shipped_labels(org, client):
    fault = ensure_types()["fault_report"]
    client.force_login(superuser(org))
    page = client.get(f"/admin/tickets/requesttype/{fault.pk}/change/").content.decode()
    # One row per field (and an empty one to add a field), labels in Chinese, no JSON box.
    assert _editor_rows(page) == [spec["name"] for spec in fault.fields] + [""]
    assert 'name="fields"' not in page and '"kind": "text"' not in page
    assert 'value="交易码"' in page and "表单字段" in page
    preview = page.split('id="field-preview"')[1]
    assert 'name="f_transaction_code"' in preview and "交易码" in preview
    # Saved as shown (one field dropped, the order changed): the shipped labels keep their msgids, so
    # the English interface keeps English labels; a new Chinese label is stored as typed.
    rows = []
    for i, spec in enumerate(fault.fields):
        rows.append({"label": {"Transaction code": "交易码"}.get(spec["label"], "x"), "name": spec["name"],
                     "kind": spec["kind"], "required": spec.get("required", False), "order": 100 - i,
                     "label_msgid": spec["label"], "max_length": spec.get("max_length"),
                     "choices": "\n".join(f"{v}|{lab}" for v, lab in spec.get("choices", [])),
                     "choice_msgids": "\n".join(lab for _v, lab in spec.get("choices", [])),
                     "DELETE": spec["name"] == "error_code"})
    response = client.post(f"/admin/tickets/requesttype/{fault.pk}/change/",
                           editor_post(fault, rows, system_required="on"))
    assert response.status_code == 302, response.content.decode()[:3000]
    fault.refresh_from_db()
    names = [spec["name"] for spec in fault.fields]
    assert names == [spec["name"] for spec in reversed([r for r in rows if not r["DELETE"]])]
    assert "error_code" not in names and names[-1] == "transaction_code"
    by_name = {spec["name"]: spec for spec in fault.fields}
    assert by_name["transaction_code"]["label"] == "Transaction code"  # shown 交易码, saved as its msgid
    assert by_name["description"]["label"] == "x"
    assert by_name["scope"]["choices"][0][0] == "one_teller"


def test_the_field_editor_refuses_what_the_teller_form_cannot_be_built_from(org, client):
    consult = ensure_types()["business_consultation"]
    before = list(consult.fields)
    client.force_login(superuser(org))
    for rows, problem in [
        ([{"label": "甲", "name": "a", "kind": "text"}, {"label": "乙", "name": "a", "kind": "text"}], "重复出现"),
        ([{"label": "选择", "name": "pick", "kind": "choice"}], "至少列出一个选项"),
        ([{"label": "主题", "name": "subject", "kind": "text"}], "小写字母"),
        ([{"label": "坏名", "name": "Bad Name", "kind": "text"}], "小写字母"),
    ]:
        response = client.post(f"/admin/tickets/requesttype/{consult.pk}/change/", editor_post(consult, rows))
        assert response.status_code == 200 and problem in response.content.decode(), problem
    consult.refresh_from_db()
    assert consult.fields == before


def test_sla_policies_are_set_with_pickers_of_types_and_levels(org, client):
    from notifications.models import SlaPolicy

    ensure_types()
    client.force_login(superuser(org))
    page = client.get("/admin/notifications/slapolicy/add/").content.decode()
    assert '<select name="request_type"' in page and "故障报告" in page
    assert '<select name="level"' in page and "县级支持中心" in page and "网点" not in page.split('name="level"')[1]
    response = client.post("/admin/notifications/slapolicy/add/", {
        "name": "报障·县级", "request_type": "fault_report", "level": "county", "first_response_minutes": 15,
        "resolution_minutes": 60, "near_breach_percent": 80, "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = SlaPolicy.objects.get(name="报障·县级")
    assert (policy.request_type, policy.level) == ("fault_report", "county")
    assert client.post("/admin/notifications/slapolicy/add/", {
        "name": "坏", "request_type": "no_such_type", "level": "county", "first_response_minutes": 15,
        "resolution_minutes": 60, "near_breach_percent": 80}).status_code == 200
    assert "故障报告" in client.get("/admin/notifications/slapolicy/").content.decode()
