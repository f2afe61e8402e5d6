"""Serializers of the alert API (output shapes and action inputs)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from alerts.choices import Category
from alerts.models import Alert, Incident, IncidentEvent, Silence
from alerts.silencing import MAX_SILENCE_MINUTES
from opsdesk.org.models import ProductionSystem

__all__ = ["IncidentSerializer", "IncidentDetailSerializer", "ActionSerializer", "SilenceInputSerializer",
           "SilenceSerializer", "SilenceCreateSerializer", "SilenceErrorSerializer", "DetailSerializer"]


class IncidentSerializer(serializers.ModelSerializer):
    check = serializers.CharField(source="check_name", read_only=True)  # normalised: matching, de-duplication
    check_label = serializers.CharField(source="check_title", read_only=True)  # as the tool wrote it
    system = serializers.SlugRelatedField(slug_field="code", read_only=True)
    system_name = serializers.CharField(source="system.name", read_only=True, default="")
    alarming = serializers.BooleanField(read_only=True)
    silenced = serializers.BooleanField(source="is_silenced", read_only=True)

    class Meta:
        model = Incident
        fields = ["id", "state", "version", "severity", "source", "host", "check", "check_label", "category", "system",
                  "system_name", "summary", "first_seen", "last_seen", "occurrences", "silenced_count", "silenced",
                  "silenced_until", "flapping", "reopen_count", "acknowledged_at", "resolved_at", "alarming",
                  "dedup_key"]
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):
    check = serializers.CharField(source="check_name", read_only=True)

    class Meta:
        model = Alert
        fields = ["id", "source", "host", "check", "severity", "status", "category", "text", "occurred_at",
                  "received_at", "message", "silence"]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.StringRelatedField()

    class Meta:
        model = IncidentEvent
        fields = ["at", "actor", "action", "source_state", "target_state", "comment", "details"]
        read_only_fields = fields


class IncidentDetailSerializer(IncidentSerializer):
    alerts = AlertSerializer(many=True, read_only=True)
    events = EventSerializer(many=True, read_only=True)

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "alerts", "events"]
        read_only_fields = fields


class ActionSerializer(serializers.Serializer):
    expected_version = serializers.IntegerField(required=False, min_value=0)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class SilenceInputSerializer(serializers.Serializer):
    minutes = serializers.IntegerField(min_value=1, max_value=60 * 24 * 30,
                                       error_messages={"min_value": _("At least 1 minute."),
                                                       "max_value": _("At most 30 days.")})
    reason = serializers.CharField(max_length=300)


class SilenceSerializer(serializers.ModelSerializer):
    """A maintenance window as listed: its patterns, window, reason, author and what it swallowed."""

    system = serializers.SlugRelatedField(slug_field="code", read_only=True)
    system_name = serializers.CharField(source="system.name", read_only=True, default="")
    author = serializers.StringRelatedField()
    alert_count = serializers.IntegerField(read_only=True, help_text=_("Alerts this window has silenced so far."))
    in_force = serializers.SerializerMethodField(help_text=_("Whether the window silences alerts right now."))

    class Meta:
        model = Silence
        fields = ["id", "host_pattern", "check_pattern", "system", "system_name", "category", "starts_at",
                  "ends_at", "reason", "author", "created_at", "alert_count", "in_force"]
        read_only_fields = fields

    def get_in_force(self, obj: Silence) -> bool:
        return obj.starts_at <= timezone.now() < obj.ends_at


class SilenceCreateSerializer(serializers.Serializer):
    """A new window: at least one pattern, an end or a duration, and a reason (checked by the service)."""

    host_pattern = serializers.CharField(required=False, allow_blank=True, default="", max_length=255,
                                         help_text=_("Shell-style pattern, e.g. szhxdb* ; empty matches any host."))
    check_pattern = serializers.CharField(required=False, allow_blank=True, default="", max_length=500,
                                          help_text=_("Shell-style pattern, e.g. filesystem:* ; empty matches any "
                                                      "check."))
    system = serializers.SlugRelatedField(slug_field="code", required=False, allow_null=True, default=None,
                                          queryset=ProductionSystem.objects.filter(is_active=True),
                                          help_text=_("Code of a production system."))
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_blank=True, default="")
    starts_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                          help_text=_("Default: now."))
    ends_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                        help_text=_("Give this or duration_minutes."))
    duration_minutes = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                                max_value=MAX_SILENCE_MINUTES, help_text=_("Give this or ends_at."))
    # Blank passes here so that the service gives the one message for a missing reason.
    reason = serializers.CharField(max_length=300, allow_blank=True, trim_whitespace=True)


class SilenceErrorSerializer(serializers.Serializer):
    """400 of a refused window: messages per input field; rules across fields under non_field_errors."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False,
                                             help_text=_("e.g. no pattern at all, or both an end and a duration"))
    host_pattern = serializers.ListField(child=serializers.CharField(), required=False)
    check_pattern = serializers.ListField(child=serializers.CharField(), required=False)
    system = serializers.ListField(child=serializers.CharField(), required=False)
    category = serializers.ListField(child=serializers.CharField(), required=False)
    starts_at = serializers.ListField(child=serializers.CharField(), required=False)
    ends_at = serializers.ListField(child=serializers.CharField(), required=False)
    duration_minutes = serializers.ListField(child=serializers.CharField(), required=False)
    reason = serializers.ListField(child=serializers.CharField(), required=False)


class DetailSerializer(serializers.Serializer):
    """403/404: why the request was refused."""

    detail = serializers.CharField()
