"""Escalation chains for incidents: if nobody acknowledges within T minutes, the next level hears."""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from opsdesk.audit.history import track_configuration
from opsdesk.org.choices import Role

__all__ = ["EscalationPolicy", "EscalationStep", "EscalationRun"]


@track_configuration()
class EscalationPolicy(models.Model):
    name = models.CharField(_("name"), max_length=100)
    # Comma-separated incident severities this chain applies to, e.g. "critical,major".
    severities = models.CharField(_("severities"), max_length=100, default="critical,major",
                                  help_text=_("Comma-separated, e.g. critical,major"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def applies_to(self, severity: str) -> bool:
        return severity in {s.strip() for s in self.severities.split(",") if s.strip()}


@track_configuration()
class EscalationStep(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("order"))
    wait_minutes = models.PositiveIntegerField(
        _("minutes without acknowledgement before this step"), validators=[MinValueValidator(0)]
    )
    role = models.CharField(_("notify role"), max_length=20, choices=Role.choices)
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("in unit"), null=True, blank=True, on_delete=models.CASCADE,
        help_text=_("Blank: the incident's support group for group roles, otherwise the whole province."),
    )

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        ordering = ["policy", "order"]
        constraints = [models.UniqueConstraint(fields=["policy", "order"], name="notif_escalation_step_order")]

    def __str__(self) -> str:
        return f"{self.policy} #{self.order}: {self.get_role_display()} +{self.wait_minutes}min"


class EscalationRun(models.Model):
    """One incident's chain. The beat task fires due steps and stops when the incident is no
    longer open (it checks the incident's state when a step fires)."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="runs")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.CharField(max_length=64)
    subject = GenericForeignKey("content_type", "object_id")
    started_at = models.DateTimeField(_("started"))
    next_step = models.PositiveSmallIntegerField(_("next step"), default=0)
    next_at = models.DateTimeField(_("next step due"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    stop_reason = models.CharField(_("why it stopped"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("escalation chain")
        verbose_name_plural = _("escalation chains")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id"], name="notif_one_chain_per_incident")
        ]
        indexes = [models.Index(fields=["stopped_at", "next_at"], name="notif_escalation_due")]

    def __str__(self) -> str:
        return f"{self.policy} → {self.content_type.model} {self.object_id}"
