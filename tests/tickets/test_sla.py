"""SLA timers: near breach and breach reach the holder and its supervisor once; the clock stands
still while the request waits for the teller."""

from __future__ import annotations

import datetime as dt

import pytest

from notifications.models import Notification, SlaClock, SlaPolicy
from tests.tickets.helpers import act, file_fault_report, fresh
from tickets.sla import policy_for, sla_check_all, sla_check_request

pytestmark = pytest.mark.django_db

MIN = dt.timedelta(minutes=1)


@pytest.fixture
def county_policy(db):
    return SlaPolicy.objects.create(name="县级报障", request_type="fault_report", level="county",
                                    first_response_minutes=10, resolution_minutes=30, near_breach_percent=80)


def announced() -> list[tuple[str, str]]:
    return [(n.event, n.recipient.username) for n in
            Notification.objects.filter(event__startswith="sla.").order_by("pk")]


def test_the_most_specific_policy_applies(org, county_policy):
    SlaPolicy.objects.create(name="默认", first_response_minutes=60, resolution_minutes=240)
    SlaPolicy.objects.create(name="报障", request_type="fault_report", first_response_minutes=30,
                             resolution_minutes=120)
    request = file_fault_report(org)
    assert policy_for(request) == county_policy
    county_policy.is_active = False
    county_policy.save()
    assert policy_for(request).name == "报障"


def test_near_breach_and_breach_reach_the_holder_and_the_supervisor_once(org, county_policy):
    request = file_fault_report(org)
    t0 = fresh(request).held_since
    assert sla_check_request(request_id=request.pk, now=t0 + 7 * MIN) == []
    assert sla_check_request(request_id=request.pk, now=t0 + 8 * MIN) == ["response_near"]
    # The county's person holds it; the city's manager supervises the county centre.
    assert announced() == [("sla.near_breach", "county1"), ("sla.near_breach", "manager_c1")]
    near = Notification.objects.filter(event="sla.near_breach").first()
    assert near.text.startswith(f"【运维服务台】服务请求{request.number}") and "首次响应" in near.text
    assert sla_check_request(request_id=request.pk, now=t0 + 9 * MIN) == []  # said once
    assert sla_check_request(request_id=request.pk, now=t0 + 10 * MIN) == ["response_breach"]
    assert sla_check_request(request_id=request.pk, now=t0 + 24 * MIN) == ["resolution_near"]
    assert sla_check_request(request_id=request.pk, now=t0 + 30 * MIN) == ["resolution_breach"]
    assert len(announced()) == 8


def test_a_response_by_the_holder_stops_the_first_response_clock(org, county_policy):
    request = file_fault_report(org)
    t0 = fresh(request).held_since
    act(request, "claim", org.people["county"])
    assert sla_check_request(request_id=request.pk, now=t0 + 12 * MIN) == []
    assert SlaClock.objects.get(request_id=request.pk).responded_at is not None


def test_the_clock_stands_still_while_waiting_for_the_teller(org, county_policy):
    from tickets.models import ServiceRequest

    request = file_fault_report(org)
    t0 = fresh(request).held_since
    sla_check_request(request_id=request.pk, now=t0 + 1 * MIN)
    act(request, "ask_info", org.people["county"], comment="请提供交易流水号")
    sla_check_request(request_id=request.pk, now=t0 + 2 * MIN)
    assert SlaClock.objects.get(request_id=request.pk).paused_at is not None
    act(request, "provide_info", org.people["teller"], comment="流水号 20261120-0001")
    # The teller took 40 minutes to answer.
    ServiceRequest.objects.filter(pk=request.pk).update(held_since=t0 + 40 * MIN)
    assert sla_check_request(request_id=request.pk, now=t0 + 45 * MIN) == []  # 5 working minutes
    clock = SlaClock.objects.get(request_id=request.pk)
    assert clock.paused_at is None and 39 * 60 < clock.paused_seconds <= 40 * 60
    assert sla_check_request(request_id=request.pk, now=t0 + 65 * MIN) == ["resolution_near"]


def test_the_beat_checks_every_open_request_and_stops_clocks_of_closed_ones(org, county_policy):
    request = file_fault_report(org)
    t0 = fresh(request).held_since
    counts = sla_check_all(now=t0 + 8 * MIN)
    assert counts["checked"] == 1 and counts["response_near"] == 1
    act(request, "answer", org.people["county"], comment="已处理")
    act(request, "confirm", org.people["teller"], rating=5)
    sla_check_all(now=t0 + 9 * MIN)
    assert SlaClock.objects.get(request_id=request.pk).stopped_at is not None


def test_a_breached_request_under_an_auto_escalating_policy_is_escalated_by_the_system(org, county_policy):
    from tickets.models import RequestEvent

    county_policy.auto_escalate = True
    county_policy.save()
    request = file_fault_report(org)
    t0 = fresh(request).held_since
    done = sla_check_request(request_id=request.pk, now=t0 + 31 * MIN)
    assert "escalated" in done
    escalated = RequestEvent.objects.filter(request=request, name="escalate").get()
    assert escalated.actor is None  # the audit trail says: done by the desk itself
    assert "自动上报" in escalated.comment
    assert fresh(request).holder_unit == org.cities[0]
    # Once escalated, the county's clock has stopped: nothing more to do for it.
    assert "escalated" not in sla_check_request(request_id=request.pk, now=t0 + 32 * MIN)


def test_a_person_still_cannot_escalate_a_request_their_unit_does_not_hold(org):
    from tickets.models import ServiceRequest
    from workflow.engine import TransitionForbidden, perform

    request = file_fault_report(org)
    with pytest.raises(TransitionForbidden):
        perform(ServiceRequest, request.pk, "escalate", actor=org.people["county_other"], comment="不是我的")
