"""Two people act on the same request at the same moment, on two real PostgreSQL connections:
exactly one transition wins, the other gets 409, and nothing is half-written."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from opsdesk.org.choices import Role
from tests.factories import build_org, make_person
from tests.tickets.helpers import ensure_types, file_fault_report, fresh
from tickets.models import RequestEvent

pytestmark = pytest.mark.django_db(transaction=True)


def race(calls):
    """Run each call in its own thread (own database connection), released together."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=30)
            results[i] = call()
        except BaseException as exc:  # reported to the test thread
            results[i] = exc
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_two_county_people_answer_and_escalate_at_once():
    from rest_framework.test import APIClient

    assert connection.vendor == "postgresql", "run the suite on PostgreSQL (DATABASE_URL)"
    ensure_types()
    org = build_org()
    second = make_person(org.counties[0], Role.COUNTY_SUPPORT, username="county1b")
    for round_ in range(5):
        request = file_fault_report(org, subject=f"并发{round_}")

        def call(person, body, url=f"/api/requests/{request.pk}/transitions/"):
            client = APIClient()
            client.force_authenticate(person)
            response = client.post(url, {"version": 1, **body}, format="json")
            return response.status_code, response.json()

        results = race([
            lambda: call(org.people["county"], {"action": "escalate", "comment": "上送"}),
            lambda: call(second, {"action": "answer", "comment": "直接答复"}),
        ])
        assert not any(isinstance(r, BaseException) for r in results), results
        statuses = sorted(status for status, _ in results)
        assert statuses == [200, 409], results
        loser = next(body for status, body in results if status == 409)
        winner = next(body for status, body in results if status == 200)
        final = fresh(request)
        assert final.version == 2 and final.state == winner["state"]
        assert loser["state"] == final.state  # the loser is told where it is now
        events = list(RequestEvent.objects.filter(request=request).order_by("version").values_list("name", flat=True))
        assert len(events) == 2 and events[0] == "submit"


def test_the_same_filing_arriving_twice_at_once_is_filed_once():
    """A teller's client retries while the first try is still being written: two connections insert
    with the same key at the same moment; one request is filed and both answers name it."""
    from rest_framework.test import APIClient

    from tickets.models import ServiceRequest

    ensure_types()
    org = build_org()
    body = {"type": "business_consultation", "subject": "重复提交", "data": {"question": "利率怎么调整？"}}
    for round_ in range(5):
        def call(key=f"retry-{round_}"):
            client = APIClient()
            client.force_authenticate(org.people["teller"])
            response = client.post("/api/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
            return response.status_code, response.json()

        results = race([call, call])
        assert not any(isinstance(r, BaseException) for r in results), results
        assert sorted(status for status, _ in results) == [200, 201], results
        assert results[0][1]["id"] == results[1][1]["id"]
        assert ServiceRequest.objects.filter(submission_key=f"retry-{round_}").count() == 1
    assert RequestEvent.objects.filter(name="submit").count() == 5
