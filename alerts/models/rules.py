"""In-house alert formats, described by administrators as regular-expression rules."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from alerts.choices import Category, Source
from alerts.parsing import Rule, validate_rule

__all__ = ["ParsingRule"]


class ParsingRule(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    priority = models.IntegerField(_("priority"), default=100, help_text=_("Lower runs first."))
    enabled = models.BooleanField(_("enabled"), default=True)
    match_sender = models.CharField(_("sender matches"), max_length=500, blank=True)
    match_subject = models.CharField(_("subject matches"), max_length=500, blank=True)
    match_body = models.TextField(_("body matches"), blank=True)
    extract_subject = models.TextField(
        _("extract from subject"), blank=True,
        help_text=_("Regular expression with named groups: host, check, severity, status, object, kind, message."))
    extract_body = models.TextField(_("extract from body"), blank=True,
                                    help_text=_("Each match is one alert; same named groups."))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.SCRIPT)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, blank=True)
    check_kind = models.CharField(_("check kind"), max_length=40, blank=True,
                                  help_text=_("e.g. filesystem, process, tablespace"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("parsing rule")
        verbose_name_plural = _("parsing rules")
        ordering = ["priority", "pk"]

    def __str__(self) -> str:
        return self.name

    def to_rule(self) -> Rule:
        return Rule(
            name=self.name, priority=self.priority,
            match_sender=self.match_sender or None, match_subject=self.match_subject or None,
            match_body=self.match_body or None, extract_subject=self.extract_subject or None,
            extract_body=self.extract_body or None, source=self.source or "script",
            category=self.category or None, check_kind=self.check_kind or None,
        )

    def clean(self) -> None:
        problems = validate_rule(self.to_rule())
        if problems:
            raise ValidationError("; ".join(problems))
