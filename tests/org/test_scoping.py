"""The scoping matrix for units: every role against its own and foreign units. Default deny, one rule
per model, an explicit allow-list of reference data."""

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from alerts.models import WebhookSource
from opsdesk import scoping
from opsdesk.org.models import ProductionSystem, Unit
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
def test_a_unit_opens_exactly_when_it_is_listed(org, api_client_for, who):
    # The list and each unit's own page answer the same question: listed units open, others are 404.
    client = api_client_for(org.people[who])
    listed = {unit["code"] for unit in client.get("/api/units/", {"limit": 100}).json()["results"]}
    assert listed == set(EXPECTED_UNITS[who])
    for unit in Unit.objects.all():
        expected = 200 if unit.code in EXPECTED_UNITS[who] else 404
        assert client.get(f"/api/units/{unit.pk}/").status_code == expected, unit.code


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
    assert "alerts.webhooksource" not in scoping.ruled_models()
    source = WebhookSource(name="prom", slug="prom", kind="alertmanager")
    source.set_token()
    source.save()
    for who, person in org.people.items():
        visible = scoping.restrict(person, WebhookSource.objects.all()).count()
        assert visible == (1 if who == "admin" else 0), who


def test_reference_data_is_an_explicit_allow_list_seen_by_everyone(org):
    assert scoping.reference_models() == {"org.productionsystem", "tickets.requesttype"}
    for who, person in org.people.items():
        assert scoping.restrict(person, ProductionSystem.objects.all()).count() == len(org.systems), who


def test_every_rule_names_a_model_of_the_desk():
    for label in scoping.ruled_models():
        assert apps.get_model(label), label


def test_a_model_has_one_rule(org):
    def another_rule(user, queryset):
        return queryset

    with pytest.raises(ImproperlyConfigured):
        scoping.register("org.unit")(another_rule)
    # The first rule stays: a teller still sees their chain, not every unit.
    assert scoping.visible_units(org.people["teller"]).count() == len(EXPECTED_UNITS["teller"])


def test_teller_role_in_a_county_unit_grants_no_requests_scope(org):
    # A role that does not fit the unit (possible only through raw data) must not widen scope.
    person = org.people["county"]
    person.roles = ["teller"]
    assert scoping.origin_roots(person) == []
