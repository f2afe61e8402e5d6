"""Helpers shared by the source modules."""
from __future__ import annotations

import re
from typing import Protocol

from ..mime import MessageView
from ..results import Alert, ParseError
from ..vocab import HOST_TOKEN_RE, make_dedup_key, map_severity, norm, one_line

__all__ = ["Source", "NoHostError", "NotAnAlert", "make_alert", "host_from_value", "dedupe", "hosts_in"]


class Source(Protocol):
    """Shape of a source module: ``NAME``, ``detect(msg)`` and ``parse(msg)``."""

    NAME: str

    def detect(self, msg: MessageView) -> bool: ...

    def parse(self, msg: MessageView) -> list[Alert]: ...


class NoHostError(ParseError):
    """A source recognised the message as an alert but found no host in it."""


class NotAnAlert(Exception):  # noqa: N818 - an outcome, not an error
    """A source recognised its tool's mail that reports nothing monitored (a "test notification"
    a tool sends when its contact is configured, a digest): stored as not an alert, with ``reason``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def make_alert(source: str, host: str, check: str, severity: str | None, status: str,
               category: str, message: str, fields: dict[str, str] | None = None, *,
               identity: str = "", needs_review: str = "", severity_word: str | None = None) -> Alert:
    """Normalise and apply the contract: non-problems are always ``info``, a problem without a
    stated severity is ``warning``. ``identity`` is the tool's own alert identity beyond host and
    check; ``needs_review`` says why an operator should check the reading (empty: sure);
    ``severity_word`` is the tool's level as written, mapped here when ``severity`` is None."""
    check_label = one_line(check, 500)
    host, check = norm(host), norm(check)
    word = one_line(severity_word or "", 40)
    if severity is None and word:
        severity = map_severity(word)
    if status != "problem":
        severity = "info"
    elif not severity:
        severity = "warning"
    clean_fields = {one_line(k, 80): one_line(v, 500) for k, v in list((fields or {}).items())[:60]}
    return Alert(source=source, host=host, check=check, severity=severity, status=status,
                 category=category, dedup_key=make_dedup_key(source, host, check, identity),
                 message=one_line(message, 500), fields=clean_fields, identity=one_line(identity, 2000),
                 needs_review=one_line(needs_review, 300), severity_word=word, check_label=check_label)


def host_from_value(value: str | None) -> str | None:
    """Host named at the start of a field value: ``SZGMAPP01(10.1.14.31)`` -> ``SZGMAPP01``."""
    if not value:
        return None
    m = HOST_TOKEN_RE.search(value.strip())
    if not m or m.start() > 0:
        # Accept plain names without digits too (``monhost``) when they are the whole value.
        m2 = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9_.-]{0,252})(?:\s|\(|（|$)", value)
        return m2.group(1).rstrip(".") if m2 else (m.group(1) if m else None)
    return m.group(1)


def hosts_in(text: str) -> list[str]:
    return [m.group(1) for m in HOST_TOKEN_RE.finditer(text or "")]


def dedupe(alerts: list[Alert]) -> list[Alert]:
    """One alert per (dedup_key, status) within a message, first occurrence kept."""
    seen: set[tuple[str, str]] = set()
    out = []
    for a in alerts:
        key = (a.dedup_key, a.status)
        if key not in seen:
            seen.add(key)
            out.append(a)
    return out
