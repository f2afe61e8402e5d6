import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from opsdesk.org.choices import Role, UnitKind
from opsdesk.org.models import Host, ProductionSystem, Unit, User
from opsdesk.org.seeding import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_demo_seed_creates_a_small_province_and_prints_logins(capsys):
    call_command("seed_org", "--scale", "demo")
    out = capsys.readouterr().out
    assert Unit.objects.filter(kind=UnitKind.CITY).count() == 2
    assert Unit.objects.filter(kind=UnitKind.COUNTY).count() == 4
    assert Unit.objects.filter(kind=UnitKind.OUTLET).count() == 8
    assert Unit.objects.filter(kind=UnitKind.SUPPORT_GROUP).count() == 8
    assert ProductionSystem.objects.filter(name="核心系统").exists()
    assert Host.objects.get(hostname="szhxdb01").system.name == "核心系统"
    # Every role but the legacy all-in-one administrator: the seed separates the administrators (issue 17).
    for role in set(Role.values) - {Role.ADMINISTRATOR}:
        assert any(role in u.roles for u in User.objects.all()), role
    assert DEMO_PASSWORD in out
    assert "teller-gz01-001-1" in out
    # With a request, as every login passes one (django-axes counts failures by account and address).
    assert authenticate(RequestFactory().post("/accounts/login/"), username="teller-gz01-001-1",
                        password=DEMO_PASSWORD) is not None


def test_seed_is_idempotent():
    call_command("seed_org", "--scale", "demo")
    counts = (Unit.objects.count(), User.objects.count(), ProductionSystem.objects.count(), Host.objects.count())
    call_command("seed_org", "--scale", "demo")
    assert (Unit.objects.count(), User.objects.count(), ProductionSystem.objects.count(),
            Host.objects.count()) == counts


def test_seeded_tree_paths_answer_prefix_queries():
    call_command("seed_org", "--scale", "demo")
    city = Unit.objects.get(code="C-GZ")
    outlets = Unit.objects.under(city).filter(kind=UnitKind.OUTLET)
    assert outlets.count() == 4
    assert all(o.nearest(UnitKind.CITY) == city for o in outlets)
