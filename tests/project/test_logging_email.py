"""Logs a shipper can read (OPSDESK_LOG_FORMAT=json: one JSON object a line on stdout, from Django and
from gunicorn) and the e-mail channel configured from the environment (EMAIL_*), sent through a real
SMTP server on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from tests.project.conftest import wait_for
from tests.project.stack import BIN, ROOT, Stack, free_port

# The test relay takes a password over plain SMTP on loopback; aiosmtpd warns about that.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def run_python(code: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def plain_env(tmp_path) -> dict[str, str]:
    """The embedded default (no database, no broker) in a private var directory."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "PROMETHEUS_MULTIPROC_DIR"}
           and not k.startswith(("EMAIL_", "OPSDESK_LOG_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "opsdesk.settings", "OPSDESK_VAR_DIR": str(tmp_path / "var"),
                "PYTHONWARNINGS": "ignore"})
    return env


def json_lines(text: str) -> list[dict]:
    """Every non-empty line must be one JSON object."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "no log lines"
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
    return parsed


def assert_one_clear_line(result: subprocess.CompletedProcess, setting: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and setting in lines[0], result.stderr


# --- logs ------------------------------------------------------------------------------------------

LOGGING_SCRIPT = """
import logging
import django
django.setup()
from django.test import Client
logging.getLogger("opsdesk.poller").warning("邮箱 %s 读取失败", "dc/INBOX")
try:
    {}["missing"]
except KeyError:
    logging.getLogger("opsdesk.poller").exception("could not parse")
Client().get("/no/such/page/")
"""


def test_json_logs_are_one_object_a_line_on_stdout_with_request_and_exception(plain_env):
    result = run_python(LOGGING_SCRIPT, {**plain_env, "OPSDESK_LOG_FORMAT": "json"})
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""  # all of it on stdout, for the shipper
    warning, error, not_found = json_lines(result.stdout)
    for line in (warning, error, not_found):
        assert {"time", "level", "logger", "message"} <= set(line)
        assert line["time"][:2] == "20" and line["time"][-6] in "+-"  # ISO 8601 with its offset
    assert warning["level"] == "WARNING" and warning["logger"] == "opsdesk.poller"
    assert warning["message"] == "邮箱 dc/INBOX 读取失败"  # UTF-8, not \\u escapes, in the file
    assert "邮箱" in result.stdout
    assert error["level"] == "ERROR" and error["exception"] == "KeyError"
    assert "Traceback" in error["traceback"] and "KeyError: 'missing'" in error["traceback"]
    assert not_found["logger"] == "django.request"
    assert not_found["request"] == {"method": "GET", "path": "/no/such/page/", "status": 404}


def test_plain_logs_stay_the_default(plain_env):
    result = run_python(LOGGING_SCRIPT, plain_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
    assert "WARNING opsdesk.poller 邮箱 dc/INBOX 读取失败" in result.stderr
    assert "Traceback" in result.stderr  # the exception, as a readable traceback


def test_a_wrong_log_format_is_one_line(plain_env):
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                            env={**plain_env, "OPSDESK_LOG_FORMAT": "xml"}, timeout=120)
    assert_one_clear_line(result, "OPSDESK_LOG_FORMAT")


def test_gunicorn_writes_json_too(plain_env, tmp_path):
    """The whole web process's output, gunicorn's start-up and access lines included, is JSON."""
    port = free_port()
    stack = Stack(tmp_path / "stack", {**plain_env, "OPSDESK_LOG_FORMAT": "json", "DJANGO_HTTPS": "false"})
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "PROMETHEUS_MULTIPROC_DIR"):
        stack.env.pop(name, None)
    try:
        stack.start("web", [str(BIN / "gunicorn"), "opsdesk.wsgi:application", "-c", "deploy/gunicorn.conf.py",
                            "--bind", f"127.0.0.1:{port}", "--workers", "1"])
        wait_for(lambda: _status(f"http://127.0.0.1:{port}/healthz") == 200, 60, lambda: stack.logs())
        assert requests.get(f"http://127.0.0.1:{port}/no/such/page/", timeout=10).status_code == 404
        wait_for(lambda: "/no/such/page/" in stack.procs["web"].log.read_text(), 10, "the access line")
        assert stack.stop("web") == 0
        lines = json_lines(stack.procs["web"].log.read_text())
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.cleanup()
    loggers = {line["logger"] for line in lines}
    assert {"gunicorn.error", "gunicorn.access", "django.request"} <= loggers, loggers
    access = [line for line in lines if line["logger"] == "gunicorn.access"
              and line["request"]["path"] == "/no/such/page/"]
    assert len(access) == 1
    assert access[0]["request"]["method"] == "GET" and access[0]["request"]["status"] == 404
    assert access[0]["request"]["remote"] == "127.0.0.1" and access[0]["request"]["seconds"] >= 0


def _status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=5).status_code
    except requests.RequestException:
        return None


# --- e-mail ----------------------------------------------------------------------------------------

class SmtpRelay:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that requires a login and keeps what it accepts."""

    USER, PASSWORD = "opsdesk", "relay-secret"

    def __init__(self):
        self.messages: list[dict] = []
        self.logins: list[str] = []
        self.lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        with self.lock:
            self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                  "content": envelope.content, "login": session.authenticated})
        return "250 2.0.0 accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        ok = auth_data.login == self.USER.encode() and auth_data.password == self.PASSWORD.encode()
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    def __enter__(self) -> SmtpRelay:
        import logging

        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port(), authenticator=self.authenticate,
                                     auth_require_tls=False, auth_required=True,
                                     auth_exclude_mechanism=["LOGIN"])
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self.controller.port


SEND_SCRIPT = """
import django
django.setup()
from notifications.backends import OutgoingMessage, TemporaryFailure
from notifications.backends.email import send
try:
    print(send(OutgoingMessage(address="manager@bank.example", text="本周统计报表已生成\\n请查收", key="weekly:1",
                               channel="email")))
except TemporaryFailure as exc:
    print("temporary failure:", exc)
"""


def test_notification_email_goes_through_the_configured_smtp_relay(plain_env):
    with SmtpRelay() as relay:
        result = run_python(SEND_SCRIPT, {**plain_env, "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(relay.port),
                                          "EMAIL_HOST_USER": relay.USER, "EMAIL_HOST_PASSWORD": relay.PASSWORD,
                                          "EMAIL_TIMEOUT": "5", "DEFAULT_FROM_EMAIL": "OpsDesk <opsdesk@bank.example>"})
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "email:weekly:1"
        [message] = relay.messages
    assert relay.logins == [relay.USER] and message["login"]
    assert message["from"] == "opsdesk@bank.example" and message["to"] == ["manager@bank.example"]
    from email import message_from_bytes, policy

    mail = message_from_bytes(message["content"], policy=policy.default)
    assert mail["From"] == "OpsDesk <opsdesk@bank.example>"
    assert mail["Subject"] == "本周统计报表已生成"
    assert "请查收" in mail.get_content()


def test_a_notification_to_a_person_is_delivered_through_the_relay(org, settings, django_capture_on_commit_callbacks):
    """The outbox's whole path (notify → delivery task → e-mail channel), with the settings EMAIL_*
    produce for an SMTP relay."""
    from notifications.models import NotificationStatus
    from notifications.services import notify

    person = org.people["manager"]
    person.email = "manager@bank.example"
    person.save()
    with SmtpRelay() as relay:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", relay.port
        settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = relay.USER, relay.PASSWORD
        settings.DEFAULT_FROM_EMAIL = "opsdesk@bank.example"
        with django_capture_on_commit_callbacks(execute=True):
            [row] = notify(event="report.weekly", text="本周统计报表已生成", key="weekly:1", people=[person],
                           channel="email")
        [message] = relay.messages
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT
    assert message["to"] == ["manager@bank.example"] and message["from"] == "opsdesk@bank.example"


def test_a_relay_that_refuses_the_login_or_is_away_is_a_temporary_failure(plain_env):
    with SmtpRelay() as relay:
        refused = run_python(SEND_SCRIPT, {**plain_env, "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(relay.port),
                                           "EMAIL_HOST_USER": relay.USER, "EMAIL_HOST_PASSWORD": "wrong"})
        assert relay.messages == []
    away = run_python(SEND_SCRIPT, {**plain_env, "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(free_port())})
    # Retried later by the outbox, not a crash.
    assert refused.returncode == 0 and refused.stdout.startswith("temporary failure: SMTPAuthenticationError")
    assert away.returncode == 0 and away.stdout.startswith("temporary failure: ConnectionRefusedError")


def test_the_embedded_default_keeps_mail_as_files(plain_env, tmp_path):
    result = run_python(SEND_SCRIPT, plain_env)
    assert result.returncode == 0 and result.stdout.strip() == "email:weekly:1", result.stderr
    [kept] = list(Path(tmp_path / "var" / "sent-mail").iterdir())
    assert "manager@bank.example" in kept.read_text()


@pytest.mark.parametrize(("env", "setting"), [
    ({"EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"}, "EMAIL_USE_TLS and EMAIL_USE_SSL"),
    ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT"),
    ({"EMAIL_PORT": "70000"}, "EMAIL_PORT"),
    ({"EMAIL_TIMEOUT": "0"}, "EMAIL_TIMEOUT"),
    ({"EMAIL_USE_SSL": "maybe"}, "EMAIL_USE_SSL"),
])
def test_bad_email_settings_are_one_line(plain_env, env, setting):
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                            env={**plain_env, "EMAIL_HOST": "smtp.bank.internal", **env}, timeout=120)
    assert_one_clear_line(result, setting)
