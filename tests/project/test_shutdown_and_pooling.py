"""Graceful shutdown and connection settings, as the deploy files and settings promise them."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

from opsdesk.config import database_from_url
from tests.project.conftest import DEPLOY


def gunicorn_settings(monkeypatch, **env) -> dict:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))


def test_kubernetes_waits_longer_than_gunicorn_drains(monkeypatch):
    gunicorn = gunicorn_settings(monkeypatch)
    docs = [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / "opsdesk.yaml").read_text()) if d]
    web = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "opsdesk-web")
    pod = web["spec"]["template"]["spec"]
    pre_stop = pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] > int(pre_stop[1]) + gunicorn["graceful_timeout"]
    budgets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "PodDisruptionBudget"}
    assert budgets["opsdesk-poller"]["spec"]["minAvailable"] == 1
    # Settings in the ConfigMap, secrets in the Secret (its template: the manifest carries no Secret).
    config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    secret = yaml.safe_load((DEPLOY / "kubernetes" / "secret.example.yaml").read_text())["stringData"]
    assert {"OPSDESK_METRICS_ALLOWED_NETWORKS", "DATABASE_CONN_MAX_AGE"} <= set(config)
    assert "OPSDESK_METRICS_TOKEN" in secret


def test_compose_waits_longer_than_each_process_drains(monkeypatch):
    gunicorn = gunicorn_settings(monkeypatch)
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]

    def seconds(value: str) -> int:
        return int(value.rstrip("s"))

    assert seconds(services["web"]["stop_grace_period"]) > gunicorn["graceful_timeout"]
    assert seconds(services["worker"]["stop_grace_period"]) >= 60
    assert seconds(services["poller"]["stop_grace_period"]) >= 20
    assert services["poller"]["deploy"]["replicas"] == 2


def test_gunicorn_size_follows_the_environment_not_the_host(monkeypatch):
    assert gunicorn_settings(monkeypatch, GUNICORN_WORKERS="4", GUNICORN_THREADS="3")["workers"] == 4
    monkeypatch.delenv("GUNICORN_WORKERS")
    assert gunicorn_settings(monkeypatch)["workers"] <= 9  # capped: each thread holds a database connection


def test_persistent_connections_and_pgbouncer_are_settings(monkeypatch, tmp_path: Path):
    url = "postgresql://u:p@db.example:5432/opsdesk"
    monkeypatch.delenv("DATABASE_CONN_MAX_AGE", raising=False)
    monkeypatch.delenv("DATABASE_PGBOUNCER", raising=False)
    default = database_from_url(url, tmp_path)
    assert default["CONN_MAX_AGE"] == 600 and default["CONN_HEALTH_CHECKS"] is True
    assert default["DISABLE_SERVER_SIDE_CURSORS"] is False
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "0")
    monkeypatch.setenv("DATABASE_PGBOUNCER", "true")
    pooled = database_from_url(url, tmp_path)
    assert pooled["CONN_MAX_AGE"] == 0 and pooled["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_a_bad_connection_age_names_the_setting(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "ten minutes")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_CONN_MAX_AGE"):
        database_from_url("postgresql://u:p@db.example:5432/opsdesk", tmp_path)
