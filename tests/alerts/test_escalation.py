"""Escalation chains: an unacknowledged critical or major incident reaches the next level after
T minutes; acknowledging stops the chain."""

from __future__ import annotations

import datetime as dt

import pytest

from alerts.escalation import escalations_advance_due, start_chain
from alerts.models import Incident
from notifications.models import EscalationPolicy, EscalationRun, EscalationStep, Notification
from opsdesk.org.choices import Role
from workflow.engine import perform

pytestmark = pytest.mark.django_db

MIN = dt.timedelta(minutes=1)


@pytest.fixture
def policy(db):
    policy = EscalationPolicy.objects.create(name="严重/重大事件", severities="critical,major")
    EscalationStep.objects.create(policy=policy, order=1, wait_minutes=5, role=Role.OPERATOR)
    EscalationStep.objects.create(policy=policy, order=2, wait_minutes=10, role=Role.GROUP_LEAD)
    EscalationStep.objects.create(policy=policy, order=3, wait_minutes=15, role=Role.MANAGER)
    return policy


def escalated_to() -> list[str]:
    return [n.recipient.username for n in Notification.objects.filter(event="incident.escalation").order_by("pk")]


def test_each_level_hears_in_turn_until_someone_acknowledges(org, policy, incident):
    run = start_chain(incident)
    t0 = run.started_at
    assert escalations_advance_due(now=t0 + 4 * MIN) == 0
    assert escalations_advance_due(now=t0 + 5 * MIN) == 1
    assert escalated_to() == ["operator"]
    first = Notification.objects.get(event="incident.escalation")
    assert first.urgent and "监听进程不存在" in first.text and "5分钟未确认" in first.text
    # Repeated beats do not repeat a step.
    assert escalations_advance_due(now=t0 + 6 * MIN) == 0
    # The core system belongs to group G1: its lead is the next level.
    assert escalations_advance_due(now=t0 + 15 * MIN) == 1
    assert escalated_to() == ["operator", "lead1"]

    perform(Incident, incident.pk, "acknowledge", actor=org.people["operator"], comment="处理中")
    assert escalations_advance_due(now=t0 + 31 * MIN) == 0
    assert escalated_to() == ["operator", "lead1"]  # the manager is not disturbed
    run.refresh_from_db()
    assert run.stopped_at is not None and run.stop_reason == "acknowledged"


def test_a_chain_runs_to_the_manager_when_nobody_acknowledges(org, policy, incident):
    t0 = start_chain(incident).started_at
    for minutes in (5, 15, 30, 60):
        escalations_advance_due(now=t0 + minutes * MIN)
    assert escalated_to() == ["operator", "lead1", "manager"]
    assert EscalationRun.objects.get().stop_reason == "last step"


def test_minor_incidents_have_no_chain_and_a_reopened_incident_starts_again(org, policy, incident):
    Incident.objects.filter(pk=incident.pk).update(severity="minor")
    incident.refresh_from_db()
    assert start_chain(incident) is None
    Incident.objects.filter(pk=incident.pk).update(severity="major")
    incident.refresh_from_db()
    run = start_chain(incident)
    perform(Incident, incident.pk, "resolve", actor=org.people["operator"])
    escalations_advance_due(now=run.started_at + 5 * MIN)
    run.refresh_from_db()
    assert run.stop_reason == "resolved" and escalated_to() == []
    perform(Incident, incident.pk, "reopen", actor=org.people["operator"])
    again = start_chain(Incident.objects.get(pk=incident.pk))
    assert again.pk == run.pk and again.stopped_at is None and again.next_step == 0


def test_the_beat_starts_a_chain_for_an_open_incident_nobody_started_one_for(org, policy, incident):
    t0 = incident.first_seen
    assert EscalationRun.objects.count() == 0
    escalations_advance_due(now=t0 + 1 * MIN)
    run = EscalationRun.objects.get()
    assert run.subject == incident and run.started_at == t0
    escalations_advance_due(now=t0 + 5 * MIN)
    assert escalated_to() == ["operator"]


# --- silences, maintenance windows and flapping hold the chain ----------------------------------
# Decision: a hold stops the chain's clock. Nobody is paged while the incident is silenced (its own
# silence or a maintenance window over it) or flapping; its alerts are still stored and counted.
# When the hold ends and the incident is still unacknowledged, the held step fires then and the
# later steps keep their waits after it.

@pytest.fixture
def dispatcher_chain(db):
    policy = EscalationPolicy.objects.create(name="调度员升级", severities="critical,major")
    EscalationStep.objects.create(policy=policy, order=1, wait_minutes=5, role=Role.DISPATCHER)
    EscalationStep.objects.create(policy=policy, order=2, wait_minutes=10, role=Role.MANAGER)
    return policy


def test_a_maintenance_window_stores_the_alerts_but_pages_nobody_until_it_ends(org, dispatcher_chain,
                                                                               django_capture_on_commit_callbacks):
    from alerts import silencing
    from alerts.services import Inbound, ingest_messages
    from tests.alerts.test_imap_poller import nagios

    window = silencing.silence_create(actor=org.people["operator"], reason="数据库维护",
                                      duration=dt.timedelta(minutes=60), host_pattern="szhxdb01")
    with django_capture_on_commit_callbacks(execute=True):
        for n in (1, 2, 3):
            ingest_messages(items=[Inbound(raw=nagios(n, service="Oracle Listener"), origin="upload")])
    incident = Incident.objects.get()
    assert incident.state == "open" and incident.alerts.count() == 3 and incident.silenced_count == 3

    now = dt.datetime.now(dt.UTC)
    for minutes in (5, 20, 59):
        assert escalations_advance_due(now=now + minutes * MIN) == 0
    assert not Notification.objects.filter(event__startswith="incident.").exists()  # the dispatchers slept
    run = EscalationRun.objects.get()
    assert run.next_at == window.ends_at and run.next_step == 0 and run.stopped_at is None
    # Recorded once on the incident's history, not once per beat.
    assert list(incident.events.filter(action="escalation_held").values_list("details__until", flat=True)) == [
        window.ends_at.isoformat()]

    # The window is over and nobody acknowledged: the held step pages the dispatcher now, and the
    # manager keeps the 10 minutes after it.
    assert escalations_advance_due(now=window.ends_at + MIN) == 1
    assert escalated_to() == ["dispatcher"]
    assert escalations_advance_due(now=window.ends_at + 9 * MIN) == 0
    assert escalations_advance_due(now=window.ends_at + 11 * MIN) == 1
    assert escalated_to() == ["dispatcher", "manager"]


def test_silencing_a_running_chain_holds_it_and_acknowledging_meanwhile_stops_it(org, policy, incident):
    from alerts.services import incident_silence

    t0 = start_chain(incident).started_at
    silence = incident_silence(actor=org.people["operator"], incident_pk=incident.pk, minutes=30, reason="已知问题")
    assert escalations_advance_due(now=t0 + 5 * MIN) == 0 and escalated_to() == []
    perform(Incident, incident.pk, "acknowledge", actor=org.people["operator"])
    assert escalations_advance_due(now=silence.ends_at + MIN) == 0
    assert escalated_to() == [] and EscalationRun.objects.get().stop_reason == "acknowledged"


def test_a_flapping_incident_pages_nobody_until_it_calms_down(org, policy, incident):
    t0 = start_chain(incident).started_at
    Incident.objects.filter(pk=incident.pk).update(flapping=True, recent_changes=[t0.isoformat()])
    assert escalations_advance_due(now=t0 + 5 * MIN) == 0 and escalated_to() == []
    # Still open and unacknowledged a flap window (30 minutes) after its last change: the chain goes on.
    assert escalations_advance_due(now=t0 + 31 * MIN) == 1
    assert escalated_to() == ["operator"]
