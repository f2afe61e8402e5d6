"""Start-up as the engineer sees it: one clear line for bad settings, and the embedded default runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def clean_env(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}}
    env["OPSDESK_VAR_DIR"] = str(tmp_path / "var")
    return env


def assert_one_clear_line(result: subprocess.CompletedProcess, setting: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert setting in lines[0]


def test_unknown_database_scheme_is_one_line(clean_env):
    result = manage("check", env={**clean_env, "DATABASE_URL": "oracle://db.example/opsdesk"})
    assert_one_clear_line(result, "DATABASE_URL")
    assert "oracle" in result.stderr


def test_unreachable_database_is_one_line(clean_env):
    result = manage("migrate", env={**clean_env, "DATABASE_URL": "postgresql://test:test@127.0.0.1:1/test"})
    assert_one_clear_line(result, "DATABASE_URL")
    assert "cannot connect" in result.stderr


def test_unreachable_broker_is_one_line(clean_env):
    result = manage("migrate", env={**clean_env, "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"})
    assert_one_clear_line(result, "CELERY_BROKER_URL")


def test_bad_boolean_setting_names_itself(clean_env):
    result = manage("check", env={**clean_env, "DJANGO_DEBUG": "perhaps"})
    assert_one_clear_line(result, "DJANGO_DEBUG")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_embedded_default_starts_and_serves_the_desk(clean_env, tmp_path):
    """What `make run` does, on SQLite with in-process tasks: migrate, seed, serve, log in."""
    assert manage("migrate", "--noinput", env=clean_env).returncode == 0
    seeded = manage("seed_org", "--scale", "demo", env=clean_env)
    assert seeded.returncode == 0 and "opsdesk-demo" in seeded.stdout
    assert (tmp_path / "var" / "opsdesk.sqlite3").exists()
    port = _free_port()
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                              cwd=REPO, env=clean_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the embedded desk did not start"
            assert server.poll() is None, server.stderr.read().decode()
            time.sleep(0.2)
        session = requests.Session()
        login_page = session.get(f"{base}/accounts/login/")
        assert "登录" in login_page.text
        response = session.post(f"{base}/accounts/login/", data={
            "username": "teller-gz01-001-1", "password": "opsdesk-demo",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        }, headers={"Referer": f"{base}/accounts/login/"})
        assert response.status_code == 200
        assert response.url.endswith("/tickets/mine/")
        assert "退出" in response.text
    finally:
        server.terminate()
        server.wait(timeout=10)


SHELL_SCRIPT = """
import datetime as dt
from django.db import transaction
from django.utils import timezone
from notifications.models import Notification, PendingNotice
from notifications.services import notify
from opsdesk.org.models import User
operator = next(u for u in User.objects.exclude(mobile="").order_by("pk") if "operator" in u.roles)
with transaction.atomic():
    notify(event="demo.check", text="演示：核心系统告警", key="demo-check", people=[operator], urgent=True)
# A notice whose fan-out task was lost (as if the worker had been down): only beat's relay finds it.
notice = PendingNotice.objects.create(event="demo.relay", key="demo-relay",
                                      arguments={"people": [operator.pk], "unit": None, "about": None,
                                                 "text": "演示：补发", "urgent": True})
PendingNotice.objects.filter(pk=notice.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
print("OK")
"""


@pytest.mark.celery
def test_make_run_works_through_a_worker_and_beat_on_the_file_system_transport(clean_env, tmp_path):
    """`make run`'s worker (deploy/Procfile.dev, CELERY_BROKER_URL=filesystem://): a task written by the
    desk reaches it without Redis, and its beat runs the periodic work (here: the outbox relay)."""
    env = {**clean_env, "CELERY_BROKER_URL": "filesystem://", "OPSDESK_SMS_GROUP_WAIT": "0"}
    assert manage("migrate", "--noinput", env=env).returncode == 0
    assert manage("seed_org", "--scale", "demo", env=env).returncode == 0
    [worker_line] = [line.split(":", 1)[1] for line in (REPO / "deploy/Procfile.dev").read_text().splitlines()
                     if line.startswith("worker:")]
    command = worker_line.strip().replace(".venv/bin/celery", str(Path(sys.executable).with_name("celery")))
    worker = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                              stderr=open(tmp_path / "worker.log", "wb"), start_new_session=True)
    try:
        written = manage("shell", "-c", SHELL_SCRIPT, env=env)
        assert written.returncode == 0 and "OK" in written.stdout, written.stderr

        def status(key: str) -> str:
            result = manage("shell", "-c", "from notifications.models import Notification as N; "
                            f"print(','.join(N.objects.filter(idempotency_key__startswith='{key}')"
                            ".values_list('status', flat=True)))", env=env)
            return (result.stdout.strip().splitlines() or [""])[-1]  # after shell's own banner

        from tests.helpers import wait_for

        wait_for(lambda: status("demo-check") == "sent", timeout=60,
                 message=lambda: f"the worker to deliver: {(tmp_path / 'worker.log').read_text()[-2000:]}")
        # beat's relay runs every 30 s; its first run hands the lost notice to the worker
        wait_for(lambda: status("demo-relay") == "sent", timeout=90,
                 message=lambda: f"beat's relay: {(tmp_path / 'worker.log').read_text()[-2000:]}")
        assert (tmp_path / "var" / "celerybeat-schedule").exists() or list((tmp_path / "var").glob("celerybeat-schedule*"))
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=30)
