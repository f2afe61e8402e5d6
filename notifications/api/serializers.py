from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from notifications.models import Channel, DutyShift, Notification
from opsdesk.org.models import Unit, User
from opsdesk.org.privacy import visible_mobile

__all__ = ["NotificationSerializer", "MyNotificationSerializer", "DutyShiftSerializer", "MobileSerializer"]


class NotificationSerializer(serializers.ModelSerializer):
    recipient = serializers.SlugRelatedField(slug_field="username", read_only=True)
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    about = serializers.SerializerMethodField()
    latency_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "event", "recipient", "unit", "address", "channel", "text", "urgent", "about", "status",
                  "attempts", "last_error", "digest_count", "merged_into", "not_before", "next_attempt_at",
                  "provider_message_id", "created_at", "sent_at", "latency_seconds"]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if "address" in data and instance.channel == Channel.SMS:
            request = self.context.get("request")
            data["address"] = visible_mobile(getattr(request, "user", None), instance.recipient, instance.address)
        return data

    def get_about(self, obj: Notification) -> str | None:
        if obj.content_type_id is None:
            return None
        return f"{obj.content_type.app_label}.{obj.content_type.model}:{obj.object_id}"


class MyNotificationSerializer(NotificationSerializer):
    class Meta(NotificationSerializer.Meta):
        fields = ["id", "event", "text", "urgent", "about", "status", "digest_count", "created_at", "sent_at"]
        read_only_fields = fields


class DutyShiftSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", queryset=Unit.objects.filter(is_active=True))
    person = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.filter(is_active=True))

    class Meta:
        model = DutyShift
        fields = ["id", "unit", "person", "duty", "starts_at", "ends_at", "is_substitute", "note"]

    def validate(self, attrs):
        unit, person = attrs.get("unit"), attrs.get("person")
        if unit is not None and person is not None and person.unit_id != unit.pk:
            raise serializers.ValidationError({"person": [_("Only people of this unit may be on its roster.")]})
        return attrs


class MobileSerializer(serializers.Serializer):
    mobile = serializers.CharField(max_length=20)
