"""Odd values in the search's query parameters, on the search page and in the API, as a county
person and a dispatcher: never a 5xx; the API answers a bad one with 400 and a message in Chinese."""

from __future__ import annotations

import json
import re
from urllib.parse import quote_from_bytes

import pytest
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.tickets.helpers import act, file_fault_report
from tickets.search import SEARCH_PARAMETERS

pytestmark = pytest.mark.django_db

NAMES = [*SEARCH_PARAMETERS, "page", "limit", "offset"]
ODD = ["SR²", "①", "１２３", "\x00", "a\x00b", "\ud800", "\U0001F4A9", "", " ", "-1", "0", "1" + "0" * 30,
       "99999999999999999999", "2147483648", "1e309", "NaN", "0001-01-01", "9999-12-31", "2026-02-30",
       "10000-01-01", "2026-11-05T25:61:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "true",
       "True", "[]", "' OR 1=1 --", "%", "_", "x" * 5000, "at_county", "unit", "me", "fault_report", "SR0000001",
       "-created_at", "held_since", "卡纸", "\\", "\r\n"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _encode(value: str) -> str:
    return quote_from_bytes(value.encode("utf-8", "surrogatepass"), safe="")


queries = st.lists(st.tuples(st.sampled_from(NAMES), st.one_of(st.sampled_from(ODD), st.text(max_size=20))),
                   min_size=1, max_size=5)


@pytest.fixture
def people(org):
    p = org.people
    request = file_fault_report(org, subject="打印机卡纸")
    act(request, "escalate", p["county"], "上送")
    file_fault_report(org, subject="存款失败")
    clients = {}
    for role in ("county", "dispatcher", "teller", "admin"):
        clients[role] = Client()
        clients[role].force_login(p[role])
    return clients


@settings(max_examples=60, deadline=None, phases=[Phase.generate], database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(query=queries, role=st.sampled_from(["county", "dispatcher", "teller", "admin"]))
def test_odd_search_parameters_never_break_the_search(people, query, role):
    text = "&".join(f"{_encode(name)}={_encode(value)}" for name, value in query)
    client = people[role]
    page = client.get(f"/tickets/search/?{text}")
    assert page.status_code in (200, 400), (text, page.status_code)
    api = client.get(f"/api/requests/?{text}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert api.status_code in (200, 400), (text, api.status_code)
    if api.status_code == 400:
        body = json.dumps(api.json(), ensure_ascii=False)
        assert CJK.search(body), (text, body)
