"""``parse_message``: raw bytes -> ParseResult. Order: decode, non-alert detection, forward
unwrapping, admin rules, the bound tool (when the mailbox or sender is bound to one) or else the
built-in sources (registry order), else "no monitored state"; then the corrections operators
taught and the source's priority table."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Sequence

from . import sources
from .binding import Binding, choose_binding, remap_severity
from .dates import parse_date
from .forward import unwrap
from .mime import DEFAULT_CHARSET, MessageView, clean_line, parse_bytes, split_header_block
from .results import NON_ALERT_SOURCE, Alert, ParseError, ParseResult
from .rules import Rule, apply_corrections, apply_rules
from .sources import nonalert
from .sources.base import NoHostError, NotAnAlert

__all__ = ["parse_message", "fingerprint", "TRACE_HEADERS"]

# Headers a relay or the delivery agent adds: a redelivery differs only in these.
TRACE_HEADERS = ("received", "return-path", "delivered-to", "x-original-to")


_TRACE_RE = re.compile(
    rb"(?im)^(?:%s)[ \t]*:[^\n]*(?:\n[ \t][^\n]*)*(?:\n|\Z)" % b"|".join(h.encode() for h in TRACE_HEADERS))


def fingerprint(raw: bytes) -> str:
    """sha256 hex of ``raw`` without its trace header fields (Received, Return-Path,
    Delivered-To, X-Original-To, including their folded continuation lines): a second delivery
    of the same message gets the same fingerprint."""
    head, body = split_header_block(bytes(raw))
    digest = hashlib.sha256()
    digest.update(_TRACE_RE.sub(b"", head))
    digest.update(body)
    return digest.hexdigest()


def _message_id(view: MessageView) -> str | None:
    value = clean_line(view.header("message-id") or "")
    return value[:300] or None


def _result(view: MessageView, fp: str, alerts: list[Alert], reason: str = "",
            source: str | None = None) -> ParseResult:
    is_alert = bool(alerts)
    return ParseResult(
        is_alert=is_alert,
        source=(source or alerts[0].source) if is_alert else NON_ALERT_SOURCE,
        alerts=list(alerts),
        subject=view.subject,
        sender=view.sender,
        message_id=_message_id(view),
        sent_at=parse_date(view.header("date")),
        text=view.text,
        html_present=view.html_present,
        attachments=list(view.attachments),
        fingerprint=fp,
        errors=list(view.errors),
        reason="" if is_alert else (reason or "no monitored state"),
    )


def _failure(view: MessageView, fp: str, source: str, message: str) -> ParseError:
    partial = ParseResult(
        is_alert=True, source=source, alerts=[], subject=view.subject, sender=view.sender,
        message_id=_message_id(view), sent_at=parse_date(view.header("date")), text=view.text,
        html_present=view.html_present, attachments=list(view.attachments), fingerprint=fp,
        errors=list(view.errors) + [message], reason="")
    return ParseError(message, partial)


def parse_message(raw: bytes, *, rules: Sequence[Rule] = (), hosts: Collection[str] = (),
                  bindings: Sequence[Binding] = (), mailbox: str = "") -> ParseResult:
    """Parse one raw RFC 5322 message.

    ``rules`` are admin rules: extraction rules are tried (by priority) before the built-in
    sources, corrections adjust what a source read. ``hosts`` is an optional host catalogue, used
    only where a format names its host inside free text (Zabbix "Updated problem" mails).
    ``bindings`` declare a mailbox (``mailbox`` names the one this message came from) or a sender
    as a given tool, with its charset and priority table. Raises ``ParseError`` (and nothing else)
    when the message is an alert whose host cannot be found, when a bound tool cannot read it, or
    when the input is not bytes.
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise ParseError(f"raw message must be bytes, not {type(raw).__name__}")
    raw = bytes(raw)
    binding = choose_binding(bindings, mailbox, raw)
    token = DEFAULT_CHARSET.set(binding.charset or None if binding else None)
    try:
        return _parse(raw, rules, frozenset(h.strip().lower() for h in hosts if h and h.strip()), binding)
    except ParseError:
        raise
    except RecursionError as exc:
        raise ParseError("message too deeply nested to parse") from exc
    except Exception as exc:  # a parser bug must not take the ingest loop down
        raise ParseError(f"internal parser error: {type(exc).__name__}: {clean_line(str(exc))[:200]}") from exc
    finally:
        DEFAULT_CHARSET.reset(token)


def _parse(raw: bytes, rules: Sequence[Rule], hosts: frozenset[str], binding: Binding | None) -> ParseResult:
    fp = fingerprint(raw)
    view = parse_bytes(raw)
    view.known_hosts = hosts
    why = nonalert.reason(view)
    if why:
        return _result(view, fp, [], why)
    target, _ = unwrap(view)
    if target is not view:
        why = nonalert.reason(target) if target.headers else nonalert.subject_reason(target.subject)
        if why:
            return _result(view, fp, [], why)
    errors = view.errors
    alerts = apply_rules(rules, target, errors) if rules else []
    if not alerts:
        try:
            alerts = _read(view, target, fp, binding)
        except NotAnAlert as exc:
            return _result(view, fp, [], exc.reason)
    if not alerts:
        return _result(view, fp, [], "no monitored state")
    if rules:
        alerts = apply_corrections(rules, target, alerts)
    if binding is not None and binding.priorities:
        alerts = [remap_severity(a, dict(binding.priorities)) for a in alerts]
    return _result(view, fp, alerts)


def _read(view: MessageView, target: MessageView, fp: str, binding: Binding | None) -> list[Alert]:
    """Alerts of the bound tool, or of the first built-in source that recognises the mail."""
    bound = sources.get(binding.tool) if binding is not None and binding.tool else None
    candidates = [bound] if bound is not None else sources.REGISTRY
    for source in candidates:
        try:
            if bound is None and not source.detect(target):
                continue
            alerts = source.parse(target)
        except NoHostError as exc:
            raise _failure(view, fp, source.NAME, str(exc)) from None
        if alerts:
            return alerts
    if bound is not None:
        # Bound so that the desk does not guess: mail the tool's reader cannot read is quarantined.
        raise _failure(view, fp, bound.NAME, f"the mailbox or sender is bound to {bound.NAME}, "
                       f"but this message does not read as {bound.NAME} mail")
    return []
