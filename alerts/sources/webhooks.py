"""Alerts over HTTP: the Prometheus Alertmanager webhook JSON and a simple generic JSON.

Each format is a function from the decoded JSON to normalised alerts (the same `Alert` the mail
parser produces), so the incident logic is shared. Bad payloads raise `PayloadError` with a
message the sender can act on.
"""

from __future__ import annotations

from alerts.parsing import Alert, guess_category, make_dedup_key, map_severity, norm

__all__ = ["PayloadError", "alerts_from_alertmanager", "alerts_from_generic", "READERS"]

STATUSES = {"problem", "recovery", "ack", "none"}
CATEGORIES = {"os", "db", "web", "middleware", "mq", "app_process", "transaction", "hardware", "network", "other"}
MAX_ALERTS = 500


class PayloadError(ValueError):
    pass


def _alert(source: str, host: str, check: str, severity: str | None, status: str, category: str | None,
           message: str) -> Alert:
    host, check = norm(host), norm(check)
    if not host:
        raise PayloadError("an alert has no host")
    if not check:
        raise PayloadError("an alert has no check")
    if status != "problem":
        severity = "info"
    else:
        severity = map_severity(severity) or "warning"
    category = category if category in CATEGORIES else guess_category(check)
    return Alert(source=source, host=host[:255], check=check[:500], severity=severity, status=status,
                 category=category, dedup_key=make_dedup_key(source, host, check), message=(message or "")[:500])


def _strip_port(instance: str) -> str:
    instance = (instance or "").strip()
    if instance.startswith("["):  # [ipv6]:port
        return instance[1:].split("]", 1)[0]
    if instance.count(":") == 1:
        return instance.rsplit(":", 1)[0]
    return instance


def alerts_from_alertmanager(payload) -> list[Alert]:
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        raise PayloadError('expected an Alertmanager webhook object with an "alerts" list')
    alerts = []
    for item in payload["alerts"][:MAX_ALERTS]:
        if not isinstance(item, dict):
            raise PayloadError("each alert must be an object")
        labels = item.get("labels") or {}
        annotations = item.get("annotations") or {}
        if not isinstance(labels, dict) or not isinstance(annotations, dict):
            raise PayloadError("labels and annotations must be objects")
        host = _strip_port(str(labels.get("instance") or labels.get("host") or labels.get("hostname") or ""))
        status = "recovery" if str(item.get("status") or payload.get("status")) == "resolved" else "problem"
        message = str(annotations.get("summary") or annotations.get("description") or labels.get("alertname") or "")
        alerts.append(_alert("alertmanager", host, str(labels.get("alertname") or ""),
                             str(labels.get("severity") or ""), status, labels.get("category"), message))
    return alerts


def alerts_from_generic(payload) -> list[Alert]:
    """{"host", "check", "severity", "status", "category", "message"} or {"alerts": [...]} of them."""
    items = payload.get("alerts") if isinstance(payload, dict) and "alerts" in payload else [payload]
    if not isinstance(items, list) or not items:
        raise PayloadError('expected an alert object or {"alerts": [...]}')
    alerts = []
    for item in items[:MAX_ALERTS]:
        if not isinstance(item, dict):
            raise PayloadError("each alert must be an object")
        status = str(item.get("status") or "problem").lower()
        status = {"firing": "problem", "resolved": "recovery", "ok": "recovery"}.get(status, status)
        if status not in STATUSES:
            raise PayloadError(f"status must be one of problem, recovery, ack, none (got {status!r})")
        source = str(item.get("source") or "other").lower()
        source = source if source in {"nagios", "zabbix", "alertmanager", "script", "other"} else "other"
        alerts.append(_alert(source, str(item.get("host") or ""), str(item.get("check") or ""),
                             str(item.get("severity") or ""), status, item.get("category"),
                             str(item.get("message") or "")))
    return alerts


READERS = {"alertmanager": alerts_from_alertmanager, "generic": alerts_from_generic}
