"""Who receives a hand-off to a unit: the people on duty, substitutes, or everyone reachable."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from notifications.models import Notification
from notifications.roster import recipients_for_unit, shift_create
from opsdesk.org.choices import Role
from tests.factories import make_person

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def on_shift(unit, person, *, substitute=False, start=None, hours=8):
    start = start or timezone.now() - HOUR
    return shift_create(unit=unit, person=person, starts_at=start, ends_at=start + hours * HOUR,
                        is_substitute=substitute)


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
    on_shift(org.ops, night)
    on_shift(org.ops, org.people["dispatcher"])  # on shift, but not an operator
    assert on_duty_with_role(Role.OPERATOR) == [night]
