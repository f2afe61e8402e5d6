"""Request types are edited in admin without code; the audit trail is read-only there."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from opsdesk.org.choices import Role
from tests.factories import make_person
from tests.tickets.helpers import ensure_types, file_fault_report
from tickets.models import RequestEvent

pytestmark = pytest.mark.django_db


def superuser(org):
    return make_person(org.province, Role.ADMINISTRATOR, username="root", is_staff=True, is_superuser=True)


def test_an_administrator_adds_a_field_and_the_form_asks_for_it(org, client, api_client_for):
    types = ensure_types()
    consult = types["business_consultation"]
    client.force_login(superuser(org))
    response = client.post(f"/admin/tickets/requesttype/{consult.pk}/change/", {
        "code": consult.code, "name": consult.name, "position": 3, "is_active": "on",
        "fields": '[{"name": "question", "label": "Question", "kind": "textarea", "required": true},'
                  ' {"name": "account_no", "label": "账号", "kind": "text", "required": true, "max_length": 30}]',
    })
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
