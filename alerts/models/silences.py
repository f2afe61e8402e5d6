"""Silences / maintenance windows: matching alerts are stored and counted but raise no alarm."""

from __future__ import annotations

from fnmatch import fnmatchcase

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.choices import Category
from opsdesk.audit.history import track_configuration

__all__ = ["Silence"]


class SilenceQuerySet(models.QuerySet):
    def active(self, at=None):
        at = at or timezone.now()
        return self.filter(starts_at__lte=at, ends_at__gt=at)


@track_configuration()
class Silence(models.Model):
    host_pattern = models.CharField(_("host pattern"), max_length=255, blank=True,
                                    help_text=_("Shell-style pattern, e.g. szhxdb* ; empty matches any host."))
    check_pattern = models.CharField(_("check pattern"), max_length=500, blank=True,
                                     help_text=_("Shell-style pattern, e.g. filesystem:* ; empty matches any check."))
    system = models.ForeignKey("org.ProductionSystem", verbose_name=_("production system"), null=True,
                               blank=True, on_delete=models.CASCADE, related_name="silences")
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, blank=True)
    starts_at = models.DateTimeField(_("starts at"), default=timezone.now)
    ends_at = models.DateTimeField(_("ends at"))
    reason = models.CharField(_("reason"), max_length=300)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = SilenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("silence")
        verbose_name_plural = _("silences")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["ends_at", "starts_at"], name="alerts_silence_window")]

    def __str__(self) -> str:
        parts = [p for p in (self.host_pattern, self.check_pattern, self.category,
                             self.system.name if self.system_id else "") if p]
        return " · ".join(parts) or "*"

    def clean(self) -> None:
        if not (self.host_pattern or self.check_pattern or self.system_id or self.category):
            raise ValidationError(_("Give at least one of host, check, system or category."))
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must come after the start.")})

    def matches(self, *, host: str, check: str, category: str, system_id: int | None) -> bool:
        if self.host_pattern and not fnmatchcase(host.lower(), self.host_pattern.strip().lower()):
            return False
        if self.check_pattern and not fnmatchcase(check.lower(), self.check_pattern.strip().lower()):
            return False
        if self.category and self.category != category:
            return False
        if self.system_id and self.system_id != system_id:
            return False
        return True
