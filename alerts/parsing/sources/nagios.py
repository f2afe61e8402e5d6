"""Nagios Core notification mail (``notify-host-by-email`` / ``notify-service-by-email``).

Template followed (take as fact, code our own):

- NagiosEnterprises/nagioscore ``sample-config/template-object/commands.cfg.in`` (read at
  8d1d276bea4722b0a1a06ed341926339c43396ac and 0180e130792b530d99be48322562fc089aa2251b)::

    host:    subject "** $NOTIFICATIONTYPE$ Host Alert: $HOSTNAME$ is $HOSTSTATE$ **"
             body    "***** Nagios *****", "Notification Type:", "Host: $HOSTNAME$", "State:",
                     "Address:", "Info: $HOSTOUTPUT$", "Date/Time: $LONGDATETIME$"
    service: subject "** $NOTIFICATIONTYPE$ Service Alert: $HOSTALIAS$/$SERVICEDESC$ is $SERVICESTATE$ **"
             body    "***** Nagios *****", "Notification Type:", "Service: $SERVICEDESC$",
                     "Host: $HOSTALIAS$", "Address:", "State:", "Date/Time:", "Additional Info:",
                     blank line, "$SERVICEOUTPUT$"

- ``$NOTIFICATIONTYPE$`` values from ``base/notifications.c`` (same commit): PROBLEM, RECOVERY,
  ACKNOWLEDGEMENT, FLAPPINGSTART, FLAPPINGSTOP, FLAPPINGDISABLED, DOWNTIMESTART, DOWNTIMEEND,
  DOWNTIMECANCELLED, CUSTOM.

The notification type decides the state (``notification_status``): PROBLEM is a problem, RECOVERY
a recovery, ACKNOWLEDGEMENT an ack, FLAPPING*/DOWNTIME* notices (``none``); CUSTOM is a notice
unless its state is a problem state (then it is that problem, re-announced). The level is the
state word: DOWN critical, UNREACHABLE major, CRITICAL critical, WARNING warning, UNKNOWN minor.
Host notifications have the check ``host`` and the category ``network``.

The helpers here (``notification_status``, ``family_alert``, ``read_classic``) are shared with the
Icinga and Centreon readers, whose tools descend from Nagios and use the same macros.
"""
from __future__ import annotations

import re

from ..fields import Field, first_value, parse_fields
from ..mime import MessageView
from ..results import Alert
from ..state import UNSURE_STATE, read_state
from ..vocab import guess_category
from .base import NoHostError, host_from_value, make_alert

__all__ = ["NAME", "detect", "parse", "notification_status", "family_alert", "read_classic",
           "host_name", "NOTIFICATION_TYPES"]

NAME = "nagios"

# Nagios, Icinga 1.x, Centreon Engine and Icinga 2 (compat names, and its filter names).
NOTIFICATION_TYPES = (
    "PROBLEM", "RECOVERY", "ACKNOWLEDGEMENT", "FLAPPINGSTART", "FLAPPINGSTOP", "FLAPPINGEND",
    "FLAPPINGDISABLED", "DOWNTIMESTART", "DOWNTIMEEND", "DOWNTIMECANCELLED", "DOWNTIMEREMOVED",
    "CUSTOM")
_PROBLEM_STATES = {"DOWN", "UNREACHABLE", "CRITICAL", "WARNING", "UNKNOWN"}
_OK_STATES = {"OK", "UP"}

MAX_TEXT = 20000
MAX_SUBJECT = 1000
MAX_LINES = 200

# "** PROBLEM Service Alert: host/service is CRITICAL **" / "** RECOVERY Host Alert: host is UP **"
_SUBJECT = re.compile(
    r"^\*\*\s*(?P<type>[A-Za-z]{3,20})\s+(?P<kind>Service|Host)\s+Alert:\s*(?P<rest>.{1,900}?)"
    r"\s+is\s+(?P<state>[A-Za-z]{1,15})\s*\*\*\s*$", re.I)
_BANNER = re.compile(r"^\s*\*{3,}\s*Nagios\b[^\n]{0,40}\*{3,}\s*$", re.I | re.M)
_ADDITIONAL = re.compile(r"(?im)^[ \t]*Additional Info[ \t]*:[ \t]*\n(?:[ \t]*\n){0,3}[ \t]*(\S[^\n]{0,1000})")


def _word(value: str | None) -> str:
    """First word of a field value, upper-cased (``CRITICAL`` of ``CRITICAL (soft)``)."""
    parts = (value or "").strip().split()
    return parts[0].strip("!*.,;:[]()").upper()[:30] if parts else ""


def host_name(value: str | None) -> str | None:
    """The host a ``Host:`` value names when it is one name (``szhxdb01``, ``SZHXDB01 (192.0.2.21)``);
    None for a descriptive alias (``Core banking DB 01``): a word of it is no host."""
    value = re.sub(r"\s*[(（][^)）]{0,100}[)）]\s*$", "", (value or "").strip()[:300])
    if not value or re.search(r"\s", value):
        return None
    return host_from_value(value)


def notification_status(ntype: str, state: str) -> tuple[str, str]:
    """(status, needs_review) for a Nagios-family notification type and the state it carries."""
    t = ntype.upper().replace("_", "")
    if t == "PROBLEM":
        if state in _OK_STATES:
            return "problem", "a PROBLEM notification whose state is " + state
        return "problem", ""
    if t == "RECOVERY":
        return "recovery", ""
    if t.startswith("ACKNOWLEDGE"):
        return "ack", ""
    if t.startswith(("FLAPPING", "DOWNTIME")):
        return "none", ""
    if t == "CUSTOM":
        # A custom notification re-announces the current state: a problem state is that
        # problem (it folds into the open incident); otherwise it is a notice.
        return ("problem", "") if state in _PROBLEM_STATES else ("none", "")
    # No (or an unknown) notification type: the general rules on the state word.
    reading = read_state(state)
    if reading.status == "recovery" and reading.sure:
        return "recovery", ""
    if reading.status == "problem":
        return "problem", "" if reading.sure else UNSURE_STATE
    return reading.status, ""


def family_alert(source: str, host: str, service: str | None, ntype: str, state: str, info: str,
                 details: dict[str, str]) -> Alert:
    """One alert of a Nagios-family notification (``service`` None or empty: a host notification)."""
    status, review = notification_status(ntype, state)
    if service:
        check, category = service, guess_category(service, info)
    else:
        check, category = "host", "network"
    fields = {"notification_type": ntype, "state": state}
    fields.update({k: v for k, v in details.items() if v})
    return make_alert(source, host, check, None, status, category, info or f"{check} is {state}",
                      fields, needs_review=review, severity_word=state if status == "problem" else "")


def _details(fields: list[Field], *keys: str) -> dict[str, str]:
    out = {}
    for key in keys:
        value = first_value(fields, key)
        if value:
            out[key] = value[:200]
    return out


def read_classic(msg: MessageView, source: str, subject_groups: dict[str, str] | None = None) -> list[Alert]:
    """A mail in the Nagios body layout (``Notification Type:``, ``Service:``, ``Host:``,
    ``State:``, ``Info:`` / ``Additional Info:``), as Nagios Core, Icinga 1.x and the first Icinga 2
    scripts send it. ``subject_groups`` (``type``, ``kind``, ``rest``, ``state``) is the tool's
    subject as read by its module (default: Nagios's subject), a fallback for what the body lacks."""
    text = msg.text[:MAX_TEXT]
    fields = parse_fields(text, max_lines=MAX_LINES)
    subject = msg.subject.strip()[:MAX_SUBJECT]
    if subject_groups is None:
        sm = _SUBJECT.match(subject)
        subject_groups = sm.groupdict() if sm else {}
    groups = subject_groups

    ntype = _word(first_value(fields, "notification type") or groups.get("type"))
    service = (first_value(fields, "service") or "").strip()[:300]
    host = host_name(first_value(fields, "host"))
    kind = (groups.get("kind") or "").lower()
    is_host = not service and kind != "service"
    rest = (groups.get("rest") or "").strip()
    if not host and rest:
        if is_host:
            host = host_name(re.sub(r"^Host\s+", "", rest, flags=re.I))
        elif service and rest.endswith("/" + service):
            host = host_name(rest[: -len(service) - 1])
        elif "/" in rest:
            host = host_name(rest.split("/", 1)[0])
    if not service and not is_host and "/" in rest:
        service = rest.split("/", 1)[1].strip()
    if not host:
        raise NoHostError(f"{source} notification without a Host line")
    if not is_host and not service:
        raise NoHostError(f"{source} service notification without a Service line")

    state = _word(first_value(fields, "state") or groups.get("state"))
    m = _ADDITIONAL.search(text)
    info = ((m.group(1) if m else None) or first_value(fields, "info", "additional info")
            or subject).strip()
    details = _details(fields, "address", "date/time", "comment")
    return [family_alert(source, host, service or None, ntype, state, info, details)]


def detect(msg: MessageView) -> bool:
    subject = msg.subject.strip()[:MAX_SUBJECT]
    if _SUBJECT.match(subject):
        return True
    head = msg.text[:4000]
    return bool(_BANNER.search(head)) and bool(re.search(r"(?mi)^\s*Host\s*:", head))


def parse(msg: MessageView) -> list[Alert]:
    return read_classic(msg, NAME)
