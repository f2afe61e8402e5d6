"""Nightingale (n9e) notification mail.

Templates read (ccfos/nightingale):

* ``models/message_tpl.go`` (commit 523a8c4802507be9a7c72e70275e5f22d7ab973a, v8/v9 message templates):
  ``EmailSubject`` = ``Triggered|Recovered: <RuleName> <TagsJSON>`` and ``Email``, an HTML table
  级别状态 ``S<Severity> Triggered|Recovered`` / 策略备注 / 设备备注 / 触发时值 / 监控对象 (TargetIdent) /
  监控指标 (TagsJSON) / 触发时间 or 恢复时间 / 发送时间, with an English twin (Level Status / Rule Note /
  Target Note / Trigger Value / Target / Metrics / Trigger Time | Recovery Time / Send Time).
* v5.15.0 (commit 87899cbedbc7bfcfff61052ebeed945a57a418d2) ``etc/template/subject.tpl`` and
  ``etc/template/mailbody.tpl``: the same table with a PromQL row.
* ``alert/sender/email.go``: one event per mail, text/html.

``TagsJSON`` is a Go ``[]string`` printed as ``[k=v k=v]``. Severity 1/2/3 is Critical/Warning/Info
(Nightingale's own numbering, mapped here, not through the P/S priority table). Identity: the rule and
its tags (``vocab.label_identity`` of the tags, which carry ``rulename``); the host is the monitored
object (TargetIdent), else the ``ident``/``instance``/``host`` tag.
"""
from __future__ import annotations

import re

from ..mime import MessageView
from ..results import Alert
from ..state import UNSURE_STATE
from ..vocab import guess_category, label_identity
from .alertmanager import host_from_labels
from .base import NoHostError, make_alert

__all__ = ["NAME", "detect", "parse"]

NAME = "nightingale"

_STATE_ROW = re.compile(r"^\s*(?:级别状态|Level Status)\s*[:：]+\s*S(?P<sev>\d)\s+(?P<state>Triggered|Recovered)\s*$",
                        re.M | re.I)
_SUBJECT = re.compile(r"^\s*(?P<state>Triggered|Recovered)\s*:\s*(?P<rest>.*)$", re.I | re.S)
_ROW = re.compile(r"^\s*(?P<k>监控对象|监控指标|触发时值|策略备注|恢复时间|触发时间|Target|Metrics|Trigger Value|Rule Note|"
                  r"Recovery Time|Trigger Time)\s*[:：]+\s*(?P<v>.*?)\s*$", re.M)
_TAG_START = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,100}=")
_SEVERITY = {"1": "critical", "2": "warning", "3": "info"}
_WORDS = {"1": "Critical", "2": "Warning", "3": "Info"}


def detect(msg: MessageView) -> bool:
    return bool(_STATE_ROW.search((msg.text or "")[:20000]))


def _tags(value: str) -> dict[str, str]:
    """``[ident=h1 rulename=Disk usage high]`` -> {"ident": "h1", "rulename": "Disk usage high"}."""
    inner = value.strip()
    if inner.startswith("[") and inner.endswith("]"):
        inner = inner[1:-1]
    tags: dict[str, str] = {}
    last = None
    for token in inner.split()[:500]:
        if _TAG_START.match(token):
            k, v = token.split("=", 1)
            tags[k] = v
            last = k
        elif last is not None:
            tags[last] = f"{tags[last]} {token}"[:1000]
    return tags


def parse(msg: MessageView) -> list[Alert]:
    text = (msg.text or "")[:50000]
    m = _STATE_ROW.search(text)
    if not m:
        return []
    rows = {r.group("k"): r.group("v")[:2000] for r in _ROW.finditer(text)}
    metrics = rows.get("监控指标") or rows.get("Metrics") or ""
    tags = _tags(metrics)
    sm = _SUBJECT.match(msg.subject or "")
    rule = ""
    if sm:
        rest = sm.group("rest").strip()
        rule = rest[: -len(metrics)].strip() if metrics and rest.endswith(metrics.strip()) else ""
    if not rule:
        rule = tags.get("rulename") or next((line.strip() for line in text.split("\n") if line.strip()), "")
    target = rows.get("监控对象") or rows.get("Target") or ""
    host = target.split()[0] if target.strip() else (tags.get("ident") or host_from_labels(tags))
    if not host:
        raise NoHostError(f"nightingale event {rule[:100]!r} names no monitored object")
    body_state = m.group("state").lower()
    review = ""
    if sm and sm.group("state").lower() != body_state:
        status, review = "problem", UNSURE_STATE  # the subject and the body disagree
    else:
        status = "recovery" if body_state == "recovered" else "problem"
    level = m.group("sev")
    note = rows.get("策略备注") or rows.get("Rule Note") or ""
    value = rows.get("触发时值") or rows.get("Trigger Value") or ""
    message = f"{rule} {metrics}".strip() + (f" = {value}" if value else "")
    fields = {f"tag.{k}": v for k, v in tags.items()}
    fields.update({"rule_note": note, "trigger_value": value, "severity": f"S{level}"})
    identity = label_identity(tags) if tags else label_identity({"rulename": rule, "ident": host})
    return [make_alert(NAME, host, rule, _SEVERITY.get(level, "warning"), status,
                       guess_category(rule, note, tags.get("__name__"), metrics), message, fields,
                       identity=identity, needs_review=review, severity_word=_WORDS.get(level, f"S{level}"))]
