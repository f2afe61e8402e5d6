"""Zabbix media-type mails: 4.x-6.x default templates (Problem / Resolved / Updated problem),
3.x default templates (``PROBLEM:`` / ``OK:`` with ``Trigger status``) and customised Chinese
templates (``告警主机`` / ``告警信息`` / ``告警等级`` / ``当前状态``)."""
from __future__ import annotations

import re

from ..fields import first_value, parse_fields
from ..mime import MessageView
from ..results import Alert
from ..vocab import HOST_TOKEN_RE, guess_category, map_severity, status_from_word
from .base import NoHostError, make_alert

__all__ = ["NAME", "detect", "parse"]

NAME = "zabbix"

_SUBJECT = re.compile(
    r"^(?P<kind>Problem resolved|Problem|Resolved(?:\s+in\s+(?P<dur>[^:]{1,40}))?"
    r"|Updated problem(?:\s+in\s+[^:]{1,40})?)\s*:\s*(?P<name>.+)$")
_SUBJECT_3X = re.compile(r"^(?P<status>PROBLEM|OK|RESOLVED)\s*:\s*(?P<name>.+)$")
_BODY_MARKERS = re.compile(
    r"(?m)^(?:Problem started at|Problem has been resolved|Problem name:|Original problem ID:|"
    r"Original event ID:|Trigger status:|Trigger severity:)")
_UPDATE_RE = re.compile(
    r"(?m)^(?P<user>.{1,120}?)\s+(?P<action>(?:(?:un)?acknowledged|commented|changed severity|closed|"
    r"suppressed|unsuppressed|changed rank)[^\n]{0,200}?)\s+problem at\b")

_HOST_KEYS = ("host", "告警主机", "主机名称", "主机名", "主机", "hostname", "host name", "故障主机")
_NAME_KEYS = ("problem name", "trigger", "trigger name", "告警信息", "告警名称", "问题名称", "事件名称",
              "触发器名称", "触发器", "故障名称", "event name")
_SEVERITY_KEYS = ("severity", "trigger severity", "告警等级", "告警级别", "严重性", "严重级别",
                  "严重程度", "事件级别", "级别")
_STATUS_KEYS = ("trigger status", "当前状态", "告警状态", "事件状态", "status", "状态")
_CUSTOM_KEYS = ("告警主机", "告警信息", "告警名称", "问题名称", "故障名称", "触发器名称")


def _zabbix_evidence(msg: MessageView) -> bool:
    headers = " ".join([msg.sender] + msg.header_all("in-reply-to") + msg.header_all("references")
                       + msg.header_all("x-mailer") + msg.header_all("message-id"))
    return "zabbix" in headers.lower() or bool(
        re.search(r"(?i)\bzabbix\b|事件ID|Original (?:problem|event) ID", msg.text[:8000]))


def detect(msg: MessageView) -> bool:
    subject = msg.subject.strip()
    head = msg.text[:8000]
    if _BODY_MARKERS.search(head):
        return True
    if _SUBJECT.match(subject) and (_zabbix_evidence(msg) or _UPDATE_RE.search(head)):
        return True
    if _SUBJECT_3X.match(subject) and re.search(r"(?m)^Trigger\s*:", head):
        return True
    if _zabbix_evidence(msg):
        keys = {f.key for f in parse_fields(head, max_lines=200)}
        return any(k in keys for k in _CUSTOM_KEYS)
    return False


def _strip_ip_suffix(value: str) -> str:
    return re.sub(r"\s*[(（]\s*(?:\d{1,3}\.){3}\d{1,3}\s*[)）]\s*$", "", value).strip()


def _host_from_items(text: str) -> str | None:
    m = re.search(r"(?m)^\s*1\.\s+(.+)$", text)
    if not m:
        return None
    hosts = [h for h in re.findall(r"\(([^\s():]+):", m.group(1)) if "UNKNOWN" not in h.upper()]
    return hosts[-1] if hosts else None


def _host_from_name(name: str, known_hosts: frozenset[str]) -> str | None:
    """The host an event name mentions: a catalogue host if we have a catalogue, else the first
    host-like token."""
    lowered = name.lower()
    for host in sorted(known_hosts, key=len, reverse=True):
        if host and re.search(rf"(?<![a-z0-9_.-]){re.escape(host.lower())}(?![a-z0-9_-])", lowered):
            return host
    m = HOST_TOKEN_RE.search(name)
    if m:
        return m.group(1)
    m = re.search(r"\bon\s+(\S+)\s*$", name)
    return m.group(1) if m else None


def parse(msg: MessageView) -> list[Alert]:
    text = msg.text[:30000]
    fields = parse_fields(text, max_lines=300)
    subject = msg.subject.strip()
    sm = _SUBJECT.match(subject)
    sm3 = _SUBJECT_3X.match(subject)

    name = first_value(fields, *_NAME_KEYS)
    if not name and sm:
        name = sm.group("name")
    if not name and sm3:
        name = sm3.group("name")
    if not name:
        name = re.sub(r"^[\[【(（]?[^\]】)）:：]{0,12}[\]】)）:：]\s*", "", subject) or subject

    updated = bool(sm and sm.group("kind").lower().startswith("updated"))
    action = ""
    if updated or _UPDATE_RE.search(text[:3000]):
        um = _UPDATE_RE.search(text[:3000])
        action = um.group("action") if um else ""
        updated = True

    status_value = first_value(fields, *_STATUS_KEYS) or ""
    if updated:
        a = action.lower()
        if "closed" in a:
            status = "recovery"
        elif re.search(r"(?<!un)acknowledged", a):
            status = "ack"
        else:
            status = "none"
    elif sm and sm.group("kind").lower().startswith(("resolved", "problem resolved")):
        status = "recovery"
    elif re.search(r"(?m)^Problem has been resolved", text):
        status = "recovery"
    elif sm3 and sm3.group("status").upper() in ("OK", "RESOLVED"):
        status = "recovery"
    elif status_value:
        up = status_value.strip().upper()
        status = ("recovery" if up.startswith(("OK", "RESOLVED")) else
                  "problem" if up.startswith("PROBLEM") else status_from_word(status_value) or "problem")
    else:
        status = status_from_word(subject.split(":", 1)[0]) or "problem"

    host = first_value(fields, *_HOST_KEYS)
    host = _strip_ip_suffix(host) if host else None
    if not host:
        host = _host_from_items(text)
    if not host:
        host = _host_from_name(name, msg.known_hosts)
    if not host:
        raise NoHostError("zabbix message without a host (no Host line, item or host in event name)")

    severity_word = first_value(fields, *_SEVERITY_KEYS)
    severity = map_severity(severity_word) if status == "problem" else "info"
    opdata = first_value(fields, "operational data", "告警详情", "问题详情", "当前值", "item values") or ""
    category = guess_category(name, opdata)
    details = {"event_name": name}
    for key in ("severity", "original problem id", "original event id", "problem duration",
                "operational data", "trigger status", "事件id"):
        value = first_value(fields, key)
        if value:
            details[key] = value
    if action:
        details["update_action"] = action
    message = subject if subject else name
    return [make_alert(NAME, host, name, severity, status, category, message, details)]
