"""Oracle Enterprise Manager 12c/13c event notification mail (default "Email (Long)" format).

Oracle's code is not public; the format is the documented sample notification: Enterprise Manager Cloud
Control Monitoring Guide, "Defining Email Addresses", Example 6-2 "Long Email Notification for Metric
Alerts" (docs.oracle.com, https://docs.oracle.com/en/enterprise-manager/cloud-control/
enterprise-manager-cloud-control/13.5/emmon/defining-email-addresses.html): ``name=value`` lines
(``Host=``, ``Target type=``, ``Target name=``, ``Message=``, ``Severity=``, ``Event reported time=``,
``Event Type=``, ``Event name=``, ``Metric Group=``, ``Metric=``, ``Metric value=``, ``Key Value=``,
``Rule Name=``, ``Rule Owner=``) under the subject ``EM Event: <Severity>:<Target name> - <Message>``.

Host is the ``Host=`` line (else the target name of a Host target, else the target name); check the
event name (``problemTbsp:pctUsed``, ``Status`` for availability); identity the target (type and name)
and the key value (the tablespace, the mount point), which is how EM tells its events apart.
Severity ``Clear`` is the recovery; Fatal/Critical are critical, Warning warning, Minor Warning minor,
Advisory info.
"""
from __future__ import annotations

import re

from ..mime import MessageView
from ..results import Alert
from ..state import UNSURE_STATE, read_state
from ..vocab import guess_category, one_line
from .base import NoHostError, make_alert

__all__ = ["NAME", "detect", "parse"]

NAME = "oem"

_SUBJECT_RE = re.compile(r"^EM (?:Event|Incident): (?P<sev>[A-Za-z ]{1,20}):(?P<target>[^\r\n]{0,500}?) - ")
_LINE_RE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9 ]{0,40}?)\s*=(?P<value>[^\r\n]{0,4000})$")
_SEVERITY = {"fatal": ("critical", "problem"), "critical": ("critical", "problem"),
             "warning": ("warning", "problem"), "minor warning": ("minor", "problem"),
             "advisory": ("info", "problem"), "clear": (None, "recovery")}
_TYPE_CATEGORY = (("agent", "network"), ("listener", "db"), ("database", "db"), ("asm", "db"), ("pluggable", "db"),
                  ("weblogic", "web"), ("http", "web"), ("web", "web"), ("application server", "web"))


def _fields(msg: MessageView) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in msg.text[:100000].replace("\xa0", " ").split("\n")[:3000]:
        m = _LINE_RE.match(line.strip())
        if m:
            key = re.sub(r"\s+", " ", m.group("key")).strip().lower()
            out.setdefault(key, m.group("value").strip())
            if len(out) >= 80:
                break
    return out


def detect(msg: MessageView) -> bool:
    if _SUBJECT_RE.match(msg.subject or ""):
        return True
    f = _fields(msg)
    return "target type" in f and "target name" in f and "severity" in f and ("event type" in f or "event name" in f)


def _category(target_type: str, f: dict[str, str]) -> str:
    t = target_type.lower()
    for word, category in _TYPE_CATEGORY:
        if word in t:
            return category
    guessed = guess_category(f.get("metric group"), f.get("metric"), f.get("event name"), f.get("message"))
    if guessed != "other":
        return guessed
    return "os" if t == "host" else "other"


def parse(msg: MessageView) -> list[Alert]:
    f = _fields(msg)
    sm = _SUBJECT_RE.match(msg.subject or "")
    target_type = f.get("target type", "")
    target = f.get("target name") or (sm.group("target").strip() if sm else "")
    host = f.get("host") or (target if target_type.lower() == "host" or not target_type else "") or target
    host = host.split()[0] if host.split() else ""
    if not host:
        raise NoHostError("Enterprise Manager notification without Host or Target name")
    word = f.get("severity") or (sm.group("sev").strip() if sm else "")
    mapped = _SEVERITY.get(word.strip().lower())
    needs_review = ""
    if mapped:
        severity, status = mapped
    else:
        # A severity EM does not document: the general rules decide, unsure is a problem to review.
        reading = read_state(word, msg.subject)
        severity, status = None, reading.status
        if not reading.sure:
            status, needs_review = "problem", UNSURE_STATE
    check = f.get("event name") or f.get("metric") or f.get("event type") or "event"
    key_value = f.get("key value", "")
    identity = f"{target_type}:{target}" + (f"|{key_value}" if key_value else "")
    message = f.get("message") or one_line(msg.subject, 500)
    keep = ("host", "target type", "target name", "message", "severity", "event reported time", "event type",
            "event name", "metric group", "metric", "metric value", "key value", "rule name", "rule owner",
            "incident id", "target status")
    fields = {k: v for k, v in f.items() if k in keep}
    return [make_alert(NAME, host, check, severity, status, _category(target_type, f), message, fields,
                       identity=identity, needs_review=needs_review, severity_word=word)]
