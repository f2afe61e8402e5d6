"""Checkmk notification mails: the HTML ``mail`` plugin and the ``asciimail`` plugin, single and bulk.

Follows the shipped templates of Checkmk/checkmk:

- ``cmk/notification_plugins/mail.py`` @ 00e06db22c4fb4c5720984b702fb94a763d6de40: subjects
  ``Check_MK: $HOSTNAME$ - $EVENT_TXT$`` (host) and ``Check_MK: $HOSTNAME$/$SERVICEDESC$ $EVENT_TXT$``
  (service); the text part is one ``"%-20s %s" % (title + ":", value)`` line per body element
  (``Host`` -- ``HOSTNAME (HOSTALIAS)`` when the alias differs --, ``Service``, ``Event``,
  ``Address``, ``Time``, ``Summary``, ``Details``); ``event_templates()`` gives the event text:
  ``PREV -> NEW`` for PROBLEM/RECOVERY, ``Acknowledged (S)``, ``Started Flapping``,
  ``Stopped Flapping (S)``, ``Disabled Flapping (S)``, ``Downtime Start|End|Cancelled (S)``,
  ``Custom Notification (S)``; short states OK/WARN/CRIT/UNKN (services), UP/DOWN/UNREACH (hosts).
- ``cmk/notification_plugins/asciimail.py`` @ 072ef06aec7c45a0bf21632a6d8f1ab28f94e692: ``Host:``,
  ``Alias:``, ``Address:``, ``Service:``, ``Event:``, ``Output:``, ``Perfdata:`` lines.
- ``cmk/notification_plugins/utils.py`` ``get_bulk_notification_subject``: bulk mails are
  ``Check_MK: N notifications for HOST`` / ``... for N hosts`` and concatenate one body per
  notification (each begins with its ``Host:`` line); each becomes its own alert with its own state.

Identity: Checkmk tells its alerts apart by host and service (``check`` is the service description,
``host`` for host notifications), so no further identity.
"""
from __future__ import annotations

import re

from ..mime import MessageView
from ..results import Alert
from ..state import UNSURE_STATE, read_state
from ..vocab import guess_category
from .base import NoHostError, dedupe, make_alert

__all__ = ["NAME", "detect", "parse"]

NAME = "checkmk"

_MAX_TEXT = 200_000
_MAX_LINES = 5000
_MAX_BLOCKS = 200

_EVENT = (r"(?:[A-Z]{2,8}\s*->\s*[A-Z]{2,8}|Acknowledged \([A-Z]{2,8}\)|Started Flapping|"
          r"(?:Stopped|Disabled) Flapping \([A-Z]{2,8}\)|Downtime (?:Start|End|Cancelled) \([A-Z]{2,8}\)|"
          r"Custom Notification \([A-Z]{2,8}\))")
_EVENT_RE = re.compile(rf"^{_EVENT}$")
_BULK_SUBJECT = re.compile(r"^Check_MK:\s*\d{1,6}\s+notifications\s+for\s+\S", re.I)
_HOST_SUBJECT = re.compile(rf"^Check_MK:\s*(?P<host>\S+)\s+-\s+(?P<event>{_EVENT})\s*$")
_SERVICE_SUBJECT = re.compile(rf"^Check_MK:\s*(?P<host>[^/\s]+)/(?P<service>.+?)\s+(?P<event>{_EVENT})\s*$")
_FIELD = re.compile(r"^(?P<k>Host|Alias|Address|Service|Event|Time|Summary|Output|Details|Perfdata|"
                    r"Metrics|Host Metrics|Service Metrics|Site|Host Tags|Relative Time|"
                    r"Acknowledge Author|Acknowledge Comment|Notification Author|Notification Comment)"
                    r":[ \t]*(?P<v>.*?)[ \t]*$")
_BODY_EVENT = re.compile(rf"(?m)^Event:[ \t]+{_EVENT}[ \t]*$")
_BODY_HOST = re.compile(r"(?m)^Host:[ \t]")
_ANY_SUBJECT = re.compile(rf"^Check_MK:.*?\s{_EVENT}\s*$")

# Checkmk short states (``$SERVICESHORTSTATE$``/``$HOSTSHORTSTATE$``) and long ones.
_STATES: dict[str, tuple[str, str | None]] = {
    "OK": ("recovery", None), "UP": ("recovery", None),
    "WARN": ("problem", "warning"), "WARNING": ("problem", "warning"),
    "CRIT": ("problem", "critical"), "CRITICAL": ("problem", "critical"),
    "UNKN": ("problem", "minor"), "UNKNOWN": ("problem", "minor"),
    "DOWN": ("problem", "critical"),
    "UNREACH": ("problem", "major"), "UNREACHABLE": ("problem", "major"),
}


def detect(msg: MessageView) -> bool:
    subject = msg.subject.strip()
    if _BULK_SUBJECT.match(subject) or _ANY_SUBJECT.match(subject):
        return True
    head = (msg.plain or msg.text)[:20000]
    return bool(_BODY_HOST.search(head) and _BODY_EVENT.search(head))


def _blocks(text: str) -> list[dict[str, str]]:
    """One dict of fields per notification body; a body starts at its ``Host:`` line."""
    out: list[dict[str, str]] = []
    for line in text[:_MAX_TEXT].split("\n")[:_MAX_LINES]:
        m = _FIELD.match(line.rstrip("\r"))
        if not m:
            continue
        key, value = m.group("k").lower(), m.group("v")
        if key == "host":
            if len(out) >= _MAX_BLOCKS:
                break
            out.append({})
        if out and key not in out[-1]:
            out[-1][key] = value[:2000]
    return [b for b in out if "event" in b or "service" in b]


def _host_of(value: str) -> str:
    """``szhxdb01 (alias)`` -> ``szhxdb01`` (Checkmk host names contain no spaces)."""
    m = re.match(r"^\s*([^\s()]+)", value or "")
    return m.group(1) if m else ""


def _reading(event: str) -> tuple[str, str | None, str, str]:
    """(status, severity, severity word, needs_review) for an event text."""
    event = re.sub(r"\s+", " ", event.strip())
    m = re.match(r"^([A-Z]{2,11}) ?-> ?([A-Z]{2,11})$", event)
    if m:
        new = m.group(2)
        if new in _STATES:
            status, severity = _STATES[new]
            return status, severity, new, ""
        return "problem", None, new, UNSURE_STATE
    m = re.match(r"^(Acknowledged|Started Flapping|Stopped Flapping|Disabled Flapping|Downtime Start|"
                 r"Downtime End|Downtime Cancelled|Custom Notification)\b(?: \(([A-Z]{2,11})\))?", event)
    if m:
        return ("ack" if m.group(1) == "Acknowledged" else "none"), None, m.group(2) or "", ""
    reading = read_state(event)
    return reading.status, None, "", "" if reading.sure else UNSURE_STATE


def _from_subject(subject: str) -> list[dict[str, str]]:
    m = _SERVICE_SUBJECT.match(subject) or _HOST_SUBJECT.match(subject)
    if not m:
        return []
    block = {"host": m.group("host"), "event": m.group("event")}
    if "service" in m.groupdict() and m.group("service"):
        block["service"] = m.group("service")
    return [block]


def parse(msg: MessageView) -> list[Alert]:
    subject = re.sub(r"\s+", " ", msg.subject.strip())[:1000]
    blocks = _blocks(msg.plain) if msg.plain else []
    if not blocks:
        blocks = _blocks(msg.text)
    if not blocks:
        blocks = _from_subject(subject)
    if not blocks:
        raise NoHostError("checkmk notification without a Host line")
    single = _from_subject(subject) if len(blocks) == 1 else []
    alerts = []
    for block in blocks:
        host = _host_of(block.get("host", ""))
        if not host:
            raise NoHostError("checkmk notification with an empty Host line")
        event = block.get("event") or (single[0].get("event", "") if single else "")
        status, severity, word, review = _reading(event)
        service = block.get("service", "")
        summary = block.get("summary") or block.get("output") or ""
        if service:
            check, category = service, guess_category(service, summary)
        else:
            check, category = "host", "network"
        fields = {"event": event}
        for key in ("alias", "address", "time", "details"):
            if block.get(key):
                fields[key] = block[key]
        if not block.get("alias") and "(" in block.get("host", ""):
            fields["alias"] = block["host"].split("(", 1)[1].rstrip(") ")
        message = f"{event} - {summary}" if summary and event else (summary or event or subject)
        alerts.append(make_alert(NAME, host, check, severity, status, category, message, fields,
                                 needs_review=review, severity_word=word or None))
    return dedupe(alerts)
