"""The database drops away (a restart, a fail-over): people and API clients are told to wait and
try again (503 with Retry-After, in Chinese), never shown a bare server error, and carry on once it
is back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from tests.helpers import DatabaseOutage

pytestmark = pytest.mark.django_db(transaction=True)


def test_pages_and_api_answer_503_while_the_database_is_away_and_carry_on_after(org):
    client = Client(raise_request_exception=False)
    client.force_login(org.people["teller"])
    outage = DatabaseOutage()
    connection.close()
    outage.begin()
    try:
        api = client.get("/api/requests/?mine=true")
        page = client.get("/tickets/mine/")
        filing = client.post("/api/requests/", {"type": "business_consultation", "subject": "咨询"},
                             content_type="application/json")
    finally:
        outage.end()
        connection.close()
    for response in (api, page, filing):
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
    assert "数据库暂时无法连接" in api.json()["detail"]
    assert "数据库暂时无法连接" in filing.json()["detail"]
    body = page.content.decode()
    assert "数据库暂时无法连接" in body and 'lang="zh-hans"' in body
    assert client.get("/api/requests/?mine=true").status_code == 200  # back: the same session carries on
