"""Serializers of the service-request API: they parse and present; services do the writes."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from opsdesk.org.choices import UnitKind
from opsdesk.org.models import ProductionSystem, Unit
from tickets.models import Attachment, Comment, RequestType, SavedView, ServiceRequest
from tickets.services import BULK_ACTIONS, BULK_LIMIT
from workflow.engine import transition_names
from workflow.requests import RequestState

__all__ = [
    "RequestTypeSerializer", "ServiceRequestListSerializer", "ServiceRequestDetailSerializer",
    "ServiceRequestCreateSerializer", "TransitionSerializer", "AvailableTransitionsSerializer",
    "TransitionErrorSerializer", "CommentSerializer", "AttachmentSerializer", "AttachmentUploadSerializer",
    "GroupLoadSerializer", "BulkTransitionSerializer", "BulkOutcomeSerializer", "SavedViewSerializer",
]


class RequestTypeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = RequestType
        fields = ["id", "code", "name", "system_required", "dual_control", "fields"]


# The read serializers below declare their fields one by one instead of deriving them from the
# models (ModelSerializer): deriving re-reads the model's fields and forces their translated labels
# on every use, which cost more than the serializing itself on a request's detail and timeline.

class UnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=UnitKind.choices, read_only=True)


class PersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="__str__")


class ServiceRequestListSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    number = serializers.CharField(read_only=True)
    type = serializers.CharField(source="request_type.code", read_only=True)
    subject = serializers.CharField(read_only=True)
    system = serializers.IntegerField(source="system_id", read_only=True, allow_null=True)
    state = serializers.ChoiceField(choices=RequestState.choices, read_only=True)
    state_label = serializers.SerializerMethodField()
    version = serializers.IntegerField(read_only=True)
    level = serializers.ChoiceField(choices=UnitKind.choices, read_only=True)
    holder_unit = UnitRefSerializer(read_only=True)
    assignee = PersonRefSerializer(read_only=True, allow_null=True)
    origin_unit = UnitRefSerializer(read_only=True)
    held_since = serializers.DateTimeField(read_only=True)
    waiting_seconds = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    answered_at = serializers.DateTimeField(read_only=True, allow_null=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    rating = serializers.IntegerField(read_only=True, allow_null=True)
    rating_label = serializers.CharField(source="get_rating_display", read_only=True, allow_null=True)

    def get_state_label(self, obj) -> str:
        return str(RequestState(obj.state).label)

    def get_waiting_seconds(self, obj) -> int:
        return int((timezone.now() - obj.held_since).total_seconds()) if obj.is_open else 0

    def to_representation(self, obj) -> dict:
        # Written out: lists are the API's busiest answers (a teller's "my requests", every queue), and
        # DRF's field-by-field walk cost more than their query. The fields above still document the
        # schema; tests/tickets/test_api_list_shape.py holds this to what the generic walk gives.
        when = self.fields["created_at"].to_representation  # every DateTimeField here formats alike
        return {
            "id": obj.pk, "number": obj.number, "type": obj.request_type.code, "subject": obj.subject,
            "system": obj.system_id, "state": obj.state, "state_label": self.get_state_label(obj),
            "version": obj.version, "level": obj.level, "holder_unit": _unit_ref(obj.holder_unit),
            "assignee": _person_ref(obj.assignee), "origin_unit": _unit_ref(obj.origin_unit),
            "held_since": when(obj.held_since), "waiting_seconds": self.get_waiting_seconds(obj),
            "created_at": when(obj.created_at), "answered_at": when(obj.answered_at) if obj.answered_at else None,
            "closed_at": when(obj.closed_at) if obj.closed_at else None, "rating": obj.rating,
            "rating_label": None if obj.rating is None else str(obj.get_rating_display()),
        }


def _unit_ref(unit) -> dict | None:
    return None if unit is None else {"id": unit.pk, "code": unit.code, "name": unit.name, "kind": unit.kind}


def _person_ref(person) -> dict | None:
    return None if person is None else {"id": person.pk, "username": person.username, "name": str(person)}


class RequestEventSerializer(serializers.Serializer):
    version = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    label = serializers.SerializerMethodField()
    at = serializers.DateTimeField(read_only=True)
    actor = PersonRefSerializer(read_only=True, allow_null=True)
    from_state = serializers.CharField(read_only=True)
    from_unit = UnitRefSerializer(read_only=True, allow_null=True)
    to_state = serializers.CharField(read_only=True)
    to_unit = UnitRefSerializer(read_only=True, allow_null=True)
    comment = serializers.CharField(read_only=True)
    details = serializers.JSONField(read_only=True)

    def get_label(self, obj) -> str:
        return obj.get_label()

    def to_representation(self, obj) -> dict:
        # Written out as the list is: every detail and every transition's answer carries the timeline.
        return {
            "version": obj.version, "name": obj.name, "label": obj.get_label(),
            "at": self.fields["at"].to_representation(obj.at), "actor": _person_ref(obj.actor),
            "from_state": obj.from_state, "from_unit": _unit_ref(obj.from_unit), "to_state": obj.to_state,
            "to_unit": _unit_ref(obj.to_unit), "comment": obj.comment, "details": obj.details,
        }


class ServiceRequestDetailSerializer(ServiceRequestListSerializer):
    to_representation = serializers.Serializer.to_representation  # one request: the generic walk

    requester = PersonRefSerializer(read_only=True)
    data = serializers.JSONField(read_only=True)
    answer_text = serializers.CharField(read_only=True)
    timeline = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()
    known_incidents = serializers.SerializerMethodField()

    @extend_schema_field(RequestEventSerializer(many=True))
    def get_timeline(self, obj):
        from tickets.selectors import request_timeline

        return RequestEventSerializer(request_timeline(request=obj), many=True).data

    def get_allowed_transitions(self, obj) -> list[str]:
        from tickets.selectors import request_actions

        return request_actions(request=obj, user=self.context["request"].user)

    def get_known_incidents(self, obj) -> list[str]:
        from tickets.selectors import known_incidents_for_system

        return known_incidents_for_system(user=self.context["request"].user, system=obj.system)


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
                                      help_text="Satisfaction (confirm): 5 very satisfied, 4 satisfied, 3 neutral, "
                                                "2 dissatisfied, 1 very dissatisfied.")

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


class GroupLoadSerializer(serializers.Serializer):
    group = UnitRefSerializer(read_only=True)
    count = serializers.IntegerField(read_only=True)
    longest_waiting = ServiceRequestListSerializer(many=True, read_only=True)


class BulkTransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=list(BULK_ACTIONS))
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**62), min_length=1,
                                max_length=BULK_LIMIT)
    group = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.filter(kind=UnitKind.SUPPORT_GROUP, is_active=True), required=False, allow_null=True,
        help_text="Support group (dispatch).")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class BulkOutcomeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="request_id")
    number = serializers.CharField()
    ok = serializers.BooleanField()
    message = serializers.CharField()


class SavedViewSerializer(serializers.ModelSerializer):
    class Meta:
        model = SavedView
        fields = ["id", "name", "query", "created_at"]
        read_only_fields = ["id", "created_at"]
        # The name is unique per person; saving it again replaces the filters (the service decides).
        validators = []
