"""The REST API root, its schema, authentication, and validation errors in Chinese."""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_api_requires_authentication():
    assert APIClient().get("/api/units/").status_code in (401, 403)


def test_api_root_lists_endpoints(api_client_for, org):
    response = api_client_for(org.people["teller"]).get("/api/")
    assert response.status_code == 200
    assert {"units", "people", "systems", "hosts"} <= set(response.json())


def test_openapi_schema_is_served(api_client_for, org):
    response = api_client_for(org.people["teller"]).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/units/" in schema["paths"]
    assert "/api/me/" in schema["paths"]


def test_token_authentication(org):
    token = AuthToken.objects.create(user=org.people["county"])[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/units/")
    assert response.status_code == 200
    assert {u["code"] for u in response.json()["results"]} == {"P", "C1", "K1", "O1", "O2"}


def test_obtain_token_with_password(org, password):
    response = APIClient().post("/api/auth/token/", {"username": "teller1", "password": password})
    assert response.status_code == 200
    assert len(response.json()["token"]) == 64
    assert response.json()["expiry"]


def test_units_are_scoped_and_foreign_ones_are_404(api_client_for, org):
    client = api_client_for(org.people["teller"])
    assert client.get(f"/api/units/{org.outlets[0].pk}/").status_code == 200
    assert client.get(f"/api/units/{org.outlets[7].pk}/").status_code == 404


def test_only_administrators_create_units(api_client_for, org):
    payload = {"code": "K9", "name": "新县", "kind": "county", "parent": "C1"}
    assert api_client_for(org.people["manager"]).post("/api/units/", payload).status_code == 403
    response = api_client_for(org.people["admin"]).post("/api/units/", payload)
    assert response.status_code == 201
    assert response.json()["path"] == "P/C1/K9/"


def test_duplicate_unit_code_is_a_chinese_validation_error(api_client_for, org):
    response = api_client_for(org.people["admin"]).post(
        "/api/units/", {"code": "K1", "name": "重复", "kind": "county", "parent": "C1"}
    )
    assert response.status_code == 400
    assert "已存在" in response.json()["code"][0]


def test_me_shows_the_caller_and_changes_only_the_mobile(api_client_for, org):
    client = api_client_for(org.people["teller"])
    me = client.get("/api/me/").json()
    assert me["username"] == "teller1"
    assert me["unit"] == "O1"
    response = client.patch("/api/me/", {"mobile": "+86 139-1234-5678", "roles": ["administrator"]}, format="json")
    assert response.status_code == 200
    org.people["teller"].refresh_from_db()
    assert org.people["teller"].mobile == "13912345678"
    assert org.people["teller"].roles == ["teller"]


def test_invalid_mobile_is_a_chinese_validation_error(api_client_for, org):
    response = api_client_for(org.people["teller"]).patch("/api/me/", {"mobile": "12345"}, format="json")
    assert response.status_code == 400
    assert "手机号码" in response.json()["mobile"][0]


def test_admin_creates_a_person_with_roles_that_must_fit_the_unit(api_client_for, org):
    client = api_client_for(org.people["admin"])
    bad = client.post("/api/people/", {"username": "x1", "unit": "O1", "roles": ["dispatcher"],
                                       "mobile": "13800000001"}, format="json")
    assert bad.status_code == 400
    assert "roles" in bad.json()
    good = client.post("/api/people/", {"username": "x2", "unit": "O1", "roles": ["teller"],
                                        "mobile": "13800000002"}, format="json")
    assert good.status_code == 201


def test_people_list_is_for_administrators_only(api_client_for, org):
    assert api_client_for(org.people["manager"]).get("/api/people/").json()["count"] == 0
    assert api_client_for(org.people["admin"]).get("/api/people/").json()["count"] == len(org.people)
