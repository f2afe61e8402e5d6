"""Maintenance windows (silences) through the API and the page: create, list, end early, who may,
what a window does to the alerts it matches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, Incident, IncidentEvent, Silence
from alerts.services import Inbound, ingest_messages
from notifications.models import Notification
from tests.alerts.test_incidents_api import mail

URL = "/api/silences/"


def ingest(*raws: bytes):
    return ingest_messages(items=[Inbound(raw=r, origin="upload") for r in raws])


@pytest.fixture
def operator_api(org, api_client_for):
    return api_client_for(org.people["operator"])


def create(client, **data):
    return client.post(URL, data, format="json")


# --- create and list -----------------------------------------------------------------------------

def test_operator_opens_a_window_and_sees_it_listed(db, org, operator_api):
    r = create(operator_api, host_pattern="szhxdb*", check_pattern="Disk *", system="core", category="db",
               duration_minutes=120, reason="核心数据库扩容")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["host_pattern"] == "szhxdb*" and body["check_pattern"] == "Disk *"
    assert body["system"] == "core" and body["system_name"] == "核心系统" and body["category"] == "db"
    assert body["reason"] == "核心数据库扩容" and body["author"] == str(org.people["operator"])
    assert body["in_force"] is True and body["alert_count"] == 0
    silence = Silence.objects.get()
    assert silence.author == org.people["operator"]
    # Start defaults to now; the duration sets the end.
    assert abs((timezone.now() - silence.starts_at).total_seconds()) < 30
    assert silence.ends_at - silence.starts_at == timedelta(minutes=120)

    listed = operator_api.get(URL).json()
    assert [s["id"] for s in listed["results"]] == [silence.pk]


def test_the_list_shows_current_and_upcoming_and_filters_by_state(db, org, operator_api):
    now = timezone.now()
    current = create(operator_api, host_pattern="a*", duration_minutes=30, reason="now").json()
    upcoming = create(operator_api, host_pattern="b*", starts_at=(now + timedelta(days=1)).isoformat(),
                      ends_at=(now + timedelta(days=1, hours=2)).isoformat(), reason="tomorrow").json()
    past = Silence.objects.create(host_pattern="c*", starts_at=now - timedelta(hours=3),
                                  ends_at=now - timedelta(hours=1), reason="yesterday")
    assert upcoming["in_force"] is False

    def ids(**params):
        r = operator_api.get(URL, params)
        assert r.status_code == 200, r.json()
        return [s["id"] for s in r.json()["results"]]

    assert ids() == [current["id"], upcoming["id"]]  # the default: pending, soonest first
    assert ids(state="current") == [current["id"]]
    assert ids(state="upcoming") == [upcoming["id"]]
    assert ids(state="ended") == [past.pk]
    assert sorted(ids(state="all")) == sorted([current["id"], upcoming["id"], past.pk])
    assert operator_api.get(URL, {"state": "soon"}).status_code == 400
    assert operator_api.get(f"{URL}{past.pk}/").json()["reason"] == "yesterday"


# --- validation ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "field", "words"), [
    ({"duration_minutes": 30, "reason": "x"}, "non_field_errors", "at least one"),
    ({"host_pattern": "a*", "duration_minutes": 30}, "reason", "required"),
    ({"host_pattern": "a*", "duration_minutes": 30, "reason": "   "}, "reason", "reason"),
    ({"host_pattern": "a*", "reason": "x"}, "ends_at", "end or a duration"),
    ({"host_pattern": "a*", "reason": "x", "duration_minutes": 30, "ends_at": "2099-01-01T00:00:00+08:00"},
     "non_field_errors", "not both"),
    ({"host_pattern": "a*", "reason": "x", "starts_at": "2099-01-02T00:00:00+08:00",
      "ends_at": "2099-01-01T00:00:00+08:00"}, "ends_at", "after the start"),
    ({"host_pattern": "a*", "reason": "x", "starts_at": "2020-01-01T00:00:00+08:00",
      "ends_at": "2020-01-01T02:00:00+08:00"}, "ends_at", "already past"),
    ({"host_pattern": "a*", "reason": "x", "duration_minutes": 0}, "duration_minutes", "1"),
    ({"host_pattern": "a*", "reason": "x", "duration_minutes": 60 * 24 * 31}, "duration_minutes", "30 days"),
    ({"system": "nosuch", "reason": "x", "duration_minutes": 30}, "system", "nosuch"),
    ({"category": "weather", "reason": "x", "duration_minutes": 30}, "category", "weather"),
])
def test_invalid_windows_are_refused_with_a_clear_message(db, org, operator_api, settings, data, field, words):
    operator_api.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the English words, to read them here
    r = operator_api.post(URL, data, format="json")
    assert r.status_code == 400
    errors = r.json()
    assert field in errors, errors
    assert words.lower() in " ".join(errors[field]).lower(), errors
    assert not Silence.objects.exists()


def test_messages_are_chinese_by_default(db, org, operator_api):
    r = operator_api.post(URL, {"duration_minutes": 30, "reason": "x"}, format="json")
    assert r.status_code == 400
    assert "至少" in " ".join(r.json()["non_field_errors"])


# --- who may -------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["teller", "county", "manager"])
def test_people_off_the_board_get_403(db, org, api_client_for, who):
    silence = Silence.objects.create(host_pattern="a*", ends_at=timezone.now() + timedelta(hours=1), reason="x")
    client = api_client_for(org.people[who])
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{silence.pk}/").status_code == 403
    assert create(client, host_pattern="b*", duration_minutes=30, reason="x").status_code == 403
    assert client.post(f"{URL}{silence.pk}/end/").status_code == 403
    assert Silence.objects.count() == 1 and Silence.objects.active().exists()


@pytest.mark.parametrize("who", ["dispatcher", "lead", "admin"])
def test_everyone_who_may_acknowledge_may_manage_windows(db, org, api_client_for, who):
    client = api_client_for(org.people[who])
    r = create(client, host_pattern="b*", duration_minutes=30, reason="x")
    assert r.status_code == 201
    assert client.post(f"{URL}{r.json()['id']}/end/").status_code == 200


def test_anonymous_callers_are_refused(db, org):
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code in (401, 403)


# --- what a window does --------------------------------------------------------------------------

def test_an_alert_in_a_window_is_stored_and_counted_but_raises_no_alarm(db, org, operator_api):
    create(operator_api, host_pattern="szhxdb*", duration_minutes=60, reason="数据库补丁")
    ingest(mail(1, host="szhxdb01"), mail(2, host="szhxdb01", minute=1), mail(3, host="szqzapp02"))

    quiet = Incident.objects.get(host="szhxdb01")
    assert quiet.occurrences == 2 and quiet.silenced_count == 2
    assert quiet.is_silenced and not quiet.alarming
    assert Alert.objects.filter(incident=quiet, silence__isnull=False).count() == 2
    loud = Incident.objects.get(host="szqzapp02")
    assert loud.alarming and loud.silenced_count == 0
    # Only the incident outside the window tells the operators.
    texts = list(Notification.objects.filter(event="incident.opened").values_list("text", flat=True))
    assert len(texts) == 1 and "szqzapp02" in texts[0]

    listed = operator_api.get(URL).json()["results"]
    assert listed[0]["alert_count"] == 2
    feed = operator_api.get(f"/api/incidents/{quiet.pk}/").json()
    assert feed["silenced"] is True and feed["alarming"] is False


def test_a_window_on_a_system_or_category_silences_by_those(db, org, operator_api):
    from opsdesk.org.models import Host

    Host.objects.create(hostname="szhxdb01", system=org.systems[0])
    create(operator_api, system="core", duration_minutes=60, reason="核心系统停机")
    ingest(mail(1, host="szhxdb01"), mail(2, host="szxdapp01"))
    assert Incident.objects.get(host="szhxdb01").silenced_count == 1
    assert Incident.objects.get(host="szxdapp01").alarming


def test_a_window_in_force_quiets_a_matching_open_incident_at_once(db, org, operator_api):
    ingest(mail(1, host="szhxdb01"))
    incident = Incident.objects.get()
    assert incident.alarming

    create(operator_api, host_pattern="SZHXDB0?", duration_minutes=45, reason="紧急变更")
    incident.refresh_from_db()
    assert incident.is_silenced and not incident.alarming
    event = IncidentEvent.objects.get(incident=incident, action="silence")
    assert event.actor == org.people["operator"] and event.comment == "紧急变更"


def test_an_upcoming_window_does_not_silence_before_it_starts(db, org, operator_api):
    now = timezone.now()
    create(operator_api, host_pattern="szhxdb*", starts_at=(now + timedelta(hours=1)).isoformat(),
           duration_minutes=60, reason="晚上的变更")
    ingest(mail(1, host="szhxdb01"))
    assert Incident.objects.get().alarming


def test_ending_a_window_early_brings_the_alarm_back(db, org, operator_api):
    silence = create(operator_api, host_pattern="szhxdb*", duration_minutes=60, reason="补丁").json()
    ingest(mail(1, host="szhxdb01"))
    incident = Incident.objects.get()
    assert not incident.alarming

    r = operator_api.post(f"{URL}{silence['id']}/end/")
    assert r.status_code == 200, r.json()
    assert r.json()["in_force"] is False and r.json()["alert_count"] == 1
    ended = Silence.objects.get()
    assert ended.ends_at <= timezone.now()
    assert not Silence.objects.active().exists()
    assert [s["id"] for s in operator_api.get(URL).json()["results"]] == []
    assert [s["id"] for s in operator_api.get(URL, {"state": "ended"}).json()["results"]] == [silence["id"]]

    incident.refresh_from_db()
    assert incident.alarming and incident.silenced_until is None
    assert IncidentEvent.objects.filter(incident=incident, action="unsilence",
                                        actor=org.people["operator"]).exists()
    # Later alerts are no longer silenced.
    ingest(mail(2, host="szhxdb01", minute=2))
    assert Incident.objects.get().silenced_count == 1

    # Ending it again changes nothing.
    again = operator_api.post(f"{URL}{silence['id']}/end/")
    assert again.status_code == 200 and Silence.objects.get().ends_at == ended.ends_at


def test_ending_one_window_keeps_what_another_still_gives(db, org, operator_api):
    short = create(operator_api, host_pattern="szhxdb*", duration_minutes=60, reason="补丁").json()
    create(operator_api, host_pattern="szhxdb01", check_pattern="disk*", duration_minutes=30, reason="存储迁移")
    ingest(mail(1, host="szhxdb01"))
    operator_api.post(f"{URL}{short['id']}/end/")
    incident = Incident.objects.get()
    assert incident.is_silenced, "the second window still covers it"
    assert incident.silenced_until == Silence.objects.get(reason="存储迁移").ends_at


def test_cancelling_an_upcoming_window_means_it_never_starts(db, org, operator_api):
    start = timezone.now() + timedelta(hours=2)
    silence = create(operator_api, host_pattern="szhxdb*", starts_at=start.isoformat(), duration_minutes=60,
                     reason="取消的变更").json()
    r = operator_api.post(f"{URL}{silence['id']}/end/")
    assert r.status_code == 200
    row = Silence.objects.get()
    assert row.starts_at == row.ends_at  # an empty window keeps its planned start for the record
    assert not Silence.objects.active(start + timedelta(minutes=30)).exists()


def test_ending_an_unknown_window_is_404(db, org, operator_api):
    assert operator_api.post(f"{URL}999999/end/").status_code == 404


# --- the schema ----------------------------------------------------------------------------------

def test_openapi_schema_describes_the_silence_api(db, org, operator_api):
    response = operator_api.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    assert set(paths["/api/silences/"]) >= {"get", "post"}
    assert "post" in paths["/api/silences/{id}/end/"] and "get" in paths["/api/silences/{id}/"]
    state = next(p for p in paths["/api/silences/"]["get"]["parameters"] if p["name"] == "state")
    assert set(state["schema"]["enum"]) == {"current", "upcoming", "pending", "ended", "all"}
    create_body = paths["/api/silences/"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request_fields = schema["components"]["schemas"][create_body.rsplit("/", 1)[1]]["properties"]
    assert {"host_pattern", "check_pattern", "system", "category", "starts_at", "ends_at", "duration_minutes",
            "reason"} <= set(request_fields)
    listed = schema["components"]["schemas"]["Silence"]["properties"]
    assert {"alert_count", "author", "in_force", "reason", "starts_at", "ends_at"} <= set(listed)
