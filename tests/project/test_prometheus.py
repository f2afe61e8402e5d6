"""deploy/prometheus and deploy/grafana: valid for Prometheus' own tools, and about metrics that exist."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.project.conftest import DEPLOY, parse_metrics, promtool_run

PROMETHEUS = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "opsdesk-dashboard.json"
METRIC_NAME = re.compile(r"\b(opsdesk_[a-z_]+|up)\b(?!\s*\()")


def rule_exprs() -> list[str]:
    rules = yaml.safe_load((PROMETHEUS / "rules" / "opsdesk.rules.yml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_alerting_rules_pass_promtool_check(promtool):
    result = promtool_run(promtool, "check", "rules", str(PROMETHEUS / "rules" / "opsdesk.rules.yml"))
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    names = {rule["alert"] for group in yaml.safe_load((PROMETHEUS / "rules" / "opsdesk.rules.yml").read_text())
             ["groups"] for rule in group["rules"]}
    assert {"OpsDeskPollerStalled", "OpsDeskQuarantineGrowing", "OpsDeskBrokerDown", "OpsDeskHttpErrors",
            "OpsDeskHttpSlow"} <= names


def test_alerting_rules_fire_when_they_should(promtool):
    """promtool's rule unit tests: each alarm fires on its fault and stays quiet on healthy series."""
    result = promtool_run(promtool, "test", "rules", str(PROMETHEUS / "tests" / "opsdesk.test.yml"))
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def test_scrape_config_passes_promtool_check(promtool, tmp_path):
    # The real check also opens the token file and the rule files: give it a token file of its own.
    token = tmp_path / "token"
    token.write_text("scrape-token\n")
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    opsdesk = next(job for job in config["scrape_configs"] if job["job_name"] == "opsdesk")
    assert opsdesk["metrics_path"] == "/metrics"
    opsdesk["authorization"]["credentials_file"] = str(token)
    config["rule_files"] = [str(PROMETHEUS / path) for path in config["rule_files"]]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    result = promtool_run(promtool, "check", "config", str(tmp_path / "prometheus.yml"))
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def test_dashboard_queries_are_valid_promql(promtool, tmp_path):
    """Each panel's query, as a recording rule, must pass promtool (it parses PromQL)."""
    exprs = dashboard_exprs()
    assert len(exprs) >= 15
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"opsdesk:dashboard_panel_{i}", "expr": expr.replace("$job", "opsdesk")}
        for i, expr in enumerate(exprs)]}]}
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True))
    result = promtool_run(promtool, "check", "rules", str(path))
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def declared_samples(text: str) -> set[str]:
    """Sample names of every family the exposition declares, with or without samples yet (the HTTP
    exception counter has none until a view fails)."""
    from prometheus_client.parser import text_string_to_metric_families

    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
    return {family.name + suffix for family in text_string_to_metric_families(text)
            for suffix in suffixes.get(family.type, ("",))}


def test_rules_and_dashboard_only_use_metrics_the_desk_exposes(client, busy_desk, fresh_metrics, redis_url):
    fresh_metrics.CELERY_BROKER_URL = f"{redis_url}/14"  # the queue figures appear with a broker
    client.get("/accounts/login/")  # some HTTP traffic of the desk's own
    text = client.get("/metrics").content.decode()
    exposed = {name for name, _ in parse_metrics(text)} | declared_samples(text) | {"up"}
    used = {name for expr in rule_exprs() + dashboard_exprs() for name in METRIC_NAME.findall(expr)}
    assert used - exposed == set()
    # ... and the main figures of the desk are on the dashboard.
    on_dashboard = {name for expr in dashboard_exprs() for name in METRIC_NAME.findall(expr)}
    for family in ("opsdesk_service_requests", "opsdesk_request_transitions_total", "opsdesk_sla_breaches_total",
                   "opsdesk_notifications", "opsdesk_notification_delivery_latency_seconds_bucket",
                   "opsdesk_alert_messages_total", "opsdesk_alerts_total", "opsdesk_incidents_unresolved",
                   "opsdesk_poller_last_success_timestamp_seconds", "opsdesk_poller_lag_seconds",
                   "opsdesk_celery_queue_length", "opsdesk_http_requests_total",
                   "opsdesk_http_request_duration_seconds_bucket", "opsdesk_http_exceptions_total"):
        assert family in on_dashboard, family
    assert {"opsdesk_http_requests_total", "opsdesk_http_request_duration_seconds_bucket"} <= {
        name for name, _ in parse_metrics(text)}


@pytest.mark.parametrize("path", sorted(PROMETHEUS.rglob("*.yml")), ids=lambda p: p.name)
def test_yaml_files_parse(path):
    assert yaml.safe_load(path.read_text())
