"""Odd values to every query parameter of every GET route, as every role: never a 5xx.

The routes are the URLconf's own (walked, not listed by hand), so a page or endpoint added later is
fuzzed too. The parameters are more than the OpenAPI schema declares: the schema's query parameters,
plus every name a view reads (a static scan of `request.GET` / `query_params` in the source), the
fields of every form bound to `request.GET`, the API's filter sets, pagination and the admin's
change-list switches. Hypothesis draws, per route and role, a few requests: path parameters filled with
existing objects' ids and codes or with odd values, and a handful of parameters from the whole set
with odd values (Unicode digits, NUL, lone surrogates as percent-encoded UTF-8, huge and negative
numbers, dates at the ends of the calendar, very long strings, repeated parameters `a=1&a=2`).

Bounded: a few examples per route and role (`EXAMPLES`), no shrinking; the module runs in well under
two minutes. The failures are collected and reported together, each with the request that caused it.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, quote_from_bytes

import pytest
from django.contrib.admin.views.main import ALL_VAR, ERROR_FLAG, IS_POPUP_VAR, ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.factories import make_host

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
ROLES = {"teller": "teller", "county": "county", "city": "city", "dispatcher": "dispatcher",
         "operator": "operator", "manager": "manager", "administrator": "admin"}
EXAMPLES = 2  # per route and role (the anonymous client and the admin site's routes: 1)
# Routes that change state on GET do not exist; these end the session of the client that calls them.
SKIP = {"logout", "admin:logout", "api-logout", "api-logout-all"}

ODD_TEXT = ["SR²", "①", "٣", "１２３", "\x00", "a\x00b", "\ud800", "x\udfffy", "\U0001F4A9", "", " ", "-1", "0",
            "1" + "0" * 30, "99999999999999999999", "2147483648", "-9223372036854775809", "1e309", "NaN", "inf",
            "0001-01-01", "9999-12-31", "2026-02-30", "10000-01-01", "2026-11-05T25:61:00", "true", "[]", "{}",
            "' OR 1=1 --", "<script>", "../../etc/passwd", "x" * 5000, "%", "%%00", "*", "?", "\\", "\r\n"]
ODD_PATH = ["0", "-1", "99999999999999999999999", "①", "%00", "%ED%A0%80", "%F0%9F%92%A9", "x" * 300, "..", "%2F"]


def _encode(value: str) -> str:
    """Percent-encoded UTF-8; a lone surrogate goes as the (invalid) bytes a careless client sends."""
    return quote_from_bytes(value.encode("utf-8", "surrogatepass"), safe="")


# --- the routes ------------------------------------------------------------------------------------

def _walk(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern


def routes() -> dict[str, list[str]]:
    """Every named route (one of the DRF format-suffix twins) with its path parameter names."""
    out: dict[str, list[str]] = {}
    for name, pattern in _walk(get_resolver().url_patterns):
        params = list(pattern.pattern.regex.groupindex)
        if "format" in params or name in SKIP or name in out:
            continue
        out[name] = params
    return out


# --- the parameter names -----------------------------------------------------------------------------

SCAN = re.compile(r"""(?:GET|query_params)(?:\.get(?:list)?\(|\[)\s*["']([\w\-]+)["']""")
BOUND_FORM = re.compile(r"""(\w+Form)\(\s*(?:data=)?request\.(?:GET|query_params)""")


def scanned_names() -> set[str]:
    """Names the source reads from the query string, and the fields of forms bound to it."""
    import importlib

    names: set[str] = set()
    forms: set[str] = set()
    for package in ("opsdesk", "tickets", "alerts", "reports", "notifications", "workflow"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            names |= set(SCAN.findall(text))
            forms |= set(BOUND_FORM.findall(text))
    for package in ("tickets", "alerts", "reports", "notifications", "opsdesk.audit"):
        try:
            module = importlib.import_module(f"{package}.forms")
        except ModuleNotFoundError:
            continue
        for form in forms:
            if hasattr(module, form):
                names |= set(getattr(module, form).base_fields)
    return names


def api_filter_names() -> set[str]:
    from opsdesk.api.urls import router

    names = {"limit", "offset", "ordering", "search", "format", "page"}
    for _prefix, viewset, _basename in router.registry:
        filterset = getattr(viewset, "filterset_class", None)
        if filterset is not None:
            names |= set(filterset.base_filters)
        names |= set(getattr(viewset, "filterset_fields", None) or [])
    return names


def schema_names() -> set[str]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {p["name"] for item in schema["paths"].values() for operation in item.values()
            if isinstance(operation, dict) for p in operation.get("parameters", []) if p.get("in") == "query"}


# --- the data the routes open ------------------------------------------------------------------------

@pytest.fixture
def world(org, incident):
    """The organisation, two requests with attachments, an incident, a window, notifications and a
    roster shift: so that path parameters can name real objects."""
    import datetime as dt

    from django.utils import timezone

    from alerts import silencing
    from notifications import roster
    from notifications.services import notify
    from tests.tickets.helpers import two_requests

    two_requests(org)
    make_host(org.systems[0], "core-db01")
    now = timezone.now()
    silencing.silence_create(actor=org.people["operator"], host_pattern="core-*", duration=dt.timedelta(hours=2),
                             reason="补丁")
    notify(event="request.escalate", text="给县里", key="fuzz", people=[org.people["county"]])
    roster.shift_create(actor=org.people["admin"], unit=org.counties[0], person=org.people["county"],
                        starts_at=now, ends_at=now + dt.timedelta(hours=7))
    return org


def path_pools(org) -> dict[str, list[str]]:
    from alerts.models import Incident, Silence
    from notifications.models import DutyShift, Notification
    from opsdesk.org.models import Host, ProductionSystem, Unit, User
    from reports.selectors import REPORTS
    from tickets.models import Attachment, RequestType, ServiceRequest

    ids: set[int] = set()
    for model in (ServiceRequest, Attachment, Incident, Silence, Notification, DutyShift, Unit, User,
                  ProductionSystem, Host):
        ids |= set(model.objects.values_list("pk", flat=True)[:20])
    words = ({*RequestType.objects.values_list("code", flat=True), *Unit.objects.values_list("code", flat=True),
              *REPORTS, "csv", "xlsx", "escalate", "dispatch", "pass_down", "alertmanager", "auth", "org", "user"})
    numbers = [str(i) for i in sorted(ids)]
    return {"number": numbers, "word": sorted(words) + numbers}


def fill(name: str, params: list[str], values: dict[str, str]) -> str | None:
    """The route's URL with `values` in its path parameters (raw, already percent-encoded)."""
    placeholders: dict[str, str] = {}
    for attempt in ("digits", "letters"):
        placeholders = {p: (f"77{i}77" if attempt == "digits" else f"qz{'q' * i}zq") for i, p in enumerate(params)}
        try:
            url = reverse(name, kwargs=placeholders)
            break
        except NoReverseMatch:
            continue
    else:
        return None
    for param, placeholder in placeholders.items():
        url = url.replace(placeholder, values[param], 1)
    return url


def test_no_odd_query_value_makes_any_route_answer_5xx(world):
    schema = schema_names()
    names = sorted(schema | scanned_names() | api_filter_names() |
                   {SEARCH_VAR, ORDER_VAR, PAGE_VAR, ERROR_FLAG, ALL_VAR, IS_POPUP_VAR, "next", "q", "unit"})
    # More than the schema declares: the pages' own parameters are nowhere in it.
    assert {"rule", "end"} <= set(names) - schema, sorted(set(names) - schema)

    all_routes = routes()
    pools = path_pools(world)
    clients = {}
    for role, key in ROLES.items():
        clients[role] = Client(raise_request_exception=False)
        clients[role].force_login(world.people[key])
    anonymous = Client(raise_request_exception=False)

    failures: list[str] = []
    answered: dict[str, int] = {role: 0 for role in ROLES}

    value = st.one_of(st.sampled_from(ODD_TEXT), st.text(max_size=40))
    query = st.lists(st.tuples(st.sampled_from(names), value), min_size=1, max_size=5)

    def path_value(param: str):
        pool = pools["number"] if param in {"pk", "attachment_pk", "object_id"} else pools["word"]
        return st.one_of(st.sampled_from(pool), st.sampled_from(ODD_PATH))

    def make_probe(name: str, params: list[str], role: str, client: Client, examples: int):
        path_values = st.fixed_dictionaries({p: path_value(p) for p in params})

        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(path=path_values, pairs=query)
        def probe(path, pairs):
            url = fill(name, params, {p: (v if v in ODD_PATH else quote(v, safe="")) for p, v in path.items()})
            if url is None:
                return
            # A repeated parameter (a=1&a=2) now and then: the same name twice.
            pairs = pairs + pairs[:1] if len(pairs) % 2 else pairs
            raw = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)
            response = client.get(f"{url}?{raw}")
            if response.status_code >= 500:
                failures.append(f"{role} GET {url}?{raw[:300]} → {response.status_code}")
            elif role in answered and response.status_code < 400:
                answered[role] += 1

        return probe

    for name, params in sorted(all_routes.items()):
        if name.startswith("admin:"):  # the admin site: its administrator only
            make_probe(name, params, "administrator", clients["administrator"], 1)()
            continue
        for role, client in clients.items():
            make_probe(name, params, role, client, EXAMPLES)()
        make_probe(name, params, "anonymous", anonymous, 1)()
    assert not failures, f"{len(failures)} answers were 5xx:\n" + "\n".join(failures[:40])
    # Each role really reached its pages (not only login redirects and refusals).
    assert all(count > 10 for count in answered.values()), answered
