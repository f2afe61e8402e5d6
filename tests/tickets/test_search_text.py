"""Text in the subject at scale: a text search counts up to TEXT_COUNT_LIMIT ("more than 1,000"), and
finds the same requests in the same order whether the word is rare (its matches read through the
text indexes, sorted by their ids) or common (the requests walked in order, each matched) — for every
person, never beyond what they may see."""

from __future__ import annotations

import re

import pytest

from opsdesk import scoping
from tests.tickets.helpers import act, file_fault_report
from tickets import search
from tickets.models import ServiceRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def printers(org):
    """Three printer faults at county 1 (the newest last), one at county 4, and one that is not."""
    p = org.people
    mine = [file_fault_report(org, subject=subject) for subject in ("打印机卡纸", "凭证打印乱码", "打印机缺墨")]
    other = file_fault_report(org, teller=p["teller_other"], subject="打印机卡纸")
    file_fault_report(org, subject="网银登录报错")
    # One went up to a support group: the group sees it too (its access row).
    for name, who in (("escalate", "county"), ("escalate", "city")):
        act(mine[0], name, p[who], "上送")
    act(mine[0], "dispatch", p["dispatcher"], group=org.groups[0])
    return {"mine": mine, "other": other}


def test_a_text_search_counts_up_to_its_own_limit(org, client, api_client_for, printers, monkeypatch):
    """Past TEXT_COUNT_LIMIT the count is "more than N" (the page and the API say so); every match
    is still listed, newest first; a search by number keeps the general limit."""
    monkeypatch.setattr(search, "TEXT_COUNT_LIMIT", 2)
    newest_first = [r.pk for r in reversed(printers["mine"])]
    api = api_client_for(org.people["county"])
    body = api.get("/api/requests/?q=打印").json()
    assert (body["count"], body["count_capped"], body["pages"]) == (3, True, 1)
    assert [r["id"] for r in body["results"]] == newest_first
    client.force_login(org.people["county"])
    page = client.get("/tickets/search/?q=打印").content.decode()
    assert "找到超过 2 条请求；请缩小查找范围以查看全部。" in page
    assert re.findall(r'<a href="/tickets/\d+/">(SR\d{7})</a>', page) == [f"SR{pk:07d}" for pk in newest_first]
    # At the limit: counted exactly.
    body = api.get("/api/requests/?q=打印机").json()
    assert (body["count"], body["count_capped"]) == (2, False)
    assert "找到 2 条请求。" in client.get("/tickets/search/?q=打印机").content.decode()
    # A request number is not text: one request, counted as ever.
    found = search.request_search(user=org.people["county"], filters={"q": printers["mine"][0].number})
    assert (found.count(), found.count_limit, found.capped) == (1, search.COUNT_LIMIT, False)


@pytest.mark.parametrize("word", ["打印", "打印机", "卡纸", "印乱码", "网银"])
def test_rare_and_common_words_find_the_same_requests_for_everyone(org, printers, monkeypatch, word):
    """The same requests, in the same order, page by page, as the scoping rule read whole — whether
    the matches are few (read by id) or many (walked in order: TEXT_COUNT_LIMIT 1 makes every word
    with two matches "common")."""
    people = list(org.people.values())

    def pages(person, ordering: str) -> list[int]:
        found = search.request_search(user=person, filters={"q": word, "ordering": ordering})
        return [r.pk for r in found[0:2]] + [r.pk for r in found[2:50]]

    for ordering in ("-created_at", "created_at"):
        rare = {person.username: pages(person, ordering) for person in people}
        monkeypatch.setattr(search, "TEXT_COUNT_LIMIT", 1)
        common = {person.username: pages(person, ordering) for person in people}
        monkeypatch.undo()
        for person in people:
            expected = list(scoping.restrict(person, ServiceRequest.objects.filter(subject__contains=word))
                            .order_by(*search.ORDERINGS[ordering]).values_list("pk", flat=True))
            assert rare[person.username] == expected, (person.username, ordering)
            assert common[person.username] == expected, (person.username, ordering)
    # Nobody finds the other county's request but those above it.
    if word in ("打印", "打印机", "卡纸"):
        assert printers["other"].pk not in pages(org.people["county"], "-created_at")
        assert printers["other"].pk in pages(org.people["county_other"], "-created_at")


def test_a_two_character_word_matches_any_case_and_nothing_else(org, api_client_for):
    """The pairs index answers two characters: any case (ATM, atm), the characters together only."""
    for subject in ("ATM吞卡", "网点atm故障", "AT机具", "吞没卡片"):
        file_fault_report(org, subject=subject)
    api = api_client_for(org.people["county"])

    def subjects(query: str) -> set[str]:
        return {r["subject"] for r in api.get(f"/api/requests/?q={query}").json()["results"]}

    assert subjects("tm") == {"ATM吞卡", "网点atm故障"}
    assert subjects("吞卡") == {"ATM吞卡"}
    assert subjects("卡片") == {"吞没卡片"}
    assert subjects("%_") == set()  # no wildcards
