"""Icinga notification mail: Icinga 2's shipped mail scripts, and the Nagios-layout mail of
Icinga 1.x and of the first Icinga 2 scripts.

Templates followed (take as fact, code our own):

- Icinga/icinga2 ``etc/icinga2/scripts/mail-host-notification.sh`` and
  ``etc/icinga2/scripts/mail-service-notification.sh`` (read at
  81f7bce39040264a271f020a1e8f2d65a68a1d20; layout unchanged since 2017)::

    subject "[$NOTIFICATIONTYPE] Host $HOSTDISPLAYNAME is $HOSTSTATE!"
            "[$NOTIFICATIONTYPE] $SERVICEDISPLAYNAME on $HOSTDISPLAYNAME is $SERVICESTATE!"
    body    "***** Host Monitoring on <icinga host> *****" (or "Service Monitoring on")
            "<display names> is <STATE>!", "Info:    <output>", "When:    <long_date_time>",
            ["Service: $service.name$"], "Host:    $host.name$", optional "IPv4:", "IPv6:",
            "Host notes:", "Service notes:", "Comment by <author>:" + comment, Icinga Web URL

  ``$notification.type$`` is ``Notification::NotificationTypeToStringCompat`` (lib/icinga/
  notification.cpp, same commit): PROBLEM, RECOVERY, ACKNOWLEDGEMENT, FLAPPINGSTART, FLAPPINGEND,
  DOWNTIMESTART, DOWNTIMEEND, DOWNTIMECANCELLED (the DowntimeRemoved filter), CUSTOM. Host states
  are UP/DOWN, service states OK/WARNING/CRITICAL/UNKNOWN (lib/icinga/host.cpp, service.cpp).
- The same scripts at ba5f20224 (Icinga 2.2-2.6, replaced in 2017): body "***** Icinga  *****"
  in the Nagios layout ("Host: $host.display_name$", "Additional Info: <output>", "Comment:
  [author] comment"); subject "$NOTIFICATIONTYPE - $HOSTDISPLAYNAME[ - $SERVICEDISPLAYNAME] is
  $STATE".
- Icinga/icinga-core ``sample-config/template-object/commands.cfg.in`` (Icinga 1.x, read at
  0e0853bcfb65a1f85e0d402100f61d0c505a8af2): Nagios Core's commands with the banner
  "***** Icinga *****" and Nagios's subjects.

The check is the service *object name* (``Service:`` line), the host the host object name
(``Host:`` line), not the display names of the subject; host notifications have the check
``host``. States follow the notification type as for Nagios (``nagios.notification_status``).
"""
from __future__ import annotations

import re

from ..fields import first_value, parse_fields
from ..mime import MessageView
from ..results import Alert
from . import nagios
from .base import NoHostError

__all__ = ["NAME", "detect", "parse"]

NAME = "icinga"

_TYPE_ALT = "|".join(nagios.NOTIFICATION_TYPES)
# Icinga 2: "[PROBLEM] disk on szhxdb01 is CRITICAL!" / "[RECOVERY] Host szqzapp02 is UP!"
_SUBJECT2 = re.compile(
    rf"^\[(?P<type>{_TYPE_ALT})\]\s+(?P<rest>.{{1,900}}?)\s+is\s+(?P<state>[A-Za-z]{{1,15}})!?\s*$", re.I)
# Icinga 2 banner: "***** Service Monitoring on gdrc-icinga01 *****"
_BANNER2 = re.compile(r"^\s*\*{3,}\s*(?P<kind>Host|Service) Monitoring on\b[^\n]{0,260}\*{3,}\s*$", re.M)
# Icinga 1.x and the first Icinga 2 scripts: "***** Icinga *****" / "***** Icinga  *****"
_BANNER1 = re.compile(r"^\s*\*{3,}\s*Icinga\s*\*{3,}\s*$", re.I | re.M)
# Icinga 1.x subject (Nagios's) and the first Icinga 2 scripts' "PROBLEM - host - svc is CRITICAL".
_SUBJECT1 = re.compile(
    r"^\*\*\s*(?P<type>[A-Za-z]{3,20})\s+(?P<kind>Service|Host)\s+Alert:\s*(?P<rest>.{1,900}?)"
    r"\s+is\s+(?P<state>[A-Za-z]{1,15})\s*\*\*\s*$"
    rf"|^(?P<type2>{_TYPE_ALT})\s+-\s+(?P<rest2>.{{1,900}}?)\s+is\s+(?P<state2>[A-Za-z]{{1,15}})\s*$", re.I)
# The host/service block of the Icinga 2 body: "When:" then ["Service:"] then "Host:".
_BLOCK = re.compile(r"(?m)^When:[^\n]{0,200}\n(?:Service:[ \t]*(?P<service>[^\n]{0,300})\n)?"
                    r"Host:[ \t]*(?P<host>[^\n]{0,300})$")
_STATUS_LINE = re.compile(r"(?m)^(?P<what>[^\n]{1,600}?) is (?P<state>[A-Z]{2,15})!\s*$")
_INFO = re.compile(r"(?m)^Info:[ \t]*(?P<info>[^\n]{0,1000})$")


def detect(msg: MessageView) -> bool:
    subject = msg.subject.strip()[: nagios.MAX_SUBJECT]
    if _SUBJECT2.match(subject):
        return True
    head = msg.text[:4000]
    return bool(_BANNER2.search(head) or _BANNER1.search(head))


def _legacy_subject(subject: str) -> dict[str, str]:
    """The Icinga 1.x / first Icinga 2 subject as nagios-style groups (empty when it is neither)."""
    m = _SUBJECT1.match(subject)
    if not m:
        return {}
    if m.group("type"):
        return {"type": m.group("type"), "kind": m.group("kind"), "rest": m.group("rest"),
                "state": m.group("state")}
    # "PROBLEM - host - service is CRITICAL" / "PROBLEM - host is DOWN"
    parts = m.group("rest2").split(" - ", 1)
    return {"type": m.group("type2"), "kind": "service" if len(parts) == 2 else "host",
            "rest": "/".join(p.strip() for p in parts), "state": m.group("state2")}


def parse(msg: MessageView) -> list[Alert]:
    head = msg.text[:4000]
    subject = msg.subject.strip()[: nagios.MAX_SUBJECT]
    banner = _BANNER2.search(head)
    sm = _SUBJECT2.match(subject)
    if not banner and not sm:
        return nagios.read_classic(msg, NAME, _legacy_subject(subject))
    return _read_icinga2(msg, subject, banner, sm)


def _read_icinga2(msg: MessageView, subject: str, banner, sm) -> list[Alert]:
    text = msg.text[: nagios.MAX_TEXT]
    block = _BLOCK.search(text)
    fields = parse_fields(text, max_lines=nagios.MAX_LINES)
    if block:
        host_value, service = block.group("host"), (block.group("service") or "").strip()
    else:
        host_value, service = first_value(fields, "host"), (first_value(fields, "service") or "").strip()
    is_host = not service
    if banner:
        is_host = banner.group("kind") == "Host"
    elif sm:
        is_host = sm.group("rest").lower().startswith("host ") and not service
    if not is_host and not service:
        raise NoHostError("icinga service notification without a Service line")
    host = nagios.host_name(host_value)
    if not host and sm:
        # Only the display name is left: "Host <name>" or "<service> on <host>".
        rest = sm.group("rest")
        m = re.match(r"(?i)Host\s+(\S+)$", rest) if is_host else re.search(r"\son\s+(\S+)$", rest)
        host = nagios.host_name(m.group(1)) if m else None
    if not host:
        raise NoHostError("icinga notification without a Host line")

    ntype = (sm.group("type") if sm else "").upper()
    state = (sm.group("state") if sm else "").upper()
    if not state:
        line = _STATUS_LINE.search(text[banner.end(): banner.end() + 2000] if banner else text[:2000])
        state = line.group("state") if line else ""
    info_m = _INFO.search(text)
    info = (info_m.group("info").strip() if info_m else "") or subject
    details = {}
    for key in ("when", "ipv4", "ipv6"):
        value = first_value(fields, key)
        if value:
            details[key] = value[:200]
    return [nagios.family_alert(NAME, host, None if is_host else service, ntype, state, info, details)]
