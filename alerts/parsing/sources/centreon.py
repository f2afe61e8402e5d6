"""Centreon notification mail: the default ``host-notify-by-email`` / ``service-notify-by-email``
commands Centreon's installer inserts (run by Centreon Engine, a Nagios fork: same macros).

Templates followed (take as fact, code our own), centreon/centreon-archived
``www/install/insertCommands.sql`` (``#BR#`` is a line break):

- at ec1fa86ea5b008c2b5e113b21719e42342ebe25a (the long-standing default, also in
  ``www/install/insertBaseConf.sql`` of Centreon 2.x)::

    host:    subject "Host $HOSTSTATE$ alert for $HOSTNAME$!"
             body    "***** centreon Notification *****", "Type:$NOTIFICATIONTYPE$",
                     "Host: $HOSTNAME$", "State:", "Address:", "Info: $HOSTOUTPUT$", "Date/Time: $DATE$"
    service: subject "** $NOTIFICATIONTYPE$ alert - $HOSTALIAS$/$SERVICEDESC$ is $SERVICESTATE$ **"
             body    "***** centreon Notification *****", "Notification Type:", "Service:",
                     "Host: $HOSTALIAS$", "Address:", "State:",
                     "Date/Time: $DATE$ Additional Info : $SERVICEOUTPUT$"

- at 1981f3f4a3397ac50fe6e9d75679e701b3afe661 (the later default, sent with
  ``-r "Centreon <centreon-engine>"``)::

    subject "$HOSTNAME$[/$SERVICEDESC$] - <$STATE$ for PROBLEM/RECOVERY, else $NOTIFICATIONTYPE$> - $DATE$ $TIME$"
    body    "***** Centreon notification *****", "Type:    ", "Host:    $HOSTALIAS$", "Address: ",
            ["Service: "], "State:   ", "Since:   ", "Info:    ", optional "Comment: "

Notification types and states are Centreon Engine's (Nagios's): see ``nagios``; the type decides
the state. The host is ``$HOSTNAME$`` where the mail gives it (the later subject), else the
``Host:`` line; the check is the service description, or ``host`` for host notifications.
"""
from __future__ import annotations

import re

from ..fields import first_value, parse_fields
from ..mime import MessageView
from ..results import Alert
from . import nagios
from .base import NoHostError

__all__ = ["NAME", "detect", "parse"]

NAME = "centreon"

_BANNER = re.compile(r"^\s*\*{3,}\s*centreon\s+notification\s*\*{3,}\s*$", re.I | re.M)
# Classic subjects.
_SERVICE_SUBJECT = re.compile(
    r"^\*\*\s*(?P<type>[A-Za-z]{3,20})\s+alert\s+-\s+(?P<rest>.{1,900}?)\s+is\s+(?P<state>[A-Za-z]{1,15})\s*\*\*\s*$",
    re.I)
_HOST_SUBJECT = re.compile(r"^Host\s+(?P<state>[A-Za-z]{1,15})\s+alert\s+for\s+(?P<host>\S{1,255}?)!?\s*$", re.I)
# Later subject: "szhxdb01/Disk-/oradata - CRITICAL - 03-12-2024 09:17:04"
_NEW_SUBJECT = re.compile(r"^(?P<head>\S.{0,900}?) - (?P<word>[A-Za-z]{2,20}) - (?P<when>[^\n]{0,60})$")
_ADDITIONAL = re.compile(r"(?im)Additional Info[ \t]*:[ \t]*(?P<info>[^\n]{0,1000})")


def detect(msg: MessageView) -> bool:
    return bool(_BANNER.search(msg.text[:4000]))


def _host_from_subject(subject: str, service: str) -> str | None:
    m = _NEW_SUBJECT.match(subject)
    if m:
        head = m.group("head")
        if service:
            if head.endswith("/" + service):
                return nagios.host_name(head[: -len(service) - 1])
            return None
        return nagios.host_name(head) if "/" not in head and " " not in head else None
    m = _HOST_SUBJECT.match(subject)
    if m and not service:
        return nagios.host_name(m.group("host"))
    return None


def parse(msg: MessageView) -> list[Alert]:
    text = msg.text[: nagios.MAX_TEXT]
    fields = parse_fields(text, max_lines=nagios.MAX_LINES)
    subject = msg.subject.strip()[: nagios.MAX_SUBJECT]

    ntype = (first_value(fields, "notification type", "type") or "").strip()
    ntype = ntype.split()[0].upper()[:30] if ntype else ""
    service = (first_value(fields, "service") or "").strip()[:300]
    host = _host_from_subject(subject, service) or nagios.host_name(first_value(fields, "host"))
    if not host:
        sm = _SERVICE_SUBJECT.match(subject)
        if sm and "/" in sm.group("rest"):
            rest = sm.group("rest")
            host = nagios.host_name(rest[: -len(service) - 1] if service and rest.endswith("/" + service)
                                   else rest.split("/", 1)[0])
            service = service or rest.split("/", 1)[1].strip()
    if not host:
        raise NoHostError("centreon notification without a Host line")

    state = (first_value(fields, "state") or "").strip()
    state = state.split()[0].upper()[:30] if state else ""
    if not ntype or not state:
        sm = _SERVICE_SUBJECT.match(subject)
        if sm:
            ntype = ntype or sm.group("type").upper()
            state = state or sm.group("state").upper()
    m = _ADDITIONAL.search(text)
    info = ((m.group("info") if m else None) or first_value(fields, "info") or subject).strip()
    details = {}
    for key in ("address", "since", "date/time", "comment"):
        value = first_value(fields, key)
        if value:
            details[key] = re.split(r"(?i)\s*Additional Info", value, maxsplit=1)[0][:200]
    return [nagios.family_alert(NAME, host, service or None, ntype, state, info, details)]
