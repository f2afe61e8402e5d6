"""Serializers of the alert API (output shapes and action inputs)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from alerts.models import Alert, Incident, IncidentEvent

__all__ = ["IncidentSerializer", "IncidentDetailSerializer", "ActionSerializer", "SilenceInputSerializer"]


class IncidentSerializer(serializers.ModelSerializer):
    check = serializers.CharField(source="check_name", read_only=True)
    system = serializers.SlugRelatedField(slug_field="code", read_only=True)
    system_name = serializers.CharField(source="system.name", read_only=True, default="")
    alarming = serializers.BooleanField(read_only=True)
    silenced = serializers.BooleanField(source="is_silenced", read_only=True)

    class Meta:
        model = Incident
        fields = ["id", "state", "version", "severity", "source", "host", "check", "category", "system",
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
