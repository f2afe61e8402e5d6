"""The on-duty roster (值班表): who is on duty for a unit or support group, and when."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from opsdesk.audit.history import track_configuration

__all__ = ["Duty", "DutyShift"]


class Duty(models.TextChoices):
    """What a roster is for: one unit may keep a roster per duty (the operations department: its
    dispatchers for requests, its operators for alarms). Each notification asks for the duty it
    concerns (`notifications.roster.recipients_for_unit(unit, duty=...)`)."""

    REQUESTS = "requests", _("Request handling")
    ALERTS = "alerts", _("Alert duty")


@track_configuration()
class DutyShift(models.Model):
    """One person on duty for one unit from `starts_at` to `ends_at`.

    A substitute (替班) is notified only when no regular person on shift can be reached.
    """

    unit = models.ForeignKey("org.Unit", verbose_name=_("unit"), on_delete=models.CASCADE,
                             related_name="duty_shifts")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE,
                               related_name="duty_shifts")
    duty = models.CharField(_("duty"), max_length=20, choices=Duty.choices, default=Duty.REQUESTS)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    is_substitute = models.BooleanField(_("substitute"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty shifts")
        ordering = ["unit", "starts_at", "is_substitute"]
        indexes = [models.Index(fields=["unit", "starts_at", "ends_at"], name="notif_shift_unit_time")]

    def __str__(self) -> str:
        return f"{self.unit} {self.person} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("A shift must end after it starts.")})
        if self.starts_at and self.ends_at and (self.ends_at - self.starts_at).days > 31:
            raise ValidationError({"ends_at": _("A shift may last at most 31 days.")})
        if self.person_id and not self.person.is_active:
            raise ValidationError({"person": _("This person's account is disabled.")})
        # A roster sends the unit's requests to its members: a person of another unit would be texted
        # requests they have no business seeing.
        if self.person_id and self.unit_id and self.person.unit_id != self.unit_id:
            raise ValidationError({"person": _("Only people of this unit may be on its roster.")})
