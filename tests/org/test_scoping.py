"""The scoping matrix for units: every role against its own and foreign units. Default deny."""

import pytest

from notifications.models import Notification
from opsdesk import scoping
from opsdesk.org.models import Unit
from tests.factories import make_person

pytestmark = pytest.mark.django_db

ALL = ["P", "OPS", "G1", "G2", "C1", "C2", "K1", "K2", "K3", "K4", "O1", "O2", "O3", "O4", "O5", "O6", "O7", "O8"]

# person → the unit codes they see. Everyone sees their own chain up to the province (to know
# where requests go); below that only what they are responsible for.
EXPECTED_UNITS = {
    "admin": ALL,
    "teller": ["P", "C1", "K1", "O1"],
    "teller_other": ["P", "C2", "K4", "O8"],
    "county": ["P", "C1", "K1", "O1", "O2"],
    "county_other": ["P", "C2", "K4", "O7", "O8"],
    "city": ["P", "C1", "K1", "K2", "O1", "O2", "O3", "O4"],
    "city_other": ["P", "C2", "K3", "K4", "O5", "O6", "O7", "O8"],
    "dispatcher": ["P", "OPS"],
    "member": ["P", "OPS", "G1"],
    "lead": ["P", "OPS", "G1"],
    "member_other": ["P", "OPS", "G2"],
    "operator": ["P", "OPS"],
    "manager": ALL,
    "city_manager": ["P", "C1", "K1", "K2", "O1", "O2", "O3", "O4"],
}


@pytest.mark.parametrize("who", sorted(EXPECTED_UNITS))
def test_units_each_role_sees(org, who):
    person = org.people[who]
    seen = sorted(scoping.visible_units(person).values_list("code", flat=True))
    assert seen == sorted(EXPECTED_UNITS[who])


@pytest.mark.parametrize("who", sorted(EXPECTED_UNITS))
def test_can_view_agrees_with_the_list(org, who):
    person = org.people[who]
    for unit in Unit.objects.all():
        assert scoping.can_view(person, unit) == (unit.code in EXPECTED_UNITS[who]), unit.code


def test_anonymous_and_inactive_people_see_nothing(org):
    from django.contrib.auth.models import AnonymousUser

    assert not scoping.visible_units(AnonymousUser()).exists()
    person = org.people["manager"]
    person.is_active = False
    person.save()
    assert not scoping.visible_units(person).exists()


def test_person_without_unit_or_role_sees_nothing(org):
    nobody = make_person(None)
    assert not scoping.visible_units(nobody).exists()
    role_less = make_person(org.cities[0])
    assert sorted(scoping.visible_units(role_less).values_list("code", flat=True)) == ["C1", "P"]


def test_a_model_without_a_rule_is_denied_to_everyone_but_administrators(org):
    Notification.objects.create(event="test", text="x", idempotency_key="k1")
    for who, person in org.people.items():
        visible = scoping.restrict(person, Notification.objects.all()).count()
        assert visible == (1 if who == "admin" else 0), who


def test_teller_role_in_a_county_unit_grants_no_requests_scope(org):
    # A role that does not fit the unit (possible only through raw data) must not widen scope.
    person = org.people["county"]
    person.roles = ["teller"]
    assert scoping.origin_roots(person) == []
