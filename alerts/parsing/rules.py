"""Admin-editable parsing rules for in-house formats.

A ``Rule`` matches when every given ``match_*`` regex is found (sender, subject, body); its
extraction regexes then fill the named groups ``host``, ``check``, ``severity``, ``status``,
``object``, ``kind`` and ``message``. ``extract_body`` is applied with ``finditer``: each match is
one alert (several objects -> several alerts); ``extract_subject`` fills what body matches leave
empty. Fixed ``source``/``category``/``check_kind`` apply when no group gives them.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import lru_cache

from .mime import MessageView
from .results import Alert
from .sources.base import dedupe, make_alert
from .vocab import (
    KIND_CATEGORY,
    OBJECTLESS_KINDS,
    category_for_kind,
    guess_category,
    map_severity,
    status_from_word,
)

__all__ = ["RULE_FIELDS", "Rule", "apply_rule", "apply_rules", "validate_rule"]

_GROUPS = ("host", "check", "severity", "status", "object", "kind", "message")
_MAX_RULE_ALERTS = 50


@dataclass(frozen=True)
class Rule:
    """One admin rule. Regexes use Python ``re`` syntax (case-insensitive, multi-line)."""

    name: str
    priority: int = 100
    match_sender: str | None = None
    match_subject: str | None = None
    match_body: str | None = None
    extract_subject: str | None = None
    extract_body: str | None = None
    source: str = "script"
    category: str | None = None
    check_kind: str | None = None


# Field names of Rule, in order: what a ParsingRule model's to_rule() has to provide.
RULE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Rule))


@lru_cache(maxsize=512)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I | re.M)


def validate_rule(rule: Rule) -> list[str]:
    """Problems with a rule (bad regexes, unknown category); empty when fine. For model clean()."""
    problems = []
    for attr in ("match_sender", "match_subject", "match_body", "extract_subject", "extract_body"):
        pattern = getattr(rule, attr)
        if pattern:
            try:
                _compile(pattern)
            except re.error as exc:
                problems.append(f"{attr}: {exc}")
    if not (rule.extract_subject or rule.extract_body):
        problems.append("a rule needs extract_subject or extract_body")
    if rule.category and rule.category not in set(KIND_CATEGORY.values()) | {"other"}:
        problems.append(f"category: unknown {rule.category!r}")
    return problems


def _search(pattern: str | None, text: str, rule: Rule, errors: list[str]) -> re.Match[str] | None | bool:
    """Match object, True when no pattern is given, None when it does not match."""
    if not pattern:
        return True
    try:
        return _compile(pattern).search(text)
    except re.error as exc:
        errors.append(f"rule {rule.name}: invalid regex ({exc})")
        return None


def _groups(m: re.Match[str] | None) -> dict[str, str]:
    if not m:
        return {}
    return {k: v.strip() for k, v in m.groupdict().items() if k in _GROUPS and v and v.strip()}


def apply_rule(rule: Rule, msg: MessageView, errors: list[str]) -> list[Alert]:
    """Alerts produced by ``rule`` for ``msg`` (empty when it does not match or yields no host)."""
    body = msg.text
    for pattern, text in ((rule.match_sender, msg.sender), (rule.match_subject, msg.subject),
                          (rule.match_body, body)):
        if _search(pattern, text, rule, errors) is None:
            return []
    subject_groups: dict[str, str] = {}
    if rule.extract_subject:
        m = _search(rule.extract_subject, msg.subject, rule, errors)
        subject_groups = _groups(m) if m is not True else {}
    body_matches: list[dict[str, str]] = []
    if rule.extract_body:
        try:
            for m in _compile(rule.extract_body).finditer(body):
                body_matches.append(_groups(m))
                if len(body_matches) >= _MAX_RULE_ALERTS:
                    break
        except re.error as exc:
            errors.append(f"rule {rule.name}: invalid regex ({exc})")
            return []
    if not body_matches:
        body_matches = [{}]
    alerts = []
    for groups in body_matches:
        values = {**subject_groups, **groups}
        host = values.get("host")
        if not host:
            continue
        kind = (values.get("kind") or rule.check_kind or "").strip().lower() or None
        obj = values.get("object")
        check = values.get("check")
        if not check:
            if kind and obj and kind not in OBJECTLESS_KINDS:
                check = f"{kind}:{obj.lower()}"
            else:
                check = kind or obj or ""
        if not check:
            continue
        status = status_from_word(values.get("status")) or status_from_word(values.get("severity"))
        if not status:
            raw_status = (values.get("status") or "").strip().lower()
            status = raw_status if raw_status in ("problem", "recovery", "ack", "none") else "problem"
        severity = map_severity(values.get("severity"))
        category = rule.category or (category_for_kind(kind) if kind in KIND_CATEGORY else None) \
            or guess_category(check)
        message = values.get("message") or msg.subject
        fields = {"rule": rule.name, **values}
        alerts.append(make_alert(rule.source or "script", host, check, severity, status, category,
                                 message, fields))
    if not alerts and (subject_groups or any(body_matches)):
        errors.append(f"rule {rule.name} matched but extracted no host/check")
    return dedupe(alerts)


def apply_rules(rules: Sequence[Rule], msg: MessageView, errors: list[str]) -> list[Alert]:
    """Alerts from the first rule (by priority, then given order) that produces any."""
    ordered = sorted(enumerate(rules), key=lambda ir: (ir[1].priority, ir[0]))
    for _, rule in ordered:
        alerts = apply_rule(rule, msg, errors)
        if alerts:
            return alerts
    return []
