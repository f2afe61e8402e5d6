"""Incidents through the API: the state machine, audit trail, silences, flapping, scoping, webhooks."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, Incident, IncidentEvent, IngestedMessage, Silence, WebhookSource
from alerts.services import Inbound, incident_reopen, ingest_messages
from notifications.models import Notification


def mail(n: int, *, kind: str = "PROBLEM", state: str = "CRITICAL", host: str = "szhxdb01",
         service: str = "Disk /oradata", minute: int = 0) -> bytes:
    return (f"From: nagios@mon.bank.example\nSubject: ** {kind} Service Alert: {host}/{service} is {state} **\n"
            f"Message-ID: <api-{n}@mon.bank.example>\nDate: Tue, 12 Mar 2024 10:{minute:02d}:00 +0800\n\n"
            f"***** Nagios *****\n\nNotification Type: {kind}\n\nService: {service}\nHost: {host}\n"
            f"Address: 10.1.12.21\nState: {state}\n\nDate/Time: Tue Mar 12 10:00:00 CST 2024\n\n"
            f"Additional Info:\n\nDISK CRITICAL - free space: /oradata 2%\n").encode()


def ingest(*raws: bytes):
    return ingest_messages(items=[Inbound(raw=r, origin="upload") for r in raws])


def test_operator_acknowledges_then_resolves_with_a_note(db, org, api_client_for):
    ingest(mail(1))
    incident = Incident.objects.get()
    client = api_client_for(org.people["operator"])
    listed = client.get("/api/incidents/", {"state": "open"}).json()
    assert [i["id"] for i in listed["results"]] == [incident.pk]
    assert listed["results"][0]["alarming"] is True

    r = client.post(f"/api/incidents/{incident.pk}/acknowledge/", {"expected_version": 0}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "acknowledged" and r.json()["alarming"] is False
    # A stale version is a conflict, not a silent overwrite.
    r = client.post(f"/api/incidents/{incident.pk}/resolve/", {"expected_version": 0}, format="json")
    assert r.status_code == 409
    r = client.post(f"/api/incidents/{incident.pk}/resolve/", {"expected_version": 1, "comment": "磁盘已清理"},
                    format="json")
    assert r.status_code == 200 and r.json()["state"] == "resolved"
    # Illegal now: a clear 409 listing what is possible, never a 500.
    r = client.post(f"/api/incidents/{incident.pk}/acknowledge/", {}, format="json")
    assert r.status_code == 409 and r.json()["allowed"] == ["reopen"]
    detail = client.get(f"/api/incidents/{incident.pk}/").json()
    actions = [(e["action"], e["actor"]) for e in detail["events"]]
    assert actions[0] == ("open", None)
    assert actions[1:] == [("acknowledge", str(org.people["operator"])), ("resolve", str(org.people["operator"]))]
    assert detail["events"][-1]["comment"] == "磁盘已清理"
    assert len(detail["alerts"]) == 1


def test_recovery_resolves_and_a_new_problem_reopens_within_the_window(db, org):
    ingest(mail(1, minute=0), mail(2, kind="RECOVERY", state="OK", minute=5), mail(3, minute=20))
    incident = Incident.objects.get()
    assert incident.state == "open" and incident.reopen_count == 1 and incident.occurrences == 2
    assert list(incident.events.values_list("action", flat=True)) == ["open", "resolve", "reopen"]


def test_a_problem_long_after_resolution_opens_a_new_incident(db, org, settings):
    settings.OPSDESK_INCIDENT_REOPEN_WINDOW_MINUTES = 10
    ingest(mail(1, minute=0), mail(2, kind="RECOVERY", state="OK", minute=5), mail(3, minute=40))
    first, second = Incident.objects.order_by("pk")
    assert (first.state, second.state) == ("resolved", "open")


def test_a_problem_folds_into_an_older_incident_someone_reopened(db, org, settings):
    # Two incidents of the same alert, both resolved; the operator reopens the older one by hand.
    settings.OPSDESK_INCIDENT_REOPEN_WINDOW_MINUTES = 10
    ingest(mail(1, minute=0), mail(2, kind="RECOVERY", state="OK", minute=5), mail(3, minute=40),
           mail(4, kind="RECOVERY", state="OK", minute=45))
    older, newer = Incident.objects.order_by("pk")
    incident_reopen(actor=org.people["operator"], incident_pk=older.pk, comment="还没修好")
    # The next problem is counted on the reopened incident: no second open incident, no error.
    ingest(mail(5, minute=50))
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.state, older.occurrences, newer.state) == ("open", 2, "resolved")
    assert Alert.objects.filter(incident=older).count() == 3


def test_the_operators_sms_is_the_incident_template_with_host_check_and_what_the_tool_said(db, org):
    from notifications.models import NotificationTemplate

    ingest(mail(1))
    [text] = Notification.objects.filter(event="incident.opened").values_list("text", flat=True)
    # No host catalogue entry here, so the host stands where the system's name would; the check reads
    # as the tool wrote it.
    assert text == "【运维服务台】致命事件：szhxdb01 Disk /oradata：DISK CRITICAL - free space: /oradata 2%（szhxdb01），请立即确认。"

    NotificationTemplate.objects.update_or_create(code="incident.opened", defaults={
        "name": "事件", "body": "{{ severity }}|{{ host }}|{{ check }}"})
    ingest(mail(2, host="szqzapp02"))
    texts = list(Notification.objects.filter(event="incident.opened").order_by("pk").values_list("text", flat=True))
    assert texts[-1] == "致命|szqzapp02|Disk /oradata"


def test_flapping_is_flagged_and_holds_notifications_back(db, org):
    ingest(mail(1, minute=0))
    opened = Notification.objects.filter(event="incident.opened").count()
    assert opened == 1  # the operator hears about a new critical incident
    ingest(mail(2, kind="RECOVERY", state="OK", minute=2), mail(3, minute=4), mail(4, kind="RECOVERY", state="OK", minute=6),
           mail(5, minute=8))
    incident = Incident.objects.get()
    assert incident.flapping and incident.state == "open"
    assert not incident.alarming
    assert Notification.objects.filter(event="incident.opened").count() == opened


def test_silenced_alerts_are_stored_and_counted_but_raise_no_alarm(db, org, api_client_for):
    Silence.objects.create(host_pattern="szhx*", reason="维护窗口", ends_at=timezone.now() + timedelta(hours=1),
                           author=org.people["operator"])
    ingest(mail(1), mail(2))
    incident = Incident.objects.get()
    assert incident.occurrences == 2 and incident.silenced_count == 2
    assert Alert.objects.filter(silence__isnull=False).count() == 2
    assert not incident.alarming
    assert not Notification.objects.filter(event="incident.opened").exists()
    client = api_client_for(org.people["operator"])
    assert client.get(f"/api/incidents/{incident.pk}/").json()["silenced"] is True


def test_silence_from_the_incident_stops_its_alarm(db, org, api_client_for):
    ingest(mail(1))
    incident = Incident.objects.get()
    client = api_client_for(org.people["operator"])
    r = client.post(f"/api/incidents/{incident.pk}/silence/", {"minutes": 0, "reason": "x"}, format="json")
    assert r.status_code == 400
    r = client.post(f"/api/incidents/{incident.pk}/silence/", {"minutes": 30, "reason": "变更窗口"}, format="json")
    assert r.status_code == 201 and r.json()["incident"]["alarming"] is False
    silence = Silence.objects.get()
    assert silence.author == org.people["operator"] and silence.host_pattern == "szhxdb01"
    assert IncidentEvent.objects.filter(incident=incident, action="silence").exists()
    ingest(mail(2))
    assert Incident.objects.get().silenced_count == 1


@pytest.mark.parametrize("who, sees", [("operator", True), ("dispatcher", True), ("member", True),
                                       ("manager", True), ("admin", True), ("teller", False), ("county", False),
                                       ("city", False), ("city_manager", False)])
def test_incidents_are_scoped_to_the_provincial_centre(db, org, api_client_for, who, sees):
    ingest(mail(1))
    incident = Incident.objects.get()
    client = api_client_for(org.people[who])
    assert (client.get("/api/incidents/").json()["count"] == 1) is sees
    assert client.get(f"/api/incidents/{incident.pk}/").status_code == (200 if sees else 404)
    r = client.post(f"/api/incidents/{incident.pk}/acknowledge/", {}, format="json")
    assert r.status_code == (200 if who in ("operator", "dispatcher", "member", "admin") else 403 if sees else 404)


def test_alertmanager_webhook_with_token(db, org, client):
    source = WebhookSource(name="prom", slug="prom", kind="alertmanager")
    token = source.set_token()
    source.save()
    payload = {"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "HighCPU", "instance": "gdrc-core-app03:9100",
                                        "severity": "critical"}, "annotations": {"summary": "<b>CPU</b> 99%"}},
        {"status": "firing", "labels": {"alertname": "HighCPU", "instance": "gdrc-core-app04:9100",
                                        "severity": "warning"}, "annotations": {}}]}
    body = json.dumps(payload)
    assert client.post("/alerts/webhooks/prom/", body, content_type="application/json").status_code == 401
    assert client.post("/alerts/webhooks/prom/", body, content_type="application/json",
                       headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.post("/alerts/webhooks/nope/", body, content_type="application/json",
                       headers={"Authorization": f"Bearer {token}"}).status_code == 401
    r = client.post("/alerts/webhooks/prom/", body, content_type="application/json",
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 202 and r.json()["accepted"] == 2
    assert set(Incident.objects.values_list("host", "check_name", "severity")) == {
        ("gdrc-core-app03", "highcpu", "critical"), ("gdrc-core-app04", "highcpu", "warning")}
    # The key carries the alert's whole label set, as Alertmanager identifies it.
    assert Incident.objects.get(host="gdrc-core-app03").dedup_key == (
        'alertmanager|gdrc-core-app03|highcpu|alertname="HighCPU",instance="gdrc-core-app03:9100",'
        'severity="critical"')
    payload["status"] = "resolved"
    for a in payload["alerts"]:
        a["status"] = "resolved"
    client.post("/alerts/webhooks/prom/", json.dumps(payload), content_type="application/json",
                headers={"Authorization": f"Bearer {token}"})
    assert set(Incident.objects.values_list("state", flat=True)) == {"resolved"}


def test_generic_webhook_and_bad_payloads(db, org, client):
    source = WebhookSource(name="generic", slug="generic", kind="generic")
    token = source.set_token()
    source.save()
    headers = {"Authorization": f"Bearer {token}"}
    post = lambda body: client.post("/alerts/webhooks/generic/", body, content_type="application/json",  # noqa: E731
                                    headers=headers)
    assert post("not json").status_code == 400
    # An alert that cannot be read is refused by name (4xx, not retried); its body is kept.
    refused = post(json.dumps({"host": "", "check": "x"}))
    assert refused.status_code == 422 and refused.json()["rejected"] == [{"index": 0, "error": "an alert has no host"}]
    assert post(json.dumps({"host": "h1", "check": "x", "status": "exploded"})).status_code == 422
    assert set(IngestedMessage.objects.values_list("outcome", flat=True)) == {"quarantined"}
    r = post(json.dumps({"host": "SZHXDB01", "check": "Power supply", "severity": "严重", "message": "PSU 2 failed"}))
    assert r.status_code == 202
    incident = Incident.objects.get()
    assert (incident.host, incident.check_name, incident.severity) == ("szhxdb01", "power supply", "major")
    assert Incident.objects.count() == 1
