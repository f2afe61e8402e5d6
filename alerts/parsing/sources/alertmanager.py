"""Prometheus Alertmanager mails (default HTML template, optional text template; grouped
``[FIRING:n]`` notifications carry one alert per label block)."""
from __future__ import annotations

import re

from ..mime import MessageView
from ..results import Alert
from ..vocab import guess_category, map_severity
from .base import NoHostError, dedupe, make_alert

__all__ = ["NAME", "detect", "parse", "host_from_instance"]

NAME = "alertmanager"

_SUBJECT = re.compile(r"^\[(?P<status>FIRING|RESOLVED)(?::(?P<n>\d+))?\]", re.I)
_LABEL_LINE = re.compile(r"^[ \t]*(?:[-*•][ \t]*)?(?P<k>[A-Za-z_][A-Za-z0-9_]{0,100})[ \t]*=[ \t]*(?P<v>.*?)[ \t]*$")
_HOST_LABELS = ("instance", "host", "hostname", "nodename", "node", "server", "target", "exported_instance")


def detect(msg: MessageView) -> bool:
    if _SUBJECT.match(msg.subject.strip()) and re.search(r"(?m)^\s*(?:[-*]\s*)?alertname\s*=", msg.text + "\n" + msg.html):
        return True
    if "alertmanager" in msg.sender.lower() and re.search(r"(?m)^\s*(?:[-*]\s*)?alertname\s*=", msg.text + "\n" + msg.html):
        return True
    return bool(re.search(r"View in AlertManager|Sent by AlertManager", msg.html[:20000], re.I)) and "alertname" in msg.html


def host_from_instance(value: str) -> str:
    """``host:9100`` -> ``host``; also strips a URL scheme/path and IPv6 brackets."""
    v = value.strip()
    v = re.sub(r"^[a-z][a-z0-9+.-]*://", "", v, flags=re.I)
    v = v.split("/", 1)[0]
    m = re.match(r"^\[([0-9A-Fa-f:.]+)\](?::\d+)?$", v)
    if m:
        return m.group(1)
    if v.count(":") == 1:
        v = re.sub(r":\d*$", "", v)
    return v


def _blocks(text: str, default_status: str) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(status, labels, annotations) per alert block of a rendered notification."""
    out: list[tuple[str, dict[str, str], dict[str, str]]] = []
    status = default_status
    target: dict[str, str] | None = None
    for line in text.split("\n")[:5000]:
        low = line.strip().lower()
        if re.match(r"^(?:alerts\s+firing|\[\d+\]\s*firing)\b", low):
            status, target = "firing", None
            continue
        if re.match(r"^(?:alerts\s+resolved|\[\d+\]\s*resolved)\b", low):
            status, target = "resolved", None
            continue
        if re.match(r"^labels\s*:?$", low):
            # Each block keeps the status of the section it starts in.
            out.append((status, {}, {}))
            target = out[-1][1]
            continue
        if re.match(r"^annotations\s*:?$", low):
            target = out[-1][2] if out else None
            continue
        if low.startswith("source") and target is not None:
            target = None
            continue
        m = _LABEL_LINE.match(line)
        if m and target is not None and len(target) < 100:
            target.setdefault(m.group("k"), m.group("v")[:1000])
        if len(out) > 200:
            break
    return [b for b in out if b[1]]


def parse(msg: MessageView) -> list[Alert]:
    sm = _SUBJECT.match(msg.subject.strip())
    default_status = (sm.group("status").lower() if sm else "firing")
    blocks = _blocks(msg.plain, default_status) if msg.plain else []
    if not any("alertname" in b[1] for b in blocks):
        blocks = _blocks(msg.html or msg.text, default_status)
    alerts = []
    for status_word, labels, notes in blocks:
        name = labels.get("alertname", "")
        if not name:
            continue
        host = ""
        for key in _HOST_LABELS:
            if labels.get(key):
                host = host_from_instance(labels[key])
                break
        if not host:
            raise NoHostError(f"alertmanager alert {name[:100]!r} has no instance/host label")
        status = "recovery" if status_word == "resolved" else "problem"
        severity = map_severity(labels.get("severity") or labels.get("priority"))
        category = guess_category(name, labels.get("job"), labels.get("category"),
                                  notes.get("summary"))
        summary = notes.get("summary") or notes.get("description") or msg.subject
        fields = {f"label.{k}": v for k, v in labels.items()}
        fields.update({f"annotation.{k}": v for k, v in notes.items()})
        alerts.append(make_alert(NAME, host, name, severity, status, category, summary, fields))
    return dedupe(alerts)
