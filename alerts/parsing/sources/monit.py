"""Monit alert mails (the default ``mail-format``; custom subjects keep the default body).

Follows Monit 5.14.1 (tildeslash/monit, read from the mirror bolasblack/monit at tag 5.14.1,
32ae6fb1bab786e29b5eacc8d4071354220941ac):

- ``src/alert.h``: subject ``monit alert --  $EVENT $SERVICE``, from ``monit@$HOST``, body
  ``$EVENT Service $SERVICE`` then tab-indented ``Date:``, ``Action:``, ``Host:``,
  ``Description:`` lines and ``Your faithful employee,`` / ``Monit``.
- ``src/sendmail.c``: ``X-Mailer: Monit <version>``, ``text/plain; charset="iso-8859-1"``, 8bit.
- ``src/event.c``: ``Event_Table``, the $EVENT words per event type in four columns (failed,
  succeeded, changed, changed-not); ``Event_post``/``handle_event``: the failed *and* the changed
  states set the service's error flag and run the "failed" action, the succeeded and changed-not
  states clear it; instance and action events never touch the error flag.

Reading, from that table: the failed and changed columns are problems ("Does not exist",
"Connection failed", "Resource limit matched", "Status failed", "Checksum changed", "Content
match", "Timeout"...), the succeeded and changed-not columns are recoveries ("Exists",
"Connection succeeded", "Resource limit succeeded", "Status succeeded", "Timeout recovery"...).
"Monit instance ..." (Monit started, stopped, reloaded) and "Action done" (an operator's start,
stop, restart, monitor or unmonitor of a service) are notices (status none): Monit logs them at
info level and they neither open nor close an error. Monit has no severity levels, so problems
carry the contract's default (warning).

Identity: Monit keeps one error bit per service and event type, so an alert is host + service
(``check``) + event type (``identity``, e.g. ``connection``): "Connection succeeded" closes
"Connection failed" of that service, not its "Does not exist".
"""
from __future__ import annotations

import re

from ..mime import MessageView
from ..results import Alert
from ..state import UNSURE_STATE, read_state
from ..vocab import guess_category
from .base import NoHostError, make_alert

__all__ = ["NAME", "detect", "parse", "EVENTS"]

NAME = "monit"

# event.c Event_Table: type -> (failed, succeeded, changed, changed-not), plus the words later
# Monit releases use for the same types.
_TABLE: dict[str, tuple[str, ...]] = {
    "action": ("Action done", "Action done", "Action done", "Action done"),
    "bytein": ("Download bytes exceeded", "Download bytes ok", "Download bytes changed", "Download bytes not changed"),
    "byteout": ("Upload bytes exceeded", "Upload bytes ok", "Upload bytes changed", "Upload bytes not changed"),
    "checksum": ("Checksum failed", "Checksum succeeded", "Checksum changed", "Checksum not changed"),
    "connection": ("Connection failed", "Connection succeeded", "Connection changed", "Connection not changed"),
    "content": ("Content failed", "Content succeeded", "Content match", "Content doesn't match"),
    "data": ("Data access error", "Data access succeeded", "Data access changed", "Data access not changed"),
    "exec": ("Execution failed", "Execution succeeded", "Execution changed", "Execution not changed"),
    "fsflag": ("Filesystem flags failed", "Filesystem flags succeeded", "Filesystem flags changed",
               "Filesystem flags not changed"),
    "gid": ("GID failed", "GID succeeded", "GID changed", "GID not changed"),
    "heartbeat": ("Heartbeat failed", "Heartbeat succeeded", "Heartbeat changed", "Heartbeat not changed"),
    "icmp": ("ICMP failed", "ICMP succeeded", "ICMP changed", "ICMP not changed"),
    "instance": ("Monit instance failed", "Monit instance succeeded", "Monit instance changed",
                 "Monit instance not changed"),
    "invalid": ("Invalid type", "Type succeeded", "Type changed", "Type not changed"),
    "link": ("Link down", "Link up", "Link changed", "Link not changed"),
    "nonexist": ("Does not exist", "Exists", "Existence changed", "Existence not changed"),
    "packetin": ("Download packets exceeded", "Download packets ok", "Download packets changed",
                 "Download packets not changed"),
    "packetout": ("Upload packets exceeded", "Upload packets ok", "Upload packets changed",
                  "Upload packets not changed"),
    "permission": ("Permission failed", "Permission succeeded", "Permission changed", "Permission not changed"),
    "pid": ("PID failed", "PID succeeded", "PID changed", "PID not changed"),
    "ppid": ("PPID failed", "PPID succeeded", "PPID changed", "PPID not changed"),
    "resource": ("Resource limit matched", "Resource limit succeeded", "Resource limit changed",
                 "Resource limit not changed"),
    "saturation": ("Saturation exceeded", "Saturation ok", "Saturation changed", "Saturation not changed"),
    "size": ("Size failed", "Size succeeded", "Size changed", "Size not changed"),
    "speed": ("Speed failed", "Speed ok", "Speed changed", "Speed not changed"),
    "status": ("Status failed", "Status succeeded", "Status changed", "Status not changed"),
    "timeout": ("Timeout", "Timeout recovery", "Timeout changed", "Timeout not changed"),
    "timestamp": ("Timestamp failed", "Timestamp succeeded", "Timestamp changed", "Timestamp not changed"),
    "uid": ("UID failed", "UID succeeded", "UID changed", "UID not changed"),
    "uptime": ("Uptime failed", "Uptime succeeded", "Uptime changed", "Uptime not changed"),
}
_COLUMN_STATUS = ("problem", "recovery", "problem", "recovery")
_NOTICE_TYPES = ("action", "instance")

# lower-cased event word -> (event type, status)
EVENTS: dict[str, tuple[str, str]] = {}
for _type, _words in _TABLE.items():
    for _i, _word in enumerate(_words):
        EVENTS.setdefault(_word.lower(), (_type, "none" if _type in _NOTICE_TYPES else _COLUMN_STATUS[_i]))
_EVENT_ALT = "|".join(re.escape(w) for w in sorted(EVENTS, key=len, reverse=True))

_FIRST_LINE = re.compile(rf"^\s*(?P<event>{_EVENT_ALT}) Service (?P<service>\S.{{0,250}}?)\s*$", re.I)
_ANY_FIRST_LINE = re.compile(r"^\s*(?P<event>[A-Za-z][A-Za-z' ]{1,40}?) Service (?P<service>\S.{0,250}?)\s*$")
_SUBJECT = re.compile(rf"monit alert --\s+(?P<event>{_EVENT_ALT})\s+(?P<service>\S+)\s*$", re.I)
_FIELD = re.compile(r"^[ \t]*(?P<k>Date|Action|Host|Description):[ \t]*(?P<v>.*?)[ \t]*$")

# Categories by event type when the service name does not say.
_TYPE_CATEGORY = {
    "nonexist": "app_process", "pid": "app_process", "ppid": "app_process", "exec": "app_process",
    "status": "app_process", "timeout": "app_process", "instance": "app_process", "action": "app_process",
    "connection": "network", "icmp": "network", "link": "network", "speed": "network",
    "saturation": "network", "bytein": "network", "byteout": "network", "packetin": "network",
    "packetout": "network", "resource": "os", "uptime": "os", "fsflag": "os", "checksum": "os",
    "size": "os", "timestamp": "os", "permission": "os", "uid": "os", "gid": "os", "invalid": "os",
    "data": "os", "content": "app_process", "heartbeat": "app_process",
}


def _repair(text: str) -> str:
    """Monit labels every mail iso-8859-1 and copies program output and service names as bytes;
    UTF-8 (Chinese) text read as Latin-1 is put back."""
    if not re.search(r"[\u00c0-\u00ff][\u0080-\u00bf]", text) or re.search(r"[^\x00-\xff]", text):
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        # The decoder turned some continuation bytes (\x85, \xa0) into spaces: keep what decodes.
        fixed = text.encode("latin-1").decode("utf-8", "replace")
        return fixed if fixed.count("\ufffd") <= 8 else text


def _lines(msg: MessageView) -> list[str]:
    text = _repair((msg.plain or msg.text)[:20000])
    return [line.rstrip("\r") for line in text.split("\n")[:200]]


def _fields(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines[:40]:
        m = _FIELD.match(line)
        if m and m.group("k").lower() not in out:
            out[m.group("k").lower()] = m.group("v")[:2000]
    return out


def _first_line(lines: list[str]) -> str:
    return next((line for line in lines[:10] if line.strip()), "")


def detect(msg: MessageView) -> bool:
    lines = _lines(msg)
    first = _first_line(lines)
    fields = _fields(lines)
    mailer = (msg.header("x-mailer") or "").strip().lower().startswith("monit")
    if _FIRST_LINE.match(first) and ("host" in fields or "description" in fields) and (
            "action" in fields or mailer):
        return True
    if _SUBJECT.search(msg.subject.strip()):
        return True
    return mailer and bool(_ANY_FIRST_LINE.match(first)) and "action" in fields


def parse(msg: MessageView) -> list[Alert]:
    lines = _lines(msg)
    fields = _fields(lines)
    first = _first_line(lines)
    m = _FIRST_LINE.match(first) or _SUBJECT.search(msg.subject.strip()) or _ANY_FIRST_LINE.match(first)
    if not m:
        return []
    event, service = re.sub(r"\s+", " ", m.group("event").strip()), m.group("service").strip()
    host = fields.get("host", "").split()[0] if fields.get("host", "").split() else ""
    if not host:
        sender = msg.sender_address
        if sender.lower().startswith("monit@") and "$" not in sender:
            host = sender.split("@", 1)[1]
    if not host:
        raise NoHostError("monit alert without a Host line")
    known = EVENTS.get(event.lower())
    review = ""
    if known:
        event_type, status = known
    else:
        reading = read_state(event)
        event_type, status = event.lower(), reading.status
        review = "" if reading.sure else UNSURE_STATE
    description = fields.get("description", "")
    category = guess_category(service)
    if category == "other":
        category = _TYPE_CATEGORY.get(event_type, "other")
    details = {"event": event, "service": service}
    for key in ("date", "action", "description"):
        if fields.get(key):
            details[key] = fields[key]
    message = f"{event}: {description}" if description else f"{event} Service {service}"
    return [make_alert(NAME, host, service, None, status, category, message, details,
                       identity=event_type, needs_review=review)]
