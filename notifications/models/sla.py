"""SLA policies per request type and level, and the clock each open request runs on."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from opsdesk.audit.history import track_configuration
from opsdesk.org.choices import UnitKind

__all__ = ["SlaPolicy", "SlaClock"]

# A request's level is the kind of the unit holding it.
LEVEL_CHOICES = UnitKind.choices


@track_configuration()
class SlaPolicy(models.Model):
    """Targets for requests of one type at one level. Blank type or level means "any"; the most
    specific active policy wins."""

    name = models.CharField(_("name"), max_length=100)
    request_type = models.CharField(_("request type code"), max_length=40, blank=True)
    level = models.CharField(_("level"), max_length=20, choices=LEVEL_CHOICES, blank=True)
    first_response_minutes = models.PositiveIntegerField(_("first response within (minutes)"),
                                                         validators=[MinValueValidator(1)])
    resolution_minutes = models.PositiveIntegerField(_("resolution within (minutes)"),
                                                     validators=[MinValueValidator(1)])
    near_breach_percent = models.PositiveSmallIntegerField(
        _("near breach at (percent of target)"), default=80, validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    auto_escalate = models.BooleanField(_("escalate automatically on breach"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["request_type", "level"]
        constraints = [
            models.UniqueConstraint(fields=["request_type", "level"], condition=models.Q(is_active=True),
                                    name="notif_sla_one_active_per_type_level"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.first_response_minutes and self.resolution_minutes and \
                self.first_response_minutes > self.resolution_minutes:
            raise ValidationError({"first_response_minutes": _("First response cannot come after resolution.")})


class SlaClock(models.Model):
    """One request's clock against its policy. Elapsed time excludes time spent waiting for the
    teller; what was already announced is remembered so a restart announces nothing twice."""

    request_id = models.BigIntegerField(_("request"), unique=True)
    policy = models.ForeignKey(SlaPolicy, verbose_name=_("policy"), null=True, on_delete=models.SET_NULL)
    started_at = models.DateTimeField(_("started"))
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    paused_seconds = models.FloatField(_("paused for (s)"), default=0)
    responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    response_near_notified = models.BooleanField(default=False)
    response_breach_notified = models.BooleanField(default=False)
    resolution_near_notified = models.BooleanField(default=False)
    resolution_breach_notified = models.BooleanField(default=False)
    escalated_at = models.DateTimeField(_("escalated automatically"), null=True, blank=True)
    escalation_error = models.CharField(_("automatic escalation refused"), max_length=300, blank=True)
    last_level = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        indexes = [models.Index(fields=["stopped_at"], name="notif_sla_running")]

    def __str__(self) -> str:
        return f"SLA #{self.request_id}"
