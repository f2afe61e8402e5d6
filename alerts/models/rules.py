"""What administrators and operators tell the parser: extraction rules for in-house formats,
corrections taught from a misread mail (with their append-only audit), and sources bound to a tool."""

from __future__ import annotations

import codecs

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.choices import AlertStatus, Category, Severity, Source
from alerts.parsing import Rule, validate_rule
from alerts.parsing.binding import Binding
from opsdesk.audit.history import track_configuration
from workflow.audit import AppendOnlyModel

__all__ = ["ParsingRule", "RuleMode", "RuleChange", "SourceBinding"]


class RuleMode(models.TextChoices):
    EXTRACT = "extract", _("Extract alerts (in-house format)")
    CORRECT = "correct", _("Correct what a tool's reader read")


# validate_rule()'s whole-rule problems, in the UI's words.
RULE_PROBLEMS = {
    "a rule needs extract_subject or extract_body":
        _("An extraction rule needs a pattern to extract from the subject or from the body."),
    "a correction needs match_sender, match_subject or match_body (it must not touch every mail)":
        _("A correction needs a sender, subject or body pattern: it must not touch every mail."),
    "a correction needs a value to set or a regex to extract it":
        _("A correction needs a value to set or a pattern to extract it."),
}


@track_configuration(exclude=["updated_at"])
class ParsingRule(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    priority = models.IntegerField(_("priority"), default=100, help_text=_("Lower runs first."))
    enabled = models.BooleanField(_("enabled"), default=True)
    mode = models.CharField(_("kind"), max_length=10, choices=RuleMode.choices, default=RuleMode.EXTRACT)
    match_sender = models.CharField(_("sender matches"), max_length=500, blank=True)
    match_subject = models.CharField(_("subject matches"), max_length=500, blank=True)
    match_body = models.TextField(_("body matches"), blank=True)
    match_check = models.CharField(_("check matches"), max_length=500, blank=True,
                                   help_text=_("Corrections only: apply to the alerts whose check matches."))
    extract_subject = models.TextField(
        _("extract from subject"), blank=True,
        help_text=_("Regular expression with named groups: host, check, severity, status, object, kind, message."))
    extract_body = models.TextField(_("extract from body"), blank=True,
                                    help_text=_("Each match is one alert; same named groups."))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.SCRIPT)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, blank=True)
    check_kind = models.CharField(_("check kind"), max_length=40, blank=True,
                                  help_text=_("e.g. filesystem, process, tablespace"))
    set_host = models.CharField(_("set host to"), max_length=255, blank=True)
    set_check = models.CharField(_("set check to"), max_length=500, blank=True)
    set_severity = models.CharField(_("set severity to"), max_length=10, choices=Severity.choices, blank=True)
    set_status = models.CharField(_("set state to"), max_length=10, choices=AlertStatus.choices, blank=True)
    set_category = models.CharField(_("set category to"), max_length=20, choices=Category.choices, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("parsing rule")
        verbose_name_plural = _("parsing rules")
        ordering = ["priority", "pk"]

    def __str__(self) -> str:
        return self.name

    def to_rule(self) -> Rule:
        return Rule(
            name=self.name, priority=self.priority, mode=self.mode,
            match_sender=self.match_sender or None, match_subject=self.match_subject or None,
            match_body=self.match_body or None, match_check=self.match_check or None,
            extract_subject=self.extract_subject or None, extract_body=self.extract_body or None,
            source=self.source or "script", category=self.category or None, check_kind=self.check_kind or None,
            set_host=self.set_host or None, set_check=self.set_check or None,
            set_severity=self.set_severity or None, set_status=self.set_status or None,
            set_category=self.set_category or None,
        )

    def clean(self) -> None:
        problems = validate_rule(self.to_rule())
        if problems:
            raise ValidationError([self._problem_in_words(p) for p in problems])

    def _problem_in_words(self, problem: str) -> str:
        """The parser's check (alerts.parsing.rules.validate_rule, English, Django-free) in the UI's
        words: a whole-rule problem translated, a field's named by its label (a regex error keeps
        Python's own message after it: it says where the pattern breaks)."""
        if problem in RULE_PROBLEMS:
            return str(RULE_PROBLEMS[problem])
        name, sep, detail = problem.partition(": ")
        field = next((f for f in self._meta.fields if f.name == name), None) if sep else None
        if field is None:
            return problem
        return str(_("%(field)s (%(name)s) is not valid: %(detail)s")
                   % {"field": field.verbose_name, "name": name, "detail": detail})


class RuleChange(AppendOnlyModel):
    """Who created, changed or switched off a rule, from which mail, and what the tester showed."""

    rule = models.ForeignKey(ParsingRule, verbose_name=_("rule"), null=True, on_delete=models.SET_NULL,
                             related_name="changes")
    rule_name = models.CharField(_("rule"), max_length=100)
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True,
                              on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=20)
    message = models.ForeignKey("alerts.IngestedMessage", verbose_name=_("taught from mail"), null=True,
                                blank=True, on_delete=models.SET_NULL, related_name="+")
    incident = models.ForeignKey("alerts.Incident", verbose_name=_("taught from incident"), null=True,
                                 blank=True, on_delete=models.SET_NULL, related_name="+")
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    tested = models.JSONField(_("tester result"), default=dict, blank=True)

    class Meta:
        verbose_name = _("rule change")
        verbose_name_plural = _("rule changes")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.rule_name}"


@track_configuration()
class SourceBinding(models.Model):
    """A mailbox folder or a sender declared as a given tool, so the desk does not guess."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    tool = models.CharField(_("tool"), max_length=20, choices=Source.choices, blank=True,
                            help_text=_("Empty: detect the tool, but use this charset and priority table."))
    folder = models.ForeignKey("alerts.MailFolder", verbose_name=_("mail folder"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="bindings")
    sender = models.CharField(_("sender"), max_length=255, blank=True,
                              help_text=_("Address pattern, e.g. zabbix@* or *@monitor.bank.example"))
    charset = models.CharField(_("charset of undeclared text"), max_length=40, blank=True,
                               help_text=_("e.g. gbk for AIX scripts that send without a charset"))
    priorities = models.JSONField(_("priority table"), default=dict, blank=True,
                                  help_text=_('Overrides of the default table, e.g. {"P3": "major", "一般": "warning"}'))
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("source binding")
        verbose_name_plural = _("source bindings")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not self.folder_id and not self.sender.strip():
            raise ValidationError(_("Bind a mail folder, a sender, or both."))
        if not isinstance(self.priorities, dict):
            raise ValidationError({"priorities": _("The priority table is an object of code: severity.")})
        bad = [f"{k}: {v}" for k, v in self.priorities.items() if v not in Severity.values]
        if bad:
            raise ValidationError({"priorities": _("Unknown severities: %(bad)s (one of %(known)s)") % {
                "bad": ", ".join(bad[:5]), "known": ", ".join(Severity.values)}})
        if self.charset:
            try:
                codecs.lookup(self.charset)
            except LookupError:
                raise ValidationError({"charset": _("Unknown charset.")}) from None

    def to_binding(self) -> Binding:
        return Binding(name=self.name, tool=self.tool, mailbox=f"folder:{self.folder_id}" if self.folder_id else "",
                       sender=self.sender.strip().lower(), charset=self.charset.strip(),
                       priorities=tuple((str(k), str(v)) for k, v in (self.priorities or {}).items()))

