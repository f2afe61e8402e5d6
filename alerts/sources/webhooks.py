"""Alerts over HTTP: the Prometheus Alertmanager webhook JSON and a simple generic JSON.

Each format is a function from the decoded JSON to normalised alerts (the same `Alert` the mail
parser produces, with the same identity, so a webhook and a mail of one alert fold together) and
the alerts it could not read. A payload that is not of the format at all raises `PayloadError`; a
payload with some bad alerts gives the good ones and says which were refused and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from alerts.parsing import Alert, guess_category, map_severity, norm
from alerts.parsing.sources.alertmanager import host_from_labels
from alerts.parsing.sources.base import make_alert
from alerts.parsing.vocab import label_identity

__all__ = ["PayloadError", "Read", "alerts_from_alertmanager", "alerts_from_generic", "READERS"]

STATUSES = {"problem", "recovery", "ack", "none"}
CATEGORIES = {"os", "db", "web", "middleware", "mq", "app_process", "transaction", "hardware", "network", "other"}
SOURCES = {"nagios", "icinga", "centreon", "checkmk", "zabbix", "alertmanager", "prometheusalert", "grafana",
           "nightingale", "openfalcon", "librenms", "monit", "netdata", "uptimekuma", "oem", "script", "other"}
MAX_ALERTS = 500


class PayloadError(ValueError):
    pass


@dataclass
class Read:
    alerts: list[Alert] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)  # {"index": n, "error": "..."}


def _text(value, what: str, limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise PayloadError(f"{what} must be a string")
    return str(value)[:limit]


def _labels(value, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{what} must be an object")
    return {_text(k, f"a {what[:-1]} name", 200): _text(v, f"{what[:-1]} {k!r}", 2000) for k, v in value.items()}


def _alertmanager_alert(item, group_status) -> Alert:
    if not isinstance(item, dict):
        raise PayloadError("each alert must be an object")
    labels = _labels(item.get("labels"), "labels")
    annotations = _labels(item.get("annotations"), "annotations")
    name = labels.get("alertname", "")
    if not norm(name):
        raise PayloadError("an alert has no alertname label")
    host = host_from_labels(labels)
    if not norm(host):
        raise PayloadError("an alert has no instance or host label")
    status_word = _text(item.get("status") or group_status, "status", 20)
    if status_word not in ("firing", "resolved"):
        raise PayloadError(f"status must be firing or resolved (got {status_word[:20]!r})")
    status = "recovery" if status_word == "resolved" else "problem"
    message = annotations.get("summary") or annotations.get("description") or name
    category = labels.get("category") if labels.get("category") in CATEGORIES else \
        guess_category(name, labels.get("job"), annotations.get("summary"))
    fields = {f"label.{k}": v for k, v in labels.items()}
    fields.update({f"annotation.{k}": v for k, v in annotations.items()})
    return make_alert("alertmanager", host, name, None, status, category, message, fields,
                      identity=label_identity(labels), severity_word=labels.get("severity") or labels.get("priority"))


def alerts_from_alertmanager(payload) -> Read:
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        raise PayloadError('expected an Alertmanager webhook object with an "alerts" list')
    read = Read()
    for n, item in enumerate(payload["alerts"][:MAX_ALERTS]):
        try:
            read.alerts.append(_alertmanager_alert(item, payload.get("status")))
        except PayloadError as exc:
            read.rejected.append({"index": n, "error": str(exc)})
    return read


def _generic_alert(item) -> Alert:
    if not isinstance(item, dict):
        raise PayloadError("each alert must be an object")
    host, check = norm(_text(item.get("host"), "host", 255)), norm(_text(item.get("check"), "check", 500))
    if not host:
        raise PayloadError("an alert has no host")
    if not check:
        raise PayloadError("an alert has no check")
    status = _text(item.get("status") or "problem", "status", 20).lower()
    status = {"firing": "problem", "resolved": "recovery", "ok": "recovery"}.get(status, status)
    if status not in STATUSES:
        raise PayloadError(f"status must be one of problem, recovery, ack, none (got {status!r})")
    source = _text(item.get("source") or "other", "source", 20).lower()
    category = _text(item.get("category"), "category", 20)
    return make_alert(source if source in SOURCES else "other", host, check,
                      map_severity(_text(item.get("severity"), "severity", 40)) or None, status,
                      category if category in CATEGORIES else guess_category(check),
                      _text(item.get("message"), "message", 500) or check,
                      identity=_text(item.get("id"), "id", 500))


def alerts_from_generic(payload) -> Read:
    """{"host", "check", "severity", "status", "category", "message", "id"} or {"alerts": [...]}."""
    items = payload.get("alerts") if isinstance(payload, dict) and "alerts" in payload else [payload]
    if not isinstance(items, list) or not items:
        raise PayloadError('expected an alert object or {"alerts": [...]}')
    read = Read()
    for n, item in enumerate(items[:MAX_ALERTS]):
        try:
            read.alerts.append(_generic_alert(item))
        except PayloadError as exc:
            read.rejected.append({"index": n, "error": str(exc)})
    return read


READERS = {"alertmanager": alerts_from_alertmanager, "generic": alerts_from_generic}
