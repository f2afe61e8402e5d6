"""The scoping matrix: every role against a request of its own units and one of foreign units, for
list, detail, transitions, comments and attachments. What is not theirs answers 404; what they see
but may not move answers 403."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.tickets.helpers import two_requests

pytestmark = pytest.mark.django_db

# Request A: filed at O1 (K1, C1), escalated to the province and dispatched to group G1.
# Request B: filed at O8 (K4, C2), still at its county.
SEES = {
    "admin": {"A", "B"},
    "teller": {"A"}, "teller_other": {"B"},
    "county": {"A"}, "county_other": {"B"},
    "city": {"A"}, "city_other": {"B"},
    "dispatcher": {"A"}, "operator": {"A"},  # operations held A
    "member": {"A"}, "lead": {"A"}, "member_other": set(),
    "manager": {"A", "B"}, "city_manager": {"A"},
}
# Who may fire the transition named for each request now (A: transfer at G1; B: answer at K4).
MAY_ACT = {"A": ("transfer", {"member", "lead"}), "B": ("answer", {"county_other"})}


@pytest.fixture
def matrix(org):
    return two_requests(org)


def test_the_matrix_covers_every_role(org):
    assert set(SEES) == set(org.people)


@pytest.mark.parametrize("who", sorted(SEES))
def test_list_and_detail(org, matrix, api_client_for, who):
    client = api_client_for(org.people[who])
    listed = {r["subject"][-1] for r in client.get("/api/requests/").json()["results"]}
    assert listed == SEES[who]
    for name, request in matrix.items():
        expected = 200 if name in SEES[who] else 404
        assert client.get(f"/api/requests/{request.pk}/").status_code == expected
        assert client.get(f"/api/requests/{request.pk}/transitions/").status_code == expected


@pytest.mark.parametrize("who", sorted(SEES))
def test_comments_and_attachments(org, matrix, api_client_for, who):
    client = api_client_for(org.people[who])
    for name, request in matrix.items():
        visible = name in SEES[who]
        base = f"/api/requests/{request.pk}"
        assert client.get(f"{base}/comments/").status_code == (200 if visible else 404)
        assert client.post(f"{base}/comments/", {"body": "看一下"}, format="json").status_code == (
            201 if visible else 404)
        assert client.get(f"{base}/attachments/").status_code == (200 if visible else 404)
        attachment = request.attachments.get()
        assert client.get(f"{base}/attachments/{attachment.pk}/").status_code == (200 if visible else 404)
        upload = SimpleUploadedFile("note.txt", b"more")
        assert client.post(f"{base}/attachments/", {"file": upload}, format="multipart").status_code == (
            201 if visible else 404)


@pytest.mark.parametrize("who", sorted(SEES))
def test_transitions(org, matrix, api_client_for, who):
    person = org.people[who]
    client = api_client_for(person)
    for name, request in matrix.items():
        action, allowed_people = MAY_ACT[name]
        body = {"action": action, "version": request.version, "comment": "越权测试", "group": org.groups[1].pk}
        events = request.events.count()
        response = client.post(f"/api/requests/{request.pk}/transitions/", body, format="json")
        if name not in SEES[who]:
            assert response.status_code == 404
            request.refresh_from_db()  # found nowhere, moved nowhere: the scope is part of the locked read
            assert (request.version, request.events.count()) == (body["version"], events)
        elif who in allowed_people:
            assert response.status_code == 200
        else:
            assert response.status_code == 403
            # The teller who filed B may still withdraw it: nobody has taken it yet.
            assert response.json()["allowed"] == (["withdraw"] if (who, name) == ("teller_other", "B") else [])


@pytest.mark.parametrize("who", sorted(SEES))
def test_pages(org, matrix, client, who):
    client.force_login(org.people[who])
    for name, request in matrix.items():
        expected = 200 if name in SEES[who] else 404
        assert client.get(f"/tickets/{request.pk}/").status_code == expected
        attachment = request.attachments.get()
        assert client.get(f"/tickets/{request.pk}/attachments/{attachment.pk}/").status_code == expected
        response = client.post(f"/tickets/{request.pk}/comments/", {"body": "看一下"})
        assert response.status_code == (302 if name in SEES[who] else 404)
