"""Who receives a hand-off to a unit: the people on duty, substitutes, or everyone reachable."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from notifications.models import Duty, Notification
from notifications.roster import recipients_for_unit, shift_create
from opsdesk.org.choices import Role
from tests.factories import make_person

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def on_shift(unit, person, *, substitute=False, start=None, hours=8, duty=Duty.REQUESTS):
    start = start or timezone.now() - HOUR
    return shift_create(unit=unit, person=person, starts_at=start, ends_at=start + hours * HOUR,
                        is_substitute=substitute, duty=duty)


def test_without_a_roster_everyone_reachable_in_the_unit_receives(org):
    group = org.groups[0]
    silent = make_person(group, Role.GROUP_MEMBER, mobile="")
    receivers = recipients_for_unit(group)
    assert set(receivers) == {org.people["member"], org.people["lead"]}
    assert silent not in receivers


def test_the_people_on_shift_now_receive_and_nobody_else(org):
    group = org.groups[0]
    on_shift(group, org.people["member"])
    on_shift(group, org.people["lead"], start=timezone.now() + 2 * HOUR)  # later today
    assert recipients_for_unit(group) == [org.people["member"]]


def test_a_substitute_receives_when_the_person_on_shift_cannot_be_reached(org):
    group = org.groups[0]
    unreachable = make_person(group, Role.GROUP_MEMBER, mobile="")
    on_shift(group, unreachable)
    on_shift(group, org.people["lead"], substitute=True)
    assert recipients_for_unit(group) == [org.people["lead"]]


def test_a_gap_in_the_roster_falls_back_to_the_unit(org):
    group = org.groups[0]
    on_shift(group, org.people["member"], start=timezone.now() - 10 * HOUR)  # ended two hours ago
    assert set(recipients_for_unit(group)) == {org.people["member"], org.people["lead"]}


def test_a_shift_must_end_after_it_starts_and_not_overlap_the_same_persons_shift(org):
    group, member = org.groups[0], org.people["member"]
    now = timezone.now()
    with pytest.raises(ValidationError) as exc:
        shift_create(unit=group, person=member, starts_at=now, ends_at=now - HOUR)
    assert "ends_at" in exc.value.message_dict
    on_shift(group, member)
    with pytest.raises(ValidationError):
        on_shift(group, member, start=now)


def test_a_request_filed_by_a_teller_reaches_the_county_person_on_duty(org, django_capture_on_commit_callbacks):
    from tests.tickets.helpers import file_fault_report

    county = org.counties[0]
    second = make_person(county, Role.COUNTY_SUPPORT)
    on_shift(county, second)
    with django_capture_on_commit_callbacks(execute=True):
        request = file_fault_report(org)
    rows = Notification.objects.filter(object_id=str(request.pk))
    assert [n.recipient for n in rows] == [second]
    assert rows[0].status == "sent"


def test_operators_on_duty_are_those_on_the_operations_roster(org):
    from notifications.roster import on_duty_with_role

    night = make_person(org.ops, Role.OPERATOR)
    assert on_duty_with_role(Role.OPERATOR) == [org.people["operator"], night]  # no roster: all of them
    on_shift(org.ops, night, duty=Duty.ALERTS)
    on_shift(org.ops, org.people["dispatcher"], duty=Duty.ALERTS)  # on shift, but not an operator
    assert on_duty_with_role(Role.OPERATOR) == [night]


# --- rosters per duty (请求处理 / 告警值班) -------------------------------------------------------

def sms_to(event_prefix: str) -> list:
    return [n.recipient for n in Notification.objects.filter(event__startswith=event_prefix).order_by("pk")]


def test_rostering_the_night_operator_does_not_take_the_dispatchers_request_sms(org, django_capture_on_commit_callbacks):
    """The operations department keeps two rosters: its dispatchers for requests, its operators for
    alarms. The night operator on alert duty is paged for a critical alarm; the request that
    reaches provincial operations goes to the dispatcher on request duty, not to the operator."""
    from alerts.services import Inbound, ingest_messages
    from tests.alerts.test_imap_poller import nagios
    from tests.tickets.helpers import act, file_fault_report

    ops, dispatcher = org.ops, org.people["dispatcher"]
    night = make_person(ops, Role.OPERATOR)
    on_shift(ops, night, duty=Duty.ALERTS)
    on_shift(ops, dispatcher, duty=Duty.REQUESTS)

    raw = nagios(1, host="core-db01", service="Oracle Listener")
    with django_capture_on_commit_callbacks(execute=True):
        handled = ingest_messages(items=[Inbound(raw=raw, origin="upload")])
    assert handled[0].outcome == "alert", handled[0]
    assert sms_to("incident.") == [night]

    with django_capture_on_commit_callbacks(execute=True):
        request = file_fault_report(org)
    with django_capture_on_commit_callbacks(execute=True):
        act(request, "escalate", org.people["county"], "县里处理不了")
    with django_capture_on_commit_callbacks(execute=True):
        act(request, "escalate", org.people["city"], "请省中心处理")
    at_province = Notification.objects.filter(object_id=str(request.pk), event="request.escalate",
                                              recipient__unit=ops)
    assert [n.recipient for n in at_province] == [dispatcher]


def test_a_unit_without_a_roster_for_a_duty_falls_back_to_everyone_reachable(org):
    ops = org.ops
    night = make_person(ops, Role.OPERATOR)
    on_shift(ops, night, duty=Duty.ALERTS)  # an alert roster only
    # Requests: no request roster, so everyone reachable in the unit, as before rosters had duties.
    everyone = set(ops.people.filter(is_active=True).exclude(mobile=""))
    assert set(recipients_for_unit(ops, duty=Duty.REQUESTS)) == everyone
    assert recipients_for_unit(ops, duty=Duty.ALERTS) == [night]


def test_the_roster_page_adds_a_shift_for_a_duty(org, client):
    from django.urls import reverse

    client.force_login(org.people["admin"])
    night = make_person(org.ops, Role.OPERATOR)
    start = timezone.localtime(timezone.now() - HOUR).strftime("%Y-%m-%dT%H:%M")
    end = timezone.localtime(timezone.now() + 8 * HOUR).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("notifications:roster", args=[org.ops.code]),
                           {"person": night.pk, "duty": Duty.ALERTS, "starts_at": start, "ends_at": end})
    assert response.status_code == 302
    page = client.get(reverse("notifications:roster", args=[org.ops.code])).content.decode()
    assert "告警值班" in page
    from notifications.roster import on_duty_with_role
    assert on_duty_with_role(Role.OPERATOR) == [night]
