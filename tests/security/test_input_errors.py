"""Every input error is a 4xx: one test per cause of the eleven causes of 500 in issue 17.

Each sends what an attacker (or a clumsy script) sent and expects a clear 4xx answer, in Chinese
where the desk words it; before the fix each of these answered 500. The test client raises the
view's exception instead of rendering the 500 page, so `raise_request_exception=False` shows the
status a person would get.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import make_host

pytestmark = pytest.mark.django_db


def api(person) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(person)
    return client


def is_client_error(response) -> bool:
    return 400 <= response.status_code < 500


@pytest.mark.parametrize("text", ["SR²", "①", "SR٣"])
def test_unicode_digits_in_the_request_search_are_text_not_numbers(org, text):
    response = api(org.people["dispatcher"]).get("/api/requests/", {"q": text})
    assert response.status_code == 200, response.content[:300]
    assert response.json()["results"] == []


def test_a_nul_byte_in_a_query_parameter_is_refused(org):
    response = api(org.people["dispatcher"]).get("/api/incidents/?host=%00")
    assert response.status_code == 400
    assert "空字符" in response.json()["detail"]


def test_a_nul_byte_in_a_page_path_is_refused(org, client):
    client.raise_request_exception = False
    client.force_login(org.people["dispatcher"])
    response = client.get("/notifications/rosters/G1%00/")
    assert response.status_code == 400
    assert "空字符" in response.content.decode()


@pytest.mark.parametrize("params", [{"date_from": "0001-01-01", "date_to": "0001-01-02"},
                                    {"date_from": "9999-12-01", "date_to": "9999-12-31"},
                                    {"compare_from": "0001-01-01", "compare_to": "0001-01-01"}])
def test_report_dates_at_the_ends_of_the_calendar_are_refused(org, params):
    response = api(org.people["manager"]).get("/api/reports/units/", params)
    assert response.status_code == 400, response.content[:300]
    page = APIClient(raise_request_exception=False)
    page.force_login(org.people["manager"])
    assert page.get("/reports/units/", params).status_code in (200, 400)
    assert page.get("/reports/units/export.csv", params).status_code == 400


def test_a_silence_of_a_trillion_minutes_is_refused(org):
    response = api(org.people["admin"]).post("/api/silences/", {"match_host": "core-db01", "reason": "维护",
                                                                   "duration_minutes": 10 ** 12}, format="json")
    assert response.status_code == 400, response.content[:300]
    assert "duration_minutes" in response.json()


def test_a_lone_surrogate_in_json_is_refused(org):
    body = '{"match_host": "core-db01\\ud800", "reason": "x", "duration_minutes": 30}'
    response = api(org.people["admin"]).post("/api/silences/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert "JSON" in response.json()["detail"]


def test_deeply_nested_json_is_refused_quickly(org):
    response = api(org.people["admin"]).post("/api/silences/", "[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


@pytest.mark.parametrize("what", ["unit", "person", "system"])
def test_deleting_what_others_still_refer_to_answers_409(org, what, incident):
    admin = api(org.people["admin"])
    if what == "unit":
        url = f"/api/units/{org.counties[0].pk}/"
    elif what == "person":
        from tests.tickets.helpers import two_requests

        two_requests(org)
        url = f"/api/people/{org.people['teller'].pk}/"
    else:
        make_host(org.systems[0], "core-db01")
        url = f"/api/systems/{org.systems[0].pk}/"
    response = admin.delete(url)
    assert response.status_code == 409, response.content[:300]
    body = response.json()
    assert "仍" in body["detail"]
    assert body["referenced_by"]


def test_a_duplicate_host_name_is_a_field_error(org):
    make_host(org.systems[0], "core-db01")
    response = api(org.people["admin"]).post("/api/hosts/", {"hostname": "CORE-DB01", "system": org.systems[0].code},
                                             format="json")
    assert response.status_code == 400, response.content[:300]
    assert "hostname" in response.json()
