"""The admin keeps the desk's history and writes through the services: a maintenance window made or
ended there does what one made on the desk does, and incidents, their events, the raw alert mail
and the SMS log cannot be deleted or rewritten."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext

from alerts.models import Incident, IncidentEvent, IngestedMessage, Silence
from alerts.services import Inbound, ingest_messages
from notifications.models import Notification
from opsdesk.org.choices import Role
from tests.alerts.test_incidents_api import mail
from tests.factories import make_person
from workflow.audit import AuditTrailIsAppendOnly

pytestmark = pytest.mark.django_db

ADD_SILENCE = "/admin/alerts/silence/add/"


@pytest.fixture
def admin_client(org, client):
    """The test client logged in as an administrator of the desk with the admin site's rights."""
    client.force_login(make_person(org.province, Role.ADMINISTRATOR, username="root", is_staff=True,
                                   is_superuser=True))
    return client


@pytest.fixture
def open_incident(db):
    """An open critical incident on szhxdb01, through the alert intake (raw mail and "open" event)."""
    ingest_messages(items=[Inbound(raw=mail(1, host="szhxdb01"), origin="upload")])
    return Incident.objects.get()


def split(name: str, at: datetime) -> dict[str, str]:
    """A date-time as the admin's split date and time widget posts it (local time)."""
    local = timezone.localtime(at)
    return {f"{name}_0": local.strftime("%Y-%m-%d"), f"{name}_1": local.strftime("%H:%M:%S")}


def window(*, lasting: timedelta, **fields) -> dict[str, str]:
    now = timezone.now()
    return {"host_pattern": "szhxdb*", "check_pattern": "", "system": "", "category": "", "reason": "数据库补丁",
            **split("starts_at", now - timedelta(minutes=1)), **split("ends_at", now + lasting), **fields}


# --- maintenance windows go through alerts.silencing ------------------------------------------------

def test_a_window_made_in_the_admin_quiets_a_matching_open_incident_and_writes_its_event(admin_client,
                                                                                          open_incident):
    assert open_incident.alarming and admin_client.get(ADD_SILENCE).status_code == 200
    response = admin_client.post(ADD_SILENCE, window(lasting=timedelta(hours=2)))
    assert response.status_code == 302, response.content.decode()[:3000]

    silence = Silence.objects.get()
    assert silence.author.username == "root" and silence.reason == "数据库补丁"
    open_incident.refresh_from_db()
    assert open_incident.silenced_until == silence.ends_at and not open_incident.alarming
    event = IncidentEvent.objects.get(incident=open_incident, action="silence")
    assert event.actor == silence.author and event.details["silence"] == silence.pk


def test_a_window_longer_than_30_days_is_refused_with_the_reason_on_the_form(admin_client, open_incident):
    response = admin_client.post(ADD_SILENCE, window(lasting=timedelta(days=31)))
    assert response.status_code == 200
    assert gettext("A maintenance window lasts at most 30 days.") in response.content.decode()
    assert not Silence.objects.exists()
    assert not IncidentEvent.objects.filter(action="silence").exists()
    open_incident.refresh_from_db()
    assert open_incident.alarming


def test_a_made_window_cannot_be_edited_or_deleted_only_ended_through_the_service(admin_client, open_incident):
    admin_client.post(ADD_SILENCE, window(lasting=timedelta(hours=2)))
    silence = Silence.objects.get()
    change = f"/admin/alerts/silence/{silence.pk}/change/"
    page = admin_client.get(change)
    assert page.status_code == 200 and 'name="ends_at_0"' not in page.content.decode()
    assert admin_client.post(change, window(lasting=timedelta(days=20))).status_code == 403
    assert admin_client.post(f"/admin/alerts/silence/{silence.pk}/delete/", {"post": "yes"}).status_code == 403
    assert "delete_selected" not in admin_client.get("/admin/alerts/silence/").content.decode()

    response = admin_client.post("/admin/alerts/silence/", {"action": "end_now", "_selected_action": [silence.pk]})
    assert response.status_code == 302
    silence.refresh_from_db()
    assert silence.ends_at <= timezone.now()
    open_incident.refresh_from_db()
    assert open_incident.alarming and open_incident.silenced_until is None
    assert IncidentEvent.objects.filter(incident=open_incident, action="unsilence").exists()


# --- history is not deleted --------------------------------------------------------------------------

def test_incidents_raw_mail_and_the_sms_log_cannot_be_deleted_in_the_admin(admin_client, open_incident):
    message = IngestedMessage.objects.get()
    notification = Notification.objects.create(event="test", text="x", idempotency_key="admin-delete")
    for changelist, pk in [("alerts/incident", open_incident.pk), ("alerts/ingestedmessage", message.pk),
                           ("notifications/notification", notification.pk)]:
        delete = f"/admin/{changelist}/{pk}/delete/"
        assert admin_client.get(delete).status_code == 403, delete
        assert admin_client.post(delete, {"post": "yes"}).status_code == 403, delete
        listing = admin_client.get(f"/admin/{changelist}/")
        assert listing.status_code == 200 and "delete_selected" not in listing.content.decode(), changelist
    assert Incident.objects.filter(pk=open_incident.pk).exists()
    assert IngestedMessage.objects.filter(pk=message.pk).exists()
    assert Notification.objects.filter(pk=notification.pk).exists()


def test_an_incident_and_its_events_are_read_only_in_the_admin(admin_client, open_incident):
    change = f"/admin/alerts/incident/{open_incident.pk}/change/"
    page = admin_client.get(change)
    assert page.status_code == 200 and "open" in page.content.decode()
    assert admin_client.post(change, {"summary": "改"}).status_code == 403
    assert admin_client.get("/admin/alerts/incident/add/").status_code == 403


def test_an_incident_event_cannot_be_updated_or_deleted(open_incident):
    event = IncidentEvent.objects.get(incident=open_incident, action="open")
    event.comment = "改"
    with pytest.raises(AuditTrailIsAppendOnly):
        event.save()
    with pytest.raises(AuditTrailIsAppendOnly):
        event.delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        IncidentEvent.objects.filter(incident=open_incident).update(comment="改")
    with pytest.raises(AuditTrailIsAppendOnly):
        IncidentEvent.objects.filter(incident=open_incident).delete()
    # Deleting the incident would take its trail with it (a cascade goes round the checks): refused.
    with pytest.raises(ProtectedError):
        open_incident.delete()
    assert IncidentEvent.objects.get(pk=event.pk).comment == ""
