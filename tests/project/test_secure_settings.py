"""Production defaults as the bank's engineer meets them: `check --deploy` is clean with the documented
variables, no process starts on a public or placeholder secret key, HTTPS is on unless switched off,
and only the trusted proxies can say a request came in over HTTPS.

The suite itself runs with DJANGO_HTTPS=false and a test key (pyproject.toml, [tool.pytest_env]);
the tests here that need the production defaults start their own processes without them.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEVELOPMENT_KEY = "opsdesk-insecure-development-key-change-me"
DESK = "desk.bank.example"


def production_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """The environment of a production process: only the documented variables, nothing the test run
    (or the developer's shell) set for DJANGO_*, OPSDESK_*, GUNICORN_* or CELERY_*."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "OPSDESK_", "GUNICORN_", "CELERY_")) and k != "DATABASE_URL"}
    env.update({
        "DJANGO_SETTINGS_MODULE": "opsdesk.settings",
        # Not connected to by `check`; an address nothing answers on would only slow a mistake down.
        "DATABASE_URL": "postgresql://opsdesk:secret@127.0.0.1:5432/opsdesk",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": DESK,
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "OPSDESK_VAR_DIR": str(tmp_path / "var"),
    })
    env.update(values)
    return {k: v for k, v in env.items() if v is not None}


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    # The timeout only ends a process that should have stopped at once; nothing is timed.
    return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", *args], env)


def test_check_deploy_is_clean_with_the_documented_production_variables(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    print(f"$ python manage.py check --deploy --fail-level WARNING\n{result.stdout}{result.stderr}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_plain_http_is_a_visible_choice(tmp_path):
    """DJANGO_HTTPS=false turns off the redirect, HSTS and Secure cookies: the deploy check says so."""
    result = manage("check", "--deploy", "--fail-level", "WARNING",
                    env=production_env(tmp_path, DJANGO_HTTPS="false"))
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr, result.stderr


ENTRY_POINTS = {
    "migrate": [sys.executable, "manage.py", "migrate", "--noinput"],
    "poller": [sys.executable, "manage.py", "poll_alerts"],
    "gunicorn": [str(BIN / "gunicorn"), "opsdesk.wsgi:application", "-c", "deploy/gunicorn.conf.py",
                 "--bind", "127.0.0.1:0"],
    "celery-worker": [str(BIN / "celery"), "-A", "opsdesk", "worker", "--loglevel", "INFO"],
    "celery-beat": [str(BIN / "celery"), "-A", "opsdesk", "beat", "--loglevel", "INFO"],
}


def assert_one_line_naming_the_key(result: subprocess.CompletedProcess) -> None:
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0, output
    assert "Traceback" not in output
    assert len(output.splitlines()) == 1, output
    assert "DJANGO_SECRET_KEY" in output


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_no_process_starts_without_a_secret_key_in_production(entry_point, tmp_path):
    result = run(ENTRY_POINTS[entry_point], production_env(tmp_path, DJANGO_SECRET_KEY=None))
    assert_one_line_naming_the_key(result)
    assert "not set" in result.stderr


@pytest.mark.parametrize("key", [DEVELOPMENT_KEY, "change-me", "django-insecure-" + "x1" * 30, "a" * 60,
                                 secrets.token_urlsafe(20)],
                         ids=["development key", "change-me", "django-insecure", "one character", "short"])
@pytest.mark.parametrize("entry_point", ["migrate", "gunicorn", "celery-worker"])
def test_the_development_key_and_placeholders_are_refused_in_production(entry_point, key, tmp_path):
    result = run(ENTRY_POINTS[entry_point], production_env(tmp_path, DJANGO_SECRET_KEY=key))
    assert_one_line_naming_the_key(result)


def test_the_embedded_default_still_runs_on_the_development_key(tmp_path):
    """No DATABASE_URL: `make run`'s SQLite desk needs no key."""
    env = production_env(tmp_path, DATABASE_URL=None, DJANGO_SECRET_KEY=None, CELERY_BROKER_URL=None)
    result = manage("check", env=env)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_bad_trusted_proxy_is_one_line(tmp_path):
    env = production_env(tmp_path, OPSDESK_TRUSTED_PROXIES="10.0.0.0/8,nginx.bank.example")
    for argv in (ENTRY_POINTS["gunicorn"], [sys.executable, "manage.py", "check"]):
        result = run(argv, env)
        output = (result.stdout + result.stderr).strip()
        assert result.returncode != 0 and "Traceback" not in output
        assert output.splitlines() == [output] and "OPSDESK_TRUSTED_PROXIES" in output
        assert "nginx.bank.example" in output


# --- in-process: what a request meets with the production switches on ---------------------------

@pytest.fixture
def https_desk(settings):
    """The HTTPS defaults of a production desk behind a proxy at 10.0.5.10 (middleware reads them
    when the test client first loads it)."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.OPSDESK_TRUSTED_PROXIES = ["10.0.5.10", "192.168.7.0/24"]
    settings.ALLOWED_HOSTS = [DESK, ".ops.bank.example"]
    return settings


def test_only_a_trusted_proxy_can_say_https(https_desk, client):
    # The proxy says the browser came over HTTPS: served, with HSTS.
    page = client.get("/accounts/login/", HTTP_HOST=DESK, REMOTE_ADDR="10.0.5.10", HTTP_X_FORWARDED_PROTO="https")
    assert page.status_code == 200
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert page.cookies["csrftoken"]["secure"] is True
    # A network of proxies, and a proxy seen through an IPv6 socket, count too.
    for peer in ("192.168.7.21", "::ffff:10.0.5.10"):
        assert client.get("/accounts/login/", HTTP_HOST=DESK, REMOTE_ADDR=peer,
                          HTTP_X_FORWARDED_PROTO="https").status_code == 200
    # Anyone else saying the same over plain HTTP is plain HTTP: sent to https.
    claimed = client.get("/accounts/login/", HTTP_HOST=DESK, REMOTE_ADDR="10.0.9.9", HTTP_X_FORWARDED_PROTO="https")
    assert claimed.status_code == 301
    assert claimed["Location"] == f"https://{DESK}/accounts/login/"
    assert "Strict-Transport-Security" not in claimed


def test_probes_and_scrape_are_never_redirected(https_desk, client, db):
    for path in ("/healthz", "/readyz"):
        response = client.get(path, HTTP_HOST=DESK, REMOTE_ADDR="10.0.9.9")
        assert response.status_code == 200, path
    # /metrics answers by its own rules (allowed networks, token), not with a redirect.
    assert client.get("/metrics", HTTP_HOST=DESK, REMOTE_ADDR="10.0.9.9").status_code == 403
    assert client.get("/tickets/", HTTP_HOST=DESK, REMOTE_ADDR="10.0.9.9").status_code == 301


def test_login_form_posted_from_an_allowed_https_origin(https_desk, org, password):
    """CSRF trusted origins follow DJANGO_ALLOWED_HOSTS: a login posted over HTTPS from any name of the
    bank's domain is accepted; from elsewhere it is refused."""
    from django.test import Client

    from opsdesk.settings import origins_from_hosts

    https_desk.CSRF_TRUSTED_ORIGINS = origins_from_hosts(https_desk.ALLOWED_HOSTS)
    assert https_desk.CSRF_TRUSTED_ORIGINS == [f"https://{DESK}", "https://ops.bank.example",
                                              "https://*.ops.bank.example"]
    proxy = {"REMOTE_ADDR": "10.0.5.10", "HTTP_X_FORWARDED_PROTO": "https"}
    for origin, status in (("https://portal.ops.bank.example", 302), ("https://evil.example", 403),
                           (f"http://{DESK}", 403)):
        browser = Client(enforce_csrf_checks=True)
        browser.get("/accounts/login/", HTTP_HOST=DESK, **proxy)
        response = browser.post("/accounts/login/", {
            "username": org.people["teller"].username, "password": password,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
        }, HTTP_HOST=DESK, HTTP_ORIGIN=origin, **proxy)
        assert response.status_code == status, origin
    assert response.cookies.get("sessionid") is None


def test_derived_origins_skip_wildcards_and_keep_addresses():
    from opsdesk.settings import origins_from_hosts

    assert origins_from_hosts(["*", "10.20.30.40", "[::1]", "testserver", "desk.bank.example"]) == [
        "https://10.20.30.40", "https://[::1]", "https://desk.bank.example"]
