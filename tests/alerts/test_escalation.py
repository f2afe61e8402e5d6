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
