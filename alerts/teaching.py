"""Operators teach the desk: a misread incident or a quarantined mail is corrected by hand, the desk
proposes a rule from the correction, shows on the last mails what the rule would change (the rule
tester), and applies it on confirmation with an audit entry.

A correction of a mail a tool's reader understood becomes a *correction* rule (it adjusts that
reader's output for mail like this one); a mail nobody could read becomes an *extraction* rule.
Where the corrected host is written in the subject or the body, the rule extracts it from there
(the next mail from the same script names another host); every other corrected value is fixed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.choices import Outcome
from alerts.handlers import incident_event_row
from alerts.models import Incident, IngestedMessage, ParsingRule, RuleChange, RuleMode
from alerts.parsing import Alert as ParsedAlert
from alerts.parsing import ParseError, ParseResult, Rule, parse_message, validate_rule
from alerts.parsing.mime import parse_bytes
from alerts.parsing.rules import CORRECTABLE
from alerts.services import known_hosts, load_bindings, load_rules, message_reprocess
from opsdesk import scoping
from workflow.events import Transitioned
from workflow.incidents import may_act_on_incidents

__all__ = ["may_teach", "rule_values", "record_rule_change", "Lesson", "lesson_for", "propose_rule", "TesterResult", "try_rule", "rule_apply",
           "Reading", "RuleTrial", "rule_trial", "RULE_FORM_FIELDS", "TESTER_DEFAULT_MESSAGES"]

TESTER_DEFAULT_MESSAGES = 200
# The fields of a proposed rule the confirmation form carries.
RULE_FORM_FIELDS = ("name", "mode", "source", "match_sender", "match_subject", "match_body", "match_check",
                    "extract_subject", "extract_body", "set_host", "set_check", "set_severity", "set_status",
                    "set_category")


RULE_AUDITED = ("name", "priority", "enabled", "mode", "match_sender", "match_subject", "match_body", "match_check",
                "extract_subject", "extract_body", "source", "category", "check_kind", "set_host", "set_check",
                "set_severity", "set_status", "set_category")


def rule_values(rule: ParsingRule) -> dict:
    """A stored rule's settings, as its audit entries record them."""
    return {f: getattr(rule, f) for f in RULE_AUDITED if getattr(rule, f) not in ("", None)}


def record_rule_change(*, actor, rule: ParsingRule, action: str, before: dict | None = None, **extra) -> None:
    """The audit entry of a rule created, changed or deleted (the admin and the teaching page)."""
    after = {} if action == "deleted" else rule_values(rule)
    if action == "changed" and before == after:
        return
    RuleChange.objects.create(rule=None if action == "deleted" else rule, rule_name=rule.name, actor=actor,
                              action=action, before=before or {}, after=after, **extra)


def may_teach(user) -> bool:
    """Those who work the board (operators, leads) and administrators."""
    return user is not None and may_act_on_incidents(user)


@dataclass
class Lesson:
    """What is being corrected: the stored mail, how it reads today, and the incident it fed."""

    message: IngestedMessage
    reading: list[ParsedAlert]
    error: str = ""
    incident: Incident | None = None

    @property
    def first(self) -> ParsedAlert | None:
        if self.incident is not None:
            return next((a for a in self.reading if a.dedup_key == self.incident.dedup_key), None) or \
                (self.reading[0] if self.reading else None)
        return self.reading[0] if self.reading else None


def _read(message: IngestedMessage, rules=None) -> tuple[list[ParsedAlert], str]:
    mailbox = f"folder:{message.folder_id}" if message.folder_id else message.origin
    try:
        result = parse_message(bytes(message.raw), rules=load_rules() if rules is None else rules,
                               hosts=known_hosts(), bindings=load_bindings(), mailbox=mailbox)
    except ParseError as exc:
        return [], str(exc)
    return list(result.alerts), "" if result.is_alert else result.reason


def lesson_for(*, user, message_pk: int | None = None, incident_pk: int | None = None) -> Lesson:
    """The mail an operator corrects, found through what they may see; PermissionDenied otherwise."""
    if not may_teach(user):
        raise PermissionDenied
    incident = None
    if incident_pk is not None:
        incident = scoping.restrict(user, Incident.objects.filter(pk=incident_pk)).first()
        if incident is None:
            raise PermissionDenied
        latest = incident.alerts.filter(message__isnull=False, message__origin__in=("imap", "maildir", "upload")) \
            .order_by("-occurred_at", "-pk").select_related("message").first()
        if latest is None:
            raise ValidationError(_("This incident came from a webhook: there is no mail to correct."))
        message = latest.message
    else:
        message = IngestedMessage.objects.filter(pk=message_pk).first()
        # The mail nobody could read (quarantined, or taken for no alert) is the operators' work list.
        visible = message is not None and (user.is_administrator
                                           or message.outcome in (Outcome.QUARANTINED, Outcome.NOT_ALERT)
                                           or scoping.restrict(user, message.alerts.all()).exists())
        if not visible:
            raise PermissionDenied
    if message.raw_truncated:
        raise ValidationError(_("The stored copy of this mail is truncated; it cannot be read again."))
    reading, error = _read(message)
    return Lesson(message=message, reading=reading, error=error, incident=incident)


def _generalise(text: str) -> str:
    """A regex for lines like ``text``: literal words, any digits (times, counts, IDs) varying."""
    out = []
    for part in re.split(r"(\d+)", text.strip()[:200]):
        out.append(r"\d+" if part.isdigit() else re.escape(part))
    return "^" + "".join(out).replace(r"\ ", r"\s+")


def _where(value: str, subject: str, body: str) -> tuple[str, str] | None:
    """("subject"|"body", regex with a ``host`` group) locating ``value`` in the mail, or None."""
    needle = re.compile(rf"(?<![\w.-]){re.escape(value)}(?![\w-])", re.I)
    m = needle.search(subject)
    if m:
        before = subject[:m.start()]
        label = re.escape(before[-20:]) if before.strip() else "^"
        return "subject", rf"{label}(?P<host>[\w.-]+)"
    for line in body.split("\n")[:400]:
        m = needle.search(line)
        if m and line[:m.start()].strip():
            label = line[:m.start()].strip()[-30:]
            return "body", rf"{re.escape(label)}\s*(?P<host>[\w.-]+)"
    return None


def propose_rule(lesson: Lesson, correction: dict[str, str]) -> Rule:
    """A rule that reads mail like the lesson's as the operator corrected it. ``correction`` maps
    host/check/severity/status/category to the right value (missing or empty: unchanged)."""
    view = parse_bytes(bytes(lesson.message.raw))
    current = lesson.first
    wanted = {k: (correction.get(k) or "").strip() for k in CORRECTABLE}
    if current is not None:
        wanted = {k: v for k, v in wanted.items() if v and v.lower() != str(getattr(current, k)).lower()}
    else:
        wanted = {k: v for k, v in wanted.items() if v}
    if current is None and not (wanted.get("host") and wanted.get("check")):
        raise ValidationError(_("This mail was not read as an alert: give at least its host and check."))
    if not wanted:
        raise ValidationError(_("Nothing was corrected: change at least one value."))
    sender = view.sender_address
    fields: dict = {
        "name": "",
        "mode": "correct" if current is not None else "extract",
        "source": current.source if current is not None else "script",
        "match_sender": f"(?i){re.escape(sender)}" if sender else None,
        "match_subject": _generalise(view.subject) if view.subject.strip() else None,
    }
    if not (fields["match_sender"] or fields["match_subject"]):
        fields["match_body"] = _generalise(view.text.strip().split("\n", 1)[0]) if view.text.strip() else None
    if current is not None and len(lesson.reading) > 1:
        # A mail of several alerts: correct only the one the operator looked at.
        fields["match_check"] = f"^{re.escape(current.check)}$"
    host = wanted.pop("host", "")
    if host:
        found = _where(host, view.subject, view.text)
        if found is None:
            fields["set_host"] = host.lower()
        else:
            fields["extract_subject" if found[0] == "subject" else "extract_body"] = found[1]
    for name, value in wanted.items():
        fields[f"set_{name}"] = value.lower() if name in ("host", "check") else value
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    fields["name"] = f"taught-{lesson.message.pk}-{stamp}"
    rule = Rule(**{k: v for k, v in fields.items() if v is not None})
    problems = validate_rule(rule)
    if problems:
        raise ValidationError("; ".join(problems))
    return rule


@dataclass
class TesterRow:
    message_pk: int
    subject: str
    before: list[tuple]
    after: list[tuple]


@dataclass
class TesterResult:
    tested: int = 0
    changed: list[TesterRow] = field(default_factory=list)

    def summary(self) -> dict:
        return {"tested": self.tested, "changed": len(self.changed),
                "messages": [r.message_pk for r in self.changed[:50]]}


def _shape(alerts: list[ParsedAlert]) -> list[tuple]:
    return [(a.host, a.check, a.severity, a.status, a.category) for a in alerts]


def try_rule(rule: Rule, *, last: int = TESTER_DEFAULT_MESSAGES) -> TesterResult:
    """What ``rule`` would change on the last ``last`` stored mails (duplicates and webhook bodies
    left out): each changed mail with its reading before and after."""
    rules = load_rules()
    with_rule = tuple(r for r in rules if r.name != rule.name) + (rule,)
    messages = (IngestedMessage.objects.filter(origin__in=("imap", "maildir", "upload"), raw_truncated=False)
                .exclude(outcome=Outcome.DUPLICATE).order_by("-received_at", "-pk")
                .only("pk", "subject", "raw", "folder_id", "origin")[:max(1, min(last, 2000))])
    result = TesterResult()
    for message in messages:
        result.tested += 1
        before, before_error = _read(message, rules)
        after, after_error = _read(message, with_rule)
        if _shape(before) != _shape(after) or bool(before_error) != bool(after_error):
            result.changed.append(TesterRow(message.pk, message.subject, _shape(before), _shape(after)))
    return result


@dataclass
class Reading:
    """How one mail reads: the parser's result, or why it could not be read."""

    result: ParseResult | None = None
    error: str = ""

    @property
    def matched_rule(self) -> str:
        alerts = self.result.alerts if self.result is not None else []
        return next((a.fields.get("rule", "") for a in alerts if a.fields.get("rule")), "")


@dataclass
class RuleTrial:
    """The rule tester's answer: a pasted mail as the built-in parsers read it, and as it reads with
    the rules in force and the rule under test (tried first, as ingest would)."""

    builtin: Reading
    with_rules: Reading


def _reading(raw: bytes, rules) -> Reading:
    try:
        return Reading(parse_message(raw, rules=rules, hosts=known_hosts(), bindings=load_bindings()))
    except ParseError as exc:
        return Reading(error=str(exc))


def rule_trial(raw: bytes, rule: Rule | None = None) -> RuleTrial:
    """Read `raw` twice; nothing is saved. A stored rule of the same name (the one being edited) is
    replaced by the draft; without a draft, the rules in force read it."""
    stored = load_rules()
    rules = stored if rule is None else tuple(r for r in stored if r.name != rule.name) + (rule,)
    return RuleTrial(builtin=_reading(raw, ()), with_rules=_reading(raw, rules))


def rule_apply(*, actor, rule: Rule, lesson: Lesson, tested: TesterResult) -> ParsingRule:
    """Save the confirmed rule, audit it, and read the lesson's mail again: a quarantined mail is
    re-processed; an incident takes the corrected severity and category at once."""
    if not may_teach(actor):
        raise PermissionDenied
    problems = validate_rule(rule)
    if problems:
        raise ValidationError("; ".join(problems))
    with transaction.atomic():
        row = ParsingRule(name=rule.name[:100], priority=rule.priority, mode=rule.mode, created_by=actor,
                          source=rule.source,
                          **{f: getattr(rule, f) or "" for f in RULE_FORM_FIELDS if f not in ("name", "mode", "source")})
        if row.mode not in RuleMode.values:
            raise ValidationError(_("Unknown rule kind."))
        row.full_clean()
        row.save()
        record_rule_change(actor=actor, rule=row, action="created", message=lesson.message,
                           incident=lesson.incident,
                           before={"reading": _shape(lesson.reading), "error": lesson.error},
                           tested=tested.summary())
        if lesson.incident is not None:
            _correct_incident(actor, lesson.incident, rule)
    if lesson.message.outcome in (Outcome.QUARANTINED, Outcome.NOT_ALERT):
        message_reprocess(message_pk=lesson.message.pk)
    return row


def _correct_incident(actor, incident: Incident, rule: Rule) -> None:
    """The incident the lesson came from takes what can change in place (severity, category, the
    review flag); host and check name its key, so they apply to the mail that comes next."""
    inc = Incident.objects.select_for_update().get(pk=incident.pk)
    before = {"severity": inc.severity, "category": inc.category, "needs_review": inc.needs_review}
    if rule.set_severity and inc.state != "resolved":
        inc.severity = rule.set_severity
    if rule.set_category:
        inc.category = rule.set_category
    inc.needs_review = ""
    after = {"severity": inc.severity, "category": inc.category, "needs_review": inc.needs_review}
    if before == after:
        return
    inc.save(update_fields=["severity", "category", "needs_review", "updated_at"])
    event = Transitioned(obj=inc, name="corrected", actor=actor, at=timezone.now(), source=inc.state,
                         target=inc.state, comment=_("Reading corrected by rule %(rule)s.") % {"rule": rule.name},
                         details={"before": before, "after": after, "rule": rule.name})
    incident_event_row(event).save()
