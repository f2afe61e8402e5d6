"""Alert e-mail parser: one raw RFC 5322 message (bytes) -> zero, one or several normalised
alerts. Pure Python (stdlib only), no Django; see ``parse_message``.

    from alerts.parsing import parse_message, Rule, ParseError
    result = parse_message(raw_bytes, rules=[...])
    for alert in result.alerts: ...
"""
from __future__ import annotations

from .dates import format_utc, parse_date
from .parser import TRACE_HEADERS, fingerprint, parse_message
from .results import (
    CATEGORIES,
    SEVERITIES,
    SOURCES,
    STATUSES,
    Alert,
    Attachment,
    ParseError,
    ParseResult,
)
from .rules import Rule, validate_rule
from .sources import REGISTRY, register
from .vocab import guess_category, make_dedup_key, map_severity, norm

__all__ = [
    "Alert",
    "Attachment",
    "CATEGORIES",
    "ParseError",
    "ParseResult",
    "REGISTRY",
    "Rule",
    "SEVERITIES",
    "SOURCES",
    "STATUSES",
    "TRACE_HEADERS",
    "fingerprint",
    "format_utc",
    "guess_category",
    "make_dedup_key",
    "map_severity",
    "norm",
    "parse_date",
    "parse_message",
    "register",
    "validate_rule",
]
