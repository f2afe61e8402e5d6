"""The unit tree: prefix queries, moves, validation of codes and mobile numbers."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsdesk.org.choices import Role, UnitKind
from opsdesk.org.models import Unit, normalize_mobile
from tests.factories import make_person

pytestmark = pytest.mark.django_db


def test_everything_under_a_city_is_one_query(org):
    city = org.cities[0]
    with CaptureQueriesContext(connection) as ctx:
        codes = sorted(Unit.objects.under(city).values_list("code", flat=True))
    assert len(ctx.captured_queries) == 1
    assert codes == ["C1", "K1", "K2", "O1", "O2", "O3", "O4"]


def test_is_inside_follows_the_tree(org):
    outlet = org.outlets[0]
    assert outlet.is_inside(org.counties[0])
    assert outlet.is_inside(org.cities[0])
    assert outlet.is_inside(org.province)
    assert not outlet.is_inside(org.counties[1])
    assert not outlet.is_inside(org.cities[1])


def test_nearest_finds_the_county_of_an_outlet(org):
    assert org.outlets[3].nearest(UnitKind.COUNTY) == org.counties[1]
    assert org.outlets[3].nearest(UnitKind.CITY) == org.cities[0]


def test_moving_a_county_moves_its_outlets(org):
    county = org.counties[0]
    county.parent = org.cities[1]
    county.save()
    outlet = Unit.objects.get(code="O1")
    assert outlet.path == "P/C2/K1/O1/"
    assert outlet.depth == 3
    assert outlet.is_inside(org.cities[1])
    assert not Unit.objects.under(org.cities[0]).filter(code="O1").exists()


def test_a_unit_cannot_move_under_its_own_outlet(org):
    county = org.counties[0]
    county.parent = org.outlets[0]
    with pytest.raises(ValidationError):
        county.full_clean()


def test_duplicate_unit_code_is_refused_in_chinese(org):
    with pytest.raises(ValidationError) as exc:
        Unit(code="K1", name="重复", kind=UnitKind.COUNTY, parent=org.cities[0]).full_clean()
    assert "已存在" in str(exc.value)


@pytest.mark.parametrize("raw, normalized", [
    ("13800138000", "13800138000"), ("+86 138-0013-8000", "13800138000"), ("0086 13800138000", "13800138000"),
])
def test_mobile_numbers_are_normalised(raw, normalized):
    assert normalize_mobile(raw) == normalized


@pytest.mark.parametrize("bad", ["12345", "23800138000", "1380013800a", "138001380001"])
def test_invalid_mobile_is_refused_in_chinese(org, bad):
    person = org.people["teller"]
    person.mobile = bad
    with pytest.raises(ValidationError) as exc:
        person.full_clean()
    assert "手机号码" in " ".join(exc.value.messages)


def test_role_must_fit_the_unit(org):
    with pytest.raises(ValidationError) as exc:
        make_person(org.outlets[0], Role.DISPATCHER)
    assert "roles" in exc.value.message_dict
