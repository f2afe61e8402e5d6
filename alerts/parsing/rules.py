"""Admin-editable parsing rules: extraction rules for in-house formats, and corrections that
operators teach the desk.

An **extraction** rule (``mode="extract"``) matches when every given ``match_*`` regex is found (sender, subject, body); its
extraction regexes then fill the named groups ``host``, ``check``, ``severity``, ``status``,
``object``, ``kind`` and ``message``. ``extract_body`` is applied with ``finditer``: each match is
one alert (several objects -> several alerts); ``extract_subject`` fills what body matches leave
empty. Fixed ``source``/``category``/``check_kind`` apply when no group gives them.

A **correction** (``mode="correct"``) adjusts what a built-in source read: when its ``match_*``
regexes all match the message (and ``match_check`` the alert's check, if given), named groups of
its extraction regexes and its fixed ``set_*`` values replace the alert's host, check, severity,
state or category. Operators make them from an incident or a quarantined mail.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from functools import lru_cache

from .mime import MessageView
from .results import Alert
from .sources.base import dedupe, make_alert
from .vocab import (
    KIND_CATEGORY,
    OBJECTLESS_KINDS,
    category_for_kind,
    guess_category,
    make_dedup_key,
    map_severity,
    norm,
    one_line,
    status_from_word,
)

__all__ = ["RULE_FIELDS", "CORRECTABLE", "Rule", "apply_rule", "apply_rules", "apply_corrections",
           "correct_alert", "rule_matches", "validate_rule"]

# What a correction can change, and the values each may take.
CORRECTABLE = ("host", "check", "severity", "status", "category")
_SEVERITIES = ("critical", "major", "minor", "warning", "info")
_STATUSES = ("problem", "recovery", "ack", "none")

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
    mode: str = "extract"  # or "correct"
    match_check: str | None = None
    set_host: str | None = None
    set_check: str | None = None
    set_severity: str | None = None
    set_status: str | None = None
    set_category: str | None = None


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
    if rule.match_check:
        try:
            _compile(rule.match_check)
        except re.error as exc:
            problems.append(f"match_check: {exc}")
    if rule.mode == "correct":
        if not (rule.match_sender or rule.match_subject or rule.match_body):
            problems.append("a correction needs match_sender, match_subject or match_body (it must not touch every mail)")
        if not (rule.extract_subject or rule.extract_body or any(getattr(rule, f"set_{f}") for f in CORRECTABLE)):
            problems.append("a correction needs a value to set or a regex to extract it")
        if rule.set_severity and rule.set_severity not in _SEVERITIES:
            problems.append(f"set_severity: unknown {rule.set_severity!r}")
        if rule.set_status and rule.set_status not in _STATUSES:
            problems.append(f"set_status: unknown {rule.set_status!r}")
        if rule.set_category and rule.set_category not in set(KIND_CATEGORY.values()) | {"other"}:
            problems.append(f"set_category: unknown {rule.set_category!r}")
    elif rule.mode != "extract":
        problems.append(f"mode: unknown {rule.mode!r}")
    elif not (rule.extract_subject or rule.extract_body):
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


def rule_matches(rule: Rule, msg: MessageView, errors: list[str]) -> bool:
    """Whether every ``match_*`` regex of ``rule`` is found in ``msg``."""
    return all(_search(pattern, text, rule, errors) is not None
               for pattern, text in ((rule.match_sender, msg.sender), (rule.match_subject, msg.subject),
                                     (rule.match_body, msg.text)))


def apply_rule(rule: Rule, msg: MessageView, errors: list[str]) -> list[Alert]:
    """Alerts produced by extraction ``rule`` for ``msg`` (empty when it does not match or yields
    no host)."""
    body = msg.text
    if rule.mode != "extract" or not rule_matches(rule, msg, errors):
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
    fixed = {name: getattr(rule, f"set_{name}") for name in CORRECTABLE if getattr(rule, f"set_{name}")}
    for groups in body_matches:
        values = {**fixed, **subject_groups, **groups}
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
        category = rule.set_category or rule.category or (category_for_kind(kind) if kind in KIND_CATEGORY else None) \
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


def correct_alert(rule: Rule, msg: MessageView, alert: Alert, errors: list[str]) -> Alert:
    """``alert`` as correction ``rule`` says it should have been read (unchanged when the rule
    does not apply to it)."""
    if rule.match_check and _search(rule.match_check, alert.check, rule, errors) is None:
        return alert
    values: dict[str, str] = {}
    if rule.extract_subject:
        m = _search(rule.extract_subject, msg.subject, rule, errors)
        values.update(_groups(m) if m not in (None, True) else {})
    if rule.extract_body:
        m = _search(rule.extract_body, msg.text, rule, errors)
        values.update({k: v for k, v in (_groups(m) if m not in (None, True) else {}).items() if k not in values})
    for name in CORRECTABLE:
        fixed = getattr(rule, f"set_{name}")
        if fixed:
            values[name] = fixed
    host = norm(values.get("host") or alert.host)
    check = norm(values.get("check") or alert.check)
    status = alert.status
    if values.get("status"):
        raw = values["status"].strip().lower()
        status = raw if raw in _STATUSES else (status_from_word(values["status"]) or status)
    severity = alert.severity
    if values.get("severity"):
        raw = values["severity"].strip().lower()
        severity = raw if raw in _SEVERITIES else (map_severity(values["severity"]) or severity)
    if status == "problem" and alert.status != "problem" and severity == "info" and not values.get("severity"):
        severity = "warning"
    if status != "problem":
        severity = "info"
    category = values.get("category") or alert.category
    if category not in set(KIND_CATEGORY.values()) | {"other"}:
        category = alert.category
    changed = (host, check, severity, status, category) != (alert.host, alert.check, alert.severity, alert.status,
                                                           alert.category)
    if not changed:
        return alert
    # A state an operator taught is no longer in doubt.
    review = "" if values.get("status") else alert.needs_review
    label = one_line(values["check"], 500) if values.get("check") and check != alert.check else alert.check_label
    return replace(alert, host=host, check=check, check_label=label, severity=severity, status=status, category=category,
                   dedup_key=make_dedup_key(alert.source, host, check, alert.identity), needs_review=review,
                   fields={**alert.fields, "corrected_by": rule.name})


def apply_corrections(rules: Sequence[Rule], msg: MessageView, alerts: list[Alert]) -> list[Alert]:
    """``alerts`` after every matching correction, in priority order (a later one sees the
    earlier one's result)."""
    errors: list[str] = []
    ordered = [r for _, r in sorted(enumerate(rules), key=lambda ir: (ir[1].priority, ir[0]))
               if r.mode == "correct"]
    for rule in ordered:
        if rule_matches(rule, msg, errors):
            alerts = [correct_alert(rule, msg, a, errors) for a in alerts]
    return alerts
