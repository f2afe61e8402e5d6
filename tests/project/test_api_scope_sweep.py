"""The scope sweep: every route on the API router, for every role of the test organisation.

For each route the desk's data holds rows of, every person lists it, opens every row and tries one
unsafe method on every row. What a person may see lists and opens (200); what is outside their scope
is left out of the list and answers 403 or 404, never 200 with its data and never 500 (the test
client raises on a server error); an unsafe method on it is refused and changes nothing. `SWEEP`
says, per route, who sees which row; a route added to the router without an entry here fails
`test_the_sweep_covers_every_route`.

The data is built through the services and factories the other tests use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone

from alerts import silencing
from notifications import roster
from notifications.models import Notification
from notifications.services import notify
from opsdesk.api.base import Scope, ScopedViewSetMixin
from opsdesk.api.urls import router
from reports.selectors import REPORTS
from tests.factories import make_host
from tests.org.test_scoping import EXPECTED_UNITS
from tests.tickets.helpers import two_requests
from tests.tickets.test_scoping_matrix import SEES as REQUEST_SEES
from tickets.models import RequestType
from tickets.services import saved_view_save

pytestmark = pytest.mark.django_db

VIEWSETS = {prefix: viewset for prefix, viewset, _basename in router.registry}

# The people on the alert board; the provincial centre's staff (with its managers and administrators).
BOARD = {"dispatcher", "operator", "member", "lead", "member_other"}
CENTRE = BOARD | {"manager", "admin"}
# No statistics to read: a teller's outlet is not a reader's unit; the board reads incidents, not figures.
NO_STATISTICS = {"teller", "teller_other", "member", "lead", "member_other", "operator"}


@dataclass(frozen=True)
class Route:
    """Who sees which row of a route, and the unsafe method tried on each row."""

    # (role, person, row) → True: lists and opens; False: outside scope; None: either (decided elsewhere).
    sees: Callable[[str, object, object], bool | None]
    probe: tuple[str, str | None, dict | None]  # method, path under the row (None: the list), body
    refused: frozenset[int] = frozenset({403, 404})  # how the unsafe method answers outside scope
    admin_writes: bool = False  # only administrators write: refused (403/405) in scope too
    changes_in_scope: bool = False  # the probe may change a row in scope (a comment, an ended window)
    list_forbidden_outside: bool = False  # outside scope the list is 403, not empty
    footprint: Callable[[object], object] | None = None  # more that the probe must leave unchanged
    sample: Callable[[type], list] | None = None  # the rows to open; default: the viewset's queryset
    key: str = "id"


def _rows(viewset) -> list:
    return list(viewset.queryset.all())  # unscoped: every row the route could show


READ_ONLY = frozenset({403, 405})  # no unsafe method at all: 405, or 403 before the method is looked at
ADMIN_ONLY = dict(admin_writes=True)

SWEEP: dict[str, Route] = {
    "units": Route(lambda who, person, unit: unit.code in EXPECTED_UNITS[who], ("delete", "", None),
                   **ADMIN_ONLY),
    "people": Route(lambda who, person, other: who == "admin", ("patch", "", {"display_name": "改名"}),
                    **ADMIN_ONLY),
    "systems": Route(lambda who, person, system: True, ("patch", "", {"name": "改名"}), **ADMIN_ONLY),
    "hosts": Route(lambda who, person, host: who in BOARD | {"admin"}, ("delete", "", None), **ADMIN_ONLY),
    "request-types": Route(lambda who, person, rtype: True, ("post", None, {}), refused=READ_ONLY, key="code",
                           **ADMIN_ONLY),
    "requests": Route(lambda who, person, request: request.subject[-1] in REQUEST_SEES[who],
                      ("post", "comments/", {"body": "看一下"}), changes_in_scope=True,
                      footprint=lambda request: request.comments.count()),
    # A saved search is its owner's alone (administrators too see only their own).
    "saved-views": Route(lambda who, person, view: view.owner_id == person.pk, ("delete", "", None),
                         changes_in_scope=True),
    "incidents": Route(lambda who, person, incident: who in CENTRE,
                       ("post", "acknowledge/", {"expected_version": 99})),  # stale: 409 (or 403) in scope
    "silences": Route(lambda who, person, silence: who in BOARD | {"admin"}, ("post", "end/", None),
                      changes_in_scope=True, list_forbidden_outside=True),
    "notifications": Route(lambda who, person, notification: who == "admin", ("post", "resend/", None),
                           **ADMIN_ONLY),
    "my-notifications": Route(lambda who, person, notification: notification.recipient_id == person.pk,
                              ("delete", "", None), refused=READ_ONLY, **ADMIN_ONLY),
    # A roster is read by its unit's chain (the unit and the centres above it) and the dispatchers.
    "rosters": Route(lambda who, person, shift: who in ("admin", "dispatcher") or shift.unit.is_inside(person.unit),
                     ("delete", "", None), **ADMIN_ONLY),
    "reports": Route(lambda who, person, name: False if who in NO_STATISTICS else None, ("post", None, {}),
                     refused=READ_ONLY, sample=lambda viewset: list(REPORTS), key="name", **ADMIN_ONLY),
}


@pytest.fixture
def desk(org, incident):
    """The organisation's units and people, with two requests (the scoping matrix's A and B), two
    hosts, an incident and a maintenance window, notifications and two duty shifts."""
    p = org.people
    pair = two_requests(org)
    a, b = pair["A"], pair["B"]
    saved_view_save(owner=p["county"], name="本县未结", query="open=true")
    make_host(org.systems[0], "core-db01")
    make_host(org.systems[1], "credit-app01")
    silencing.silence_create(actor=p["operator"], host_pattern="core-*", duration=dt.timedelta(hours=2),
                             reason="变更窗口")
    notify(event="request.dispatch", text="给组员", key="sweep-a", people=[p["member"]], about=a)
    notify(event="request.escalate", text="给县里", key="sweep-b", people=[p["county_other"]], about=b)
    now = timezone.now()
    for unit, person in ((org.groups[0], p["member"]), (org.counties[3], p["county_other"])):
        roster.shift_create(unit=unit, person=person, starts_at=now - dt.timedelta(hours=1),
                            ends_at=now + dt.timedelta(hours=7), actor=p["admin"])
    return org


def test_the_sweep_covers_every_route():
    assert set(SWEEP) == set(VIEWSETS)


@pytest.mark.parametrize("prefix", sorted(VIEWSETS))
def test_every_route_is_scoped_by_the_api_base(prefix):
    viewset = VIEWSETS[prefix]
    assert issubclass(viewset, ScopedViewSetMixin), prefix
    if viewset.scope != Scope.SELECTORS:
        assert viewset.queryset is not None, prefix


def _listed(data, key: str) -> set[str]:
    items = data["results"] if isinstance(data, dict) else data
    return {str(item[key]) for item in items}


def _key(row, key: str) -> str:
    if isinstance(row, str):
        return row
    return str(row.pk if key == "id" else getattr(row, key))


def _footprint(route: Route, row):
    if isinstance(row, str):
        return row
    fresh = type(row)._default_manager.filter(pk=row.pk)
    return (list(fresh.values()), route.footprint(row) if route.footprint else None)


@pytest.mark.parametrize("prefix", sorted(VIEWSETS))
def test_every_role_sees_its_scope_and_nothing_else(prefix, desk, api_client_for):
    route, viewset = SWEEP[prefix], VIEWSETS[prefix]
    rows = route.sample(viewset) if route.sample else _rows(viewset)
    assert rows, f"the sweep's data has no row for /api/{prefix}/"
    for who, person in desk.people.items():
        client = api_client_for(person)
        visible = {_key(row, route.key) for row in rows if route.sees(who, person, row) is not False}
        response = client.get(f"/api/{prefix}/", {"limit": 1000})
        if response.status_code == 403:
            assert route.list_forbidden_outside and not visible, (prefix, who)
        else:
            assert response.status_code == 200, (prefix, who, response.status_code)
            listed = _listed(response.json(), route.key)
            if prefix == "reports":
                assert listed == set(REPORTS), who  # the catalogue of names; each table is scoped
            else:
                assert listed == visible, (prefix, who)
        for row in rows:
            sees = route.sees(who, person, row)
            status = client.get(f"/api/{prefix}/{_key(row, route.key)}/").status_code
            allowed = {200} if sees else {403, 404} if sees is False else {200, 403}
            assert status in allowed, (prefix, who, _key(row, route.key), status)

    # Unsafe methods after every read: in scope, some may change a row (add a comment, end a window).
    method, path, body = route.probe
    for who, person in desk.people.items():
        if who == "admin":  # nothing is outside their scope, and their writes are real
            continue
        client = api_client_for(person)
        for row in rows:
            url = f"/api/{prefix}/" if path is None else f"/api/{prefix}/{_key(row, route.key)}/{path}"
            before = _footprint(route, row)
            status = getattr(client, method)(url, body, format="json").status_code
            sees = route.sees(who, person, row)
            assert status < 500, (prefix, who, method, url, status)
            if sees is False:
                assert status in route.refused, (prefix, who, method, url, status)
            elif route.admin_writes:
                assert status in {403, 405}, (prefix, who, method, url, status)
            if sees is False or not route.changes_in_scope:
                assert _footprint(route, row) == before, (prefix, who, method, url)


def test_a_teller_gets_no_host_inventory(desk, api_client_for):
    teller = api_client_for(desk.people["teller"])
    assert teller.get("/api/hosts/").json()["count"] == 0
    for host in _rows(VIEWSETS["hosts"]):
        assert teller.get(f"/api/hosts/{host.pk}/").status_code == 404
        assert teller.delete(f"/api/hosts/{host.pk}/").status_code in (403, 404)
    assert teller.post("/api/hosts/", {"hostname": "x", "system": "core"}, format="json").status_code == 403


@pytest.mark.parametrize("who", sorted(EXPECTED_UNITS))
def test_every_role_still_has_what_it_needs(desk, api_client_for, who):
    client = api_client_for(desk.people[who])
    # Reference data for the forms: every request type on offer and every production system.
    types = {t["code"] for t in client.get("/api/request-types/").json()}
    assert types == set(RequestType.objects.filter(is_active=True).values_list("code", flat=True)) != set()
    assert client.get("/api/systems/").json()["count"] == len(desk.systems)
    # Its own unit (and the chain above it, where requests go), its own profile.
    me = client.get("/api/me/").json()
    units = {u["code"] for u in client.get("/api/units/", {"limit": 100}).json()["results"]}
    assert {me["unit"], desk.province.code} <= units


def test_people_see_their_own_notifications_and_only_administrators_the_log(desk, api_client_for):
    member, admin = desk.people["member"], desk.people["admin"]
    mine = api_client_for(member).get("/api/my-notifications/", {"limit": 100}).json()["results"]
    own = Notification.objects.filter(recipient=member).values_list("pk", flat=True)
    assert {n["id"] for n in mine} == set(own)
    assert "给组员" in {n["text"] for n in mine} and "给县里" not in {n["text"] for n in mine}
    assert api_client_for(member).get("/api/notifications/").json()["count"] == 0
    # Administrators read everybody's in the delivery log; "my notifications" stay their own.
    assert api_client_for(admin).get("/api/notifications/").json()["count"] == Notification.objects.count()
    assert api_client_for(admin).get("/api/my-notifications/").json()["count"] == \
        Notification.objects.filter(recipient=admin).count()
