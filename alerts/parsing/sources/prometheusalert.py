"""PrometheusAlert (feiyu563/PrometheusAlert) e-mail notifications.

Templates read (feiyu563/PrometheusAlert):

* ``db/prometheus-alert-template.json`` (commit aa4c86414e9be6e4361d5a905b5609f5f01fe2fc): the
  ``prometheus-email`` template for Alertmanager webhooks: per alert ``Prometheus告警信息`` or
  ``Prometheus恢复信息``, the alertname, ``告警级别：<level label>``, ``开始时间：``, ``结束时间：`` (resolved
  only), ``故障主机IP：<instance>``, the description. Alerts are split one per mail unless the route
  has ``split=false`` (``controllers/prometheusalert.go``), then one mail carries several, each with
  its own state. ``grafana-email`` (Grafana legacy webhooks) renders ``Grafana恢复信息`` in both
  branches and no host: such a mail is quarantined, never read as a recovery.
* ``controllers/email.go``: Subject and From display name are the configured ``Email_title``
  (``运维告警`` in ``conf/app-example.conf``), so the subject says nothing; the body decides.
* ``controllers/WebTest.go``: the test message ``PrometheusAlert邮件告警测试`` is not an alert.
* v4.9.1 (commit ad82443febd2ba0dc1a1b3bb280a3aa89def9355) ``controllers/prometheus.go``: the legacy
  ``/prometheus/alert`` route, ``<title>故障告警信息`` / ``<title>故障恢复信息`` (title ``PrometheusAlert``
  by default), ``告警级别：`` 信息/警告/一般严重/严重/灾难, 开始时间, 结束时间, 故障主机IP.

Levels: PrometheusAlert numbers them 0 信息, 1 警告, 2 一般严重, 3 严重, 4 灾难 (higher is worse), mapped
here. The mail shows only alertname, level and instance, so the identity is host and check.
"""
from __future__ import annotations

import re

from ..mime import MAX_TEXT_CHARS, MessageView
from ..results import Alert
from ..vocab import guess_category, map_severity
from .alertmanager import host_from_instance
from .base import NoHostError, NotAnAlert, dedupe, make_alert

__all__ = ["NAME", "detect", "parse"]

NAME = "prometheusalert"

_HEAD = re.compile(r"^(?P<title>.{0,60}?)(?P<kind>故障告警信息|故障恢复信息|告警信息|恢复信息)$")
_FIELD = re.compile(r"^(?P<k>告警级别|开始时间|结束时间|故障主机IP|故障主机)\s*[:：]\s*(?P<v>.*?)\s*$")
_TEST = re.compile(r"^\s*PrometheusAlert邮件告警测试\s*$", re.M)
# PrometheusAlert's own level numbers (higher is worse).
_LEVELS = {"0": "info", "1": "warning", "2": "minor", "3": "major", "4": "critical"}
_LEVEL_WORDS = {"0": "信息", "1": "警告", "2": "一般严重", "3": "严重", "4": "灾难"}
_MAX_LINES = 5000
_MAX_ALERTS = 200


def _lines(msg: MessageView) -> list[str]:
    return [line.strip() for line in (msg.text or "")[:200000].split("\n")[:_MAX_LINES] if line.strip()]


def _records(lines: list[str]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    i = 0
    while i < len(lines) - 2 and len(out) < _MAX_ALERTS:
        m = _HEAD.match(lines[i])
        if m and lines[i + 2].startswith("告警级别"):
            rec = {"kind": m.group("kind"), "title": m.group("title"), "name": lines[i + 1][:500]}
            j = i + 2
            while j < len(lines) and not (_HEAD.match(lines[j]) and j + 2 < len(lines)
                                          and lines[j + 2].startswith("告警级别")):
                f = _FIELD.match(lines[j])
                if f:
                    rec[f.group("k")] = f.group("v")[:1000]
                elif "desc" not in rec:
                    rec["desc"] = lines[j][:1000]
                j += 1
            out.append(rec)
            i = j
            continue
        i += 1
    return out


def detect(msg: MessageView) -> bool:
    text = (msg.text or "")[:20000]
    if _TEST.search(text):
        return True
    return bool(_records(_lines(msg)[:400]))


def parse(msg: MessageView) -> list[Alert]:
    if _TEST.search((msg.text or "")[:20000]) and not _records(_lines(msg)):
        raise NotAnAlert("test notification")
    records = _records(_lines(msg))
    if len(records) > 1 and len(msg.text or "") >= MAX_TEXT_CHARS - 1000:
        records.pop()  # the text was cut: its last alert may have lost its host line
    alerts = []
    for rec in records:
        name = rec["name"]
        raw_host = rec.get("故障主机IP") or rec.get("故障主机") or ""
        host = host_from_instance(raw_host.split()[0]) if raw_host.strip() else ""
        if not host:
            raise NoHostError(f"prometheusalert mail {name[:100]!r} names no host (故障主机IP)")
        status = "recovery" if "恢复" in rec["kind"] else "problem"
        level = rec.get("告警级别", "").strip()
        severity = _LEVELS.get(level) or map_severity(level)
        desc = rec.get("desc") or name
        fields = {k: v for k, v in rec.items() if k not in ("kind",)}
        alerts.append(make_alert(NAME, host, name, severity, status, guess_category(name, desc), desc,
                                 fields, severity_word=_LEVEL_WORDS.get(level, level)))
    return dedupe(alerts)
