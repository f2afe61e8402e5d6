"""Sources an administrator binds to a tool: a mailbox or a sender declared as, say, Zabbix, with
the charset its undeclared mail is in and its own priority table, so the desk does not guess."""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from .mime import split_header_block
from .results import Alert
from .vocab import map_severity

__all__ = ["Binding", "choose_binding", "remap_severity"]


@dataclass(frozen=True)
class Binding:
    """``mailbox`` (a key the service gives each mailbox, e.g. ``folder:3``) and ``sender`` (a
    shell pattern on the address, ``*@zabbix.bank.example``) must both match when given.
    ``priorities`` is a tuple of (code, severity) pairs that override ``PRIORITY_TABLE``."""

    name: str
    tool: str = ""
    mailbox: str = ""
    sender: str = ""
    charset: str = ""
    priorities: tuple[tuple[str, str], ...] = ()


_FROM_RE = re.compile(rb"(?im)^from[ \t]*:(?P<v>[^\n]*(?:\n[ \t][^\n]*)*)")
_ADDRESS_RE = re.compile(r"<([^<>\s]+@[^<>\s]+)>|([^\s<>\"']+@[^\s<>\"']+)")


def _sender_address(raw: bytes) -> str:
    head, _ = split_header_block(raw[:256 * 1024])
    m = _FROM_RE.search(head)
    if not m:
        return ""
    value = m.group("v").decode("latin-1")
    a = _ADDRESS_RE.search(value)
    return (a.group(1) or a.group(2)).strip().lower() if a else ""


def choose_binding(bindings: Sequence[Binding], mailbox: str, raw: bytes) -> Binding | None:
    """The first binding whose mailbox and sender both match, or None."""
    if not bindings:
        return None
    sender = None
    for binding in bindings:
        if binding.mailbox and binding.mailbox != mailbox:
            continue
        if binding.sender:
            if sender is None:
                sender = _sender_address(raw)
            if not fnmatch.fnmatchcase(sender, binding.sender.strip().lower()):
                continue
        if binding.mailbox or binding.sender:
            return binding
    return None


def remap_severity(alert: Alert, table: Mapping[str, str]) -> Alert:
    """``alert`` with its severity read again through the source's own priority table."""
    if alert.status != "problem" or not alert.severity_word:
        return alert
    severity = map_severity(alert.severity_word, table)
    return replace(alert, severity=severity) if severity and severity != alert.severity else alert
