"""The deployment files describe processes that really exist in this code base.

No Docker engine or Kubernetes API server runs here, so these files are checked by reading them:
every command they run must be a real management command, Celery app or WSGI application.
"""

from __future__ import annotations

import importlib
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ENV_FROM = [{"configMapRef": {"name": "opsdesk-config"}}, {"secretRef": {"name": "opsdesk-env"}}]


def procfile(path: Path) -> dict[str, str]:
    entries = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


def assert_runnable(argv: list[str]) -> None:
    program = Path(argv[0]).name
    if program in {"python", "python3"}:
        assert argv[1] == "manage.py"
        assert argv[2] in get_commands(), f"no management command {argv[2]!r}"
    elif program == "gunicorn":
        module, attr = argv[1].split(":")
        assert callable(getattr(importlib.import_module(module), attr))
        assert (DEPLOY.parent / argv[argv.index("-c") + 1]).exists()
    elif program == "celery":
        assert argv[1:3] == ["-A", "opsdesk"]
        assert argv[3] in {"worker", "beat"}
        assert importlib.import_module("opsdesk").celery_app.main == "opsdesk"
    else:
        pytest.fail(f"unexpected program {program!r}")


def test_procfile_processes_are_real():
    entries = procfile(DEPLOY / "Procfile")
    assert {"web", "worker", "beat", "poller", "release"} <= set(entries)
    for command in entries.values():
        assert_runnable(shlex.split(command.replace("${CELERY_CONCURRENCY:-4}", "4")
                                    .replace("${OPSDESK_VAR_DIR:-var}", "var")))


def test_gunicorn_config_is_valid():
    result = subprocess.run([str(Path(sys.executable).with_name("gunicorn")), "--check-config", "-c",
                             str(DEPLOY / "gunicorn.conf.py"), "opsdesk.wsgi:application"],
                            capture_output=True, text=True, cwd=DEPLOY.parent, timeout=60)
    assert result.returncode == 0, result.stderr


def test_compose_runs_every_process_against_postgres_and_redis():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "beat", "poller"} <= set(services)
    for name in ("migrate", "worker", "beat", "poller"):
        assert_runnable(services[name]["command"])
    env = services["migrate"]["environment"]
    assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:" in env["DATABASE_URL"]
    assert env["CELERY_BROKER_URL"].startswith("redis://redis:")
    for name in ("web", "worker", "beat", "poller"):
        assert services[name]["environment"] == env
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_kubernetes_deployments_are_consistent():
    docs = [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / "opsdesk.yaml").read_text()) if d]
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert set(deployments) == {"opsdesk-web", "opsdesk-worker", "opsdesk-beat", "opsdesk-poller"}
    assert deployments["opsdesk-beat"]["spec"]["replicas"] == 1
    for deployment in deployments.values():
        spec = deployment["spec"]
        assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
        container = spec["template"]["spec"]["containers"][0]
        # Every process reads the same settings: the ConfigMap, then the Secret (its values win).
        assert container["envFrom"] == ENV_FROM
        assert_runnable(container["command"])
    web = deployments["opsdesk-web"]["spec"]["template"]["spec"]["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    migrate = next(d for d in docs if d["kind"] == "Job")["spec"]["template"]["spec"]["containers"][0]
    assert_runnable(migrate["command"])
    assert migrate["envFrom"] == ENV_FROM
    config = next(d for d in docs if d["kind"] == "ConfigMap")
    assert ENV_FROM[0]["configMapRef"]["name"] == config["metadata"]["name"]
