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
