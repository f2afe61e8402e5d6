"""Incidents (alerts folded by de-duplication key, on the state machine), their alerts and audit log."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.choices import ALARM_SEVERITIES, AlertStatus, Category, Severity, Source
from opsdesk.audit.history import append_only_trigger
from workflow.audit import AppendOnlyModel
from workflow.incidents import IncidentState, IncidentWorkflow

__all__ = ["Incident", "Alert", "IncidentEvent", "key_hash"]


def key_hash(dedup_key: str) -> str:
    return hashlib.sha1(dedup_key.encode("utf-8")).hexdigest()


class Incident(IncidentWorkflow):
    dedup_key = models.TextField(_("de-duplication key"))
    key_hash = models.CharField(max_length=40, db_index=True, editable=False)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    host = models.CharField(_("host"), max_length=255, db_index=True)
    check_name = models.CharField(_("check"), max_length=500)
    # The check as the tool wrote it (case kept) for people to read; check_name is the normalised
    # form de-duplication and silences match on.
    check_label = models.CharField(_("check as written"), max_length=500, blank=True, default="")
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, db_index=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, db_index=True)
    system = models.ForeignKey("org.ProductionSystem", verbose_name=_("production system"), null=True,
                               blank=True, on_delete=models.SET_NULL, related_name="incidents")
    summary = models.TextField(_("summary"), blank=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    occurrences = models.PositiveIntegerField(_("occurrences"), default=0)
    silenced_count = models.PositiveIntegerField(_("silenced alerts"), default=0)
    silenced_until = models.DateTimeField(_("silenced until"), null=True, blank=True)
    flapping = models.BooleanField(_("flapping"), default=False)
    # Why an operator should check how the mail was read (empty: the reading was sure).
    needs_review = models.CharField(_("needs review"), max_length=300, blank=True)
    # Times of recent problem↔recovery changes (ISO strings), for flap detection.
    recent_changes = models.JSONField(default=list, blank=True, editable=False)
    reopen_count = models.PositiveIntegerField(_("reopened"), default=0)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("acknowledged by"), null=True,
                                        blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("resolved by"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-last_seen", "-pk"]
        constraints = [
            # At most one unresolved incident per key: alerts fold into it.
            models.UniqueConstraint(fields=["key_hash"], condition=~Q(state=IncidentState.RESOLVED),
                                    name="alerts_incident_one_unresolved_per_key"),
        ]
        indexes = [models.Index(fields=["state", "severity"], name="alerts_incident_state_sev")]

    def __str__(self) -> str:
        return f"{self.host} · {self.check_title}"

    @property
    def check_title(self) -> str:
        """The check as people read it: as the tool wrote it."""
        return self.check_label or self.check_name

    def save(self, *args, **kwargs) -> None:
        self.key_hash = key_hash(self.dedup_key)
        super().save(*args, **kwargs)

    @property
    def is_silenced(self) -> bool:
        return bool(self.silenced_until and self.silenced_until > timezone.now())

    @property
    def alarming(self) -> bool:
        """Sounds the alarm: an unacknowledged critical/major incident, not silenced, not flapping."""
        return (self.state == IncidentState.OPEN and self.severity in ALARM_SEVERITIES
                and not self.flapping and not self.is_silenced)


class Alert(models.Model):
    """One normalised alert as received; every alert is kept and linked to its incident."""

    incident = models.ForeignKey(Incident, verbose_name=_("incident"), null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="alerts")
    message = models.ForeignKey("alerts.IngestedMessage", verbose_name=_("message"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="alerts")
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    host = models.CharField(_("host"), max_length=255)
    check_name = models.CharField(_("check"), max_length=500)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    status = models.CharField(_("status"), max_length=10, choices=AlertStatus.choices)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    dedup_key = models.TextField(_("de-duplication key"))
    text = models.TextField(_("message"), blank=True)
    needs_review = models.CharField(_("needs review"), max_length=300, blank=True)
    system = models.ForeignKey("org.ProductionSystem", verbose_name=_("production system"), null=True,
                               blank=True, on_delete=models.SET_NULL, related_name="+")
    occurred_at = models.DateTimeField(_("occurred at"))
    received_at = models.DateTimeField(_("received at"))
    silence = models.ForeignKey("alerts.Silence", verbose_name=_("silenced by"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="alerts")

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["occurred_at", "pk"]

    def __str__(self) -> str:
        return f"{self.host} · {self.check_name} · {self.status}"


class IncidentEvent(AppendOnlyModel):
    """Append-only audit trail of an incident: who did what, from which state to which."""

    # PROTECT: deleting an incident must not take its audit trail with it.
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=30)
    source_state = models.CharField(_("from"), max_length=20, blank=True)
    target_state = models.CharField(_("to"), max_length=20, blank=True)
    comment = models.TextField(_("note"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("incident event")
        verbose_name_plural = _("incident events")
        ordering = ["at", "pk"]
        # Append-only in PostgreSQL itself, not only in the model's save()/delete().
        triggers = [append_only_trigger()]

    def __str__(self) -> str:
        return f"{self.action} {self.source_state}→{self.target_state}"
