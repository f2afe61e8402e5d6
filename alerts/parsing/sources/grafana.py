"""Grafana (unified alerting, Grafana 8 and later) notification mail.

Templates read (grafana/alerting, commit 783ce041445f48a1c5d7ec785becb54d57ae7918; the same files are
``public/emails/ng_alert_notification.*`` / ``emails/templates/ng_alert_notification.*`` of
grafana/grafana):

* ``templates/email/ng_alert_notification.html``: per alert instance a "Firing" or "Resolved"
  badge, the alertname, Summary/Description, a Labels table (name | value, every label), an
  Annotations table; headings "🔥 N firing instances" / "✅ N resolved instances"; footer
  "Grafana Labs. Sent by Grafana vX". Older Grafana 8/9 HTML (``public/emails/ng_alert_notification.html``)
  has the same badge words and ``Labels:`` list items ``name: value``.
* ``templates/email/ng_alert_notification.txt`` (sent when ``[smtp] content_types`` includes
  text/plain): "You have N firing alert(s), and M resolved alert(s) for {...}", "(N) FIRING" /
  "(M) RESOLVED", "Alertname: X", "Labels:" and `` - name = value`` lines (alertname left out).
* ``templates/default_template.go``: the default subject ``[FIRING:n, RESOLVED:m] <group values>
  (<common labels>)``.
* ``notify/receivers.go`` ``newTestAlert``: the contact point test sends alertname=TestAlert,
  instance=Grafana, summary "Notification test"; that mail is not an alert.

Identity: the alert's labels (``vocab.label_identity``), as for Alertmanager; the host comes from the
labels (``alertmanager.host_from_labels``: instance, host, hostname ...); an alert without one is
quarantined.
"""
from __future__ import annotations

import re

from ..mime import MAX_TEXT_CHARS, MessageView
from ..results import Alert
from ..vocab import guess_category, label_identity, map_severity
from .alertmanager import host_from_labels
from .base import NoHostError, NotAnAlert, dedupe, make_alert

__all__ = ["NAME", "detect", "parse"]

NAME = "grafana"

_SUBJECT = re.compile(r"^\[(?P<status>FIRING|RESOLVED)(?::\d+)?(?:,\s*RESOLVED:\d+)?\]", re.I)
_FOOTER = re.compile(r"Grafana Labs\.?\s+Sent by\s+Grafana|Sent by Grafana v\d|©\s*\d{4}\s+Grafana Labs", re.I)
_TXT_HEAD = re.compile(r"^You have \d+ firing alert\(s\), and \d+ resolved alert\(s\) for", re.M)
_PAIR_HTML = re.compile(r"^\s*(?P<k>[A-Za-z_][A-Za-z0-9_]{0,100})\s*:\s*(?P<v>.*?)\s*$")
_PAIR_TXT = re.compile(r"^\s*-\s*(?P<k>[A-Za-z_][A-Za-z0-9_]{0,100})\s*=\s*(?P<v>.*?)\s*$")
_MAX_LINES = 5000
_MAX_ALERTS = 200


def detect(msg: MessageView) -> bool:
    body = (msg.html or "")[-3000:] + "\n" + (msg.plain or "")[:3000]
    if not _SUBJECT.match(msg.subject.strip()) and not _TXT_HEAD.search(msg.plain or ""):
        return False
    return bool(_FOOTER.search(body) or _TXT_HEAD.search(msg.plain or ""))


def _from_txt(text: str) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    out: list[tuple[str, dict[str, str], dict[str, str]]] = []
    status = ""
    target: dict[str, str] | None = None
    for line in text.split("\n")[:_MAX_LINES]:
        s = line.strip()
        m = re.match(r"^\(\d+\)\s+(FIRING|RESOLVED)$", s)
        if m:
            status, target = m.group(1).lower(), None
            continue
        if s.startswith("Alertname:") and status:
            out.append((status, {"alertname": s.split(":", 1)[1].strip()[:1000]}, {}))
            target = None
            if len(out) > _MAX_ALERTS:
                break
            continue
        if not out:
            continue
        if s.startswith("Labels:"):
            target = out[-1][1]
            continue
        if s.startswith("Annotations:"):
            target = out[-1][2]
            continue
        for word in ("Summary", "Description", "Runbook"):
            if s.startswith(word + ":"):
                out[-1][2][word.lower() if word != "Runbook" else "runbook_url"] = s.split(":", 1)[1].strip()[:1000]
                target = None
                break
        else:
            p = _PAIR_TXT.match(line)
            if p and target is not None and len(target) < 100:
                target.setdefault(p.group("k"), p.group("v")[:1000])
    return out


def _from_html(text: str) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    out: list[tuple[str, dict[str, str], dict[str, str]]] = []
    lines = [line.strip() for line in text.split("\n")[:_MAX_LINES]]
    target: dict[str, str] | None = None
    section = ""
    i = 0
    while i < len(lines):
        s = lines[i]
        low = s.lower()
        if low in ("firing", "resolved"):
            out.append((low, {}, {}))
            target = None
            if len(out) > _MAX_ALERTS:
                break
        elif not out:
            pass
        elif low in ("labels", "labels:"):
            target, section = out[-1][1], "labels"
        elif low in ("annotations", "annotations:"):
            target, section = out[-1][2], "annotations"
        elif low in ("summary", "description") and target is None:
            nxt = next((x for x in lines[i + 1:i + 3] if x), "")
            out[-1][2].setdefault(low, nxt[:1000])
        elif low.startswith("observed ") or "firing instance" in low or "resolved instance" in low:
            target = None
        elif target is not None:
            p = _PAIR_HTML.match(s)
            if p and len(target) < 100:
                target.setdefault(p.group("k"), p.group("v")[:1000])
            elif s and section == "labels" and not p:
                target = None
        i += 1
    return [b for b in out if b[1]]


def parse(msg: MessageView) -> list[Alert]:
    blocks = _from_txt(msg.plain) if msg.plain and _TXT_HEAD.search(msg.plain) else []
    if not any(b[1].get("alertname") for b in blocks):
        blocks = _from_html(msg.html or msg.text)
    blocks = [b for b in blocks if b[1].get("alertname")]
    if blocks and len(msg.plain or msg.html or "") >= MAX_TEXT_CHARS - 1000:
        blocks.pop()  # the text was cut: its last alert may have lost labels
    if blocks and all(b[1].get("alertname") == "TestAlert" and b[1].get("instance") == "Grafana"
                      and b[2].get("summary", "Notification test") == "Notification test" for b in blocks):
        raise NotAnAlert("test notification")
    alerts = []
    for status_word, labels, notes in blocks:
        name = labels["alertname"]
        host = host_from_labels(labels)
        if not host:
            raise NoHostError(f"grafana alert {name[:100]!r} has no instance/host label")
        status = "recovery" if status_word == "resolved" else "problem"
        severity = map_severity(labels.get("severity") or labels.get("priority"))
        category = guess_category(name, labels.get("job"), labels.get("category"), notes.get("summary"))
        summary = notes.get("summary") or notes.get("description") or msg.subject
        fields = {f"label.{k}": v for k, v in labels.items()}
        fields.update({f"annotation.{k}": v for k, v in notes.items()})
        alerts.append(make_alert(NAME, host, name, severity, status, category, summary, fields,
                                 identity=label_identity(labels),
                                 severity_word=labels.get("severity") or labels.get("priority")))
    return dedupe(alerts)
