"""The notification API: the delivery log (scoped centrally), my notifications, rosters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from notifications.models import DutyShift, Notification, NotificationStatus
from notifications.services import notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def written(org):
    notify(event="request.dispatch", text="给组员", key="a", people=[org.people["member"]], about=org.systems[0])
    notify(event="request.escalate", text="给县里", key="b", people=[org.people["county"]])


def test_the_log_shows_everything_to_administrators_and_nothing_to_others(api_client_for, org, written):
    admin = api_client_for(org.people["admin"])
    data = admin.get("/api/notifications/").json()
    assert data["count"] == 2
    first = next(r for r in data["results"] if r["text"] == "给组员")
    assert first["recipient"] == "member1" and first["unit"] == "G1"
    assert first["about"] == f"org.productionsystem:{org.systems[0].pk}"
    assert {"status", "attempts", "latency_seconds", "last_error"} <= set(first)
    assert admin.get("/api/notifications/", {"person": "county1"}).json()["count"] == 1
    assert admin.get("/api/notifications/", {"unit": "C1"}).json()["count"] == 1
    assert admin.get("/api/notifications/", {"status": "bogus"}).status_code == 400
    manager = api_client_for(org.people["manager"])
    assert manager.get("/api/notifications/").json()["count"] == 0
    assert manager.get(f"/api/notifications/{Notification.objects.first().pk}/").status_code == 404


def test_resend_through_the_api(api_client_for, org, written):
    row = Notification.objects.get(text="给县里")
    admin = api_client_for(org.people["admin"])
    assert admin.post(f"/api/notifications/{row.pk}/resend/").status_code == 409  # still queued
    Notification.objects.filter(pk=row.pk).update(status=NotificationStatus.DEAD, last_error="x")
    response = admin.post(f"/api/notifications/{row.pk}/resend/")
    assert response.status_code == 202 and response.json()["status"] == "queued"


def test_my_notifications_and_my_mobile(api_client_for, org, written):
    client = api_client_for(org.people["member"])
    data = client.get("/api/my-notifications/").json()
    assert [r["text"] for r in data["results"]] == ["给组员"]
    bad = client.put("/api/my-notifications/mobile/", {"mobile": "555"}, format="json")
    assert bad.status_code == 400 and "mobile" in bad.json()
    ok = client.put("/api/my-notifications/mobile/", {"mobile": "139 0000 2222"}, format="json")
    assert ok.status_code == 200 and ok.json() == {"mobile": "13900002222"}


def test_rosters_are_edited_by_administrators_and_read_by_the_unit(api_client_for, org):
    now = timezone.now()
    shift = {"unit": "G1", "person": "member1", "starts_at": (now - dt.timedelta(hours=1)).isoformat(),
             "ends_at": (now + dt.timedelta(hours=7)).isoformat()}
    lead = api_client_for(org.people["lead"])
    assert lead.post("/api/rosters/", shift, format="json").status_code == 403
    admin = api_client_for(org.people["admin"])
    bad = admin.post("/api/rosters/", {**shift, "ends_at": shift["starts_at"]}, format="json")
    assert bad.status_code == 400 and "ends_at" in bad.json()
    assert admin.post("/api/rosters/", {**shift, "unit": "NOPE"}, format="json").status_code == 400
    created = admin.post("/api/rosters/", shift, format="json")
    assert created.status_code == 201, created.content
    assert DutyShift.objects.count() == 1
    assert [s["person"] for s in lead.get("/api/rosters/", {"unit": "G1"}).json()["results"]] == ["member1"]
    on_duty = lead.get("/api/rosters/on-duty/", {"unit": "G1"}).json()
    assert on_duty == {"unit": "G1", "on_duty": ["member1"], "substitutes": [], "receivers": ["member1"],
                       "from_roster": True}
    assert lead.get("/api/rosters/on-duty/", {"unit": "K4"}).status_code == 400  # not visible to a group lead
