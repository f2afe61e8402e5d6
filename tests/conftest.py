"""Shared fixtures: the organisation tree, logged-in clients, and the real browser."""

from __future__ import annotations

import os
import uuid

import pytest

# Playwright's sync API runs an event loop in the test thread; the live server's database is
# reached from plain synchronous Django code, which is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from tests.factories import PASSWORD, build_org  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def org(db):
    return build_org()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def api_client_for(db):
    """api_client_for(person) → a DRF client authenticated as that person."""
    from rest_framework.test import APIClient

    def make(person):
        client = APIClient()
        client.force_authenticate(person)
        return client

    return make


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture
def browser_login(page, live_server):
    """browser_login(username) → the Playwright page, logged in through the real login form."""

    def login(username: str, password: str = PASSWORD):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    return login


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 is deliberately slow; tests create many people.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def incident(org):
    """An open critical incident on the core system, written directly (tests of escalation and of
    the SMS pipeline need one without going through the alert intake)."""
    from django.utils import timezone

    from alerts.models import Incident

    now = timezone.now()
    return Incident.objects.create(dedup_key=f"core-db01|oracle|{uuid.uuid4().hex}", source="script",
                                   host="core-db01", check_name="oracle listener", category="db",
                                   severity="critical", system=org.systems[0], summary="监听进程不存在",
                                   first_seen=now, last_seen=now)
