"""Serializers of the service-request API: they parse and present; services do the writes."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from opsdesk.org.choices import UnitKind
from opsdesk.org.models import ProductionSystem, Unit
from tickets.models import Attachment, Comment, RequestEvent, RequestType, ServiceRequest
from workflow.engine import transition_names
from workflow.requests import RequestState

__all__ = [
    "RequestTypeSerializer", "ServiceRequestListSerializer", "ServiceRequestDetailSerializer",
    "ServiceRequestCreateSerializer", "TransitionSerializer", "AvailableTransitionsSerializer",
    "TransitionErrorSerializer", "CommentSerializer", "AttachmentSerializer", "AttachmentUploadSerializer",
]


class RequestTypeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = RequestType
        fields = ["id", "code", "name", "system_required", "dual_control", "fields"]


class UnitRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "code", "name", "kind"]


class PersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="__str__")


class ServiceRequestListSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    type = serializers.SlugRelatedField(source="request_type", slug_field="code", read_only=True)
    state_label = serializers.SerializerMethodField()
    holder_unit = UnitRefSerializer(read_only=True)
    origin_unit = UnitRefSerializer(read_only=True)
    assignee = PersonRefSerializer(read_only=True, allow_null=True)
    waiting_seconds = serializers.SerializerMethodField()

    class Meta:
        model = ServiceRequest
        fields = ["id", "number", "type", "subject", "system", "state", "state_label", "version", "level",
                  "holder_unit", "assignee", "origin_unit", "held_since", "waiting_seconds", "created_at",
                  "answered_at", "closed_at", "rating"]

    def get_state_label(self, obj) -> str:
        return str(RequestState(obj.state).label)

    def get_waiting_seconds(self, obj) -> int:
        return int((timezone.now() - obj.held_since).total_seconds()) if obj.is_open else 0


class RequestEventSerializer(serializers.ModelSerializer):
    actor = PersonRefSerializer(read_only=True, allow_null=True)
    from_unit = UnitRefSerializer(read_only=True, allow_null=True)
    to_unit = UnitRefSerializer(read_only=True, allow_null=True)
    label = serializers.SerializerMethodField()

    class Meta:
        model = RequestEvent
        fields = ["version", "name", "label", "at", "actor", "from_state", "from_unit", "to_state", "to_unit",
                  "comment", "details"]

    def get_label(self, obj) -> str:
        return obj.get_label()


class ServiceRequestDetailSerializer(ServiceRequestListSerializer):
    requester = PersonRefSerializer(read_only=True)
    timeline = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()
    known_incidents = serializers.SerializerMethodField()

    class Meta(ServiceRequestListSerializer.Meta):
        fields = [*ServiceRequestListSerializer.Meta.fields, "requester", "data", "answer_text", "timeline",
                  "allowed_transitions", "known_incidents"]

    @extend_schema_field(RequestEventSerializer(many=True))
    def get_timeline(self, obj):
        from tickets.selectors import request_timeline

        return RequestEventSerializer(request_timeline(request=obj), many=True).data

    def get_allowed_transitions(self, obj) -> list[str]:
        from tickets.selectors import request_actions

        return request_actions(request=obj, user=self.context["request"].user)

    def get_known_incidents(self, obj) -> list[str]:
        from tickets.selectors import known_incidents_for_system

        return [str(incident) for incident in known_incidents_for_system(obj.system)]


class ServiceRequestCreateSerializer(serializers.Serializer):
    type = serializers.SlugRelatedField(slug_field="code", queryset=RequestType.objects.filter(is_active=True))
    subject = serializers.CharField(max_length=200)
    system = serializers.PrimaryKeyRelatedField(queryset=ProductionSystem.objects.filter(is_active=True),
                                                required=False, allow_null=True)
    data = serializers.DictField(required=False, default=dict,
                                 help_text="The type's form fields, keyed by field name (see /api/request-types/).")


class TransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[])
    version = serializers.IntegerField(min_value=1, help_text="The version of the request you saw.")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    group = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.filter(kind=UnitKind.SUPPORT_GROUP, is_active=True), required=False, allow_null=True,
        help_text="Support group (dispatch, transfer).")
    rating = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=5,
                                      help_text="Satisfaction 1–5 (confirm).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [name for name in transition_names(ServiceRequest) if name != "auto_close"]


class AvailableTransitionsSerializer(serializers.Serializer):
    state = serializers.CharField()
    version = serializers.IntegerField()
    allowed = serializers.ListField(child=serializers.CharField())


class TransitionErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    state = serializers.CharField(allow_null=True)
    allowed = serializers.ListField(child=serializers.CharField())


class CommentSerializer(serializers.ModelSerializer):
    author = PersonRefSerializer(read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = PersonRefSerializer(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "original_name", "content_type", "size", "uploaded_by", "created_at", "download_url"]

    def get_download_url(self, obj) -> str:
        from django.urls import reverse

        return reverse("servicerequest-attachment-download", args=[obj.request_id, obj.pk])


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
