"""Nagios Core (notify-service/host-by-email) and Icinga 2 (mail-*-notification.sh) mails."""
from __future__ import annotations

import re

from ..fields import first_value, parse_fields
from ..mime import MessageView
from ..results import Alert
from ..vocab import guess_category, map_severity
from .base import NoHostError, host_from_value, make_alert

__all__ = ["NAME", "detect", "parse"]

NAME = "nagios"

_TYPES = ("PROBLEM", "RECOVERY", "ACKNOWLEDGEMENT", "FLAPPINGSTART", "FLAPPINGSTOP", "FLAPPINGEND",
          "FLAPPINGDISABLED", "DOWNTIMESTART", "DOWNTIMEEND", "DOWNTIMECANCELLED", "DOWNTIMEREMOVED",
          "CUSTOM")
_TYPE_ALT = "|".join(_TYPES)
# Nagios: "** PROBLEM Service Alert: host/service is CRITICAL **"
_NAGIOS_SUBJECT = re.compile(
    rf"^\*\*\s*(?P<type>{_TYPE_ALT})\s+(?P<kind>Service|Host)\s+Alert:\s*(?P<rest>.*?)\s+is\s+(?P<state>[A-Z]+)\s*\*\*", re.I)
# Icinga 2: "[PROBLEM] disk on host is CRITICAL!" / "[PROBLEM] Host host is DOWN!"
_ICINGA_SUBJECT = re.compile(rf"^\[(?P<type>{_TYPE_ALT})\]\s+(?P<rest>.*?)\s+is\s+(?P<state>[A-Z]+)!?\s*$", re.I)
_BANNER = re.compile(r"\*{3,}\s*(?:Nagios|Icinga|Service Monitoring on|Host Monitoring on)", re.I)

_STATUS = {"PROBLEM": "problem", "RECOVERY": "recovery", "ACKNOWLEDGEMENT": "ack"}


def detect(msg: MessageView) -> bool:
    subject = msg.subject.strip()
    if _NAGIOS_SUBJECT.match(subject) or _ICINGA_SUBJECT.match(subject):
        return True
    return bool(_BANNER.search(msg.text[:4000])) and bool(re.search(r"(?mi)^\s*Host\s*:", msg.text[:4000]))


def parse(msg: MessageView) -> list[Alert]:
    text = msg.text[:20000]
    fields = parse_fields(text, max_lines=200)
    subject = msg.subject.strip()
    sm = _NAGIOS_SUBJECT.match(subject) or _ICINGA_SUBJECT.match(subject)

    ntype = (first_value(fields, "notification type") or (sm.group("type") if sm else "")).upper()
    ntype = ntype.split()[0] if ntype else ""
    service = first_value(fields, "service", "service name", "servicename")
    host = host_from_value(first_value(fields, "host", "host name", "hostname", "host alias"))
    is_host_notification = not service and (
        not sm or "kind" not in sm.groupdict() or (sm.group("kind") or "").lower() == "host"
        or subject.lower().startswith(f"[{ntype.lower()}] host "))
    if not host and sm:
        rest = sm.group("rest")
        if "kind" in sm.groupdict() and sm.group("kind"):
            host = rest.split("/", 1)[0] if not is_host_notification else rest
        else:
            m = re.search(r"\son\s+(\S+)$", rest)
            host = m.group(1) if m else re.sub(r"^Host\s+", "", rest, flags=re.I)
        if not service and not is_host_notification and "/" in rest:
            service = rest.split("/", 1)[1]
    if not host:
        raise NoHostError("nagios notification without a Host line")

    state = (first_value(fields, "state") or (sm.group("state") if sm else "")).upper()
    state = state.split()[0] if state else ""
    if ntype in _STATUS:
        status = _STATUS[ntype]
    elif ntype:
        status = "none"
    else:
        status = "recovery" if state in ("OK", "UP") else "problem"
    severity = map_severity(state) if status == "problem" else "info"

    m = re.search(r"(?im)^\s*Additional Info\s*:\s*\n\s*\n?\s*(\S.*)$", text)
    info = (m.group(1) if m else None) or first_value(fields, "info", "additional info", "output") or subject
    if is_host_notification:
        check, category = "host", "network"
    else:
        check = service or ""
        category = guess_category(service, info)
    if not check:
        raise NoHostError("nagios service notification without a Service line")
    details = {"notification_type": ntype, "state": state}
    for key in ("address", "ipv4", "date/time", "when"):
        value = first_value(fields, key)
        if value:
            details[key] = value
    return [make_alert(NAME, host, check, severity, status, category, info, details)]
