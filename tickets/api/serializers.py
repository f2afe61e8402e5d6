"""Serializers of the service-request API: they parse and present; services do the writes."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from opsdesk.org.choices import UnitKind
from opsdesk.org.models import ProductionSystem, Unit, User
from tickets.models import Attachment, Comment, RequestType, SavedView, ServiceRequest
from tickets.selectors import known_incidents_for_system, list_values_of, request_actions, request_timeline
from tickets.services import BULK_ACTIONS, BULK_LIMIT
from workflow.engine import transition_names
from workflow.requests import OPEN_STATES, Rating, RequestState

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
        # Written out, from a row of plain values (tickets.selectors.LIST_VALUES): lists are the API's
        # busiest answers (a teller's "my requests", every queue), and DRF's field-by-field walk over
        # model instances cost more than their query. A request object (the dispatcher's overview) is
        # put in the same shape first. The fields above still document the schema;
        # tests/tickets/test_api_list_shape.py holds this to what the generic walk gives.
        row = obj if isinstance(obj, dict) else list_values_of(obj)
        state, rating, held_since = row["state"], row["rating"], row["held_since"]
        return {
            "id": row["id"], "number": ServiceRequest.number_of(row["id"]), "type": row["request_type__code"],
            "subject": row["subject"], "system": row["system_id"], "state": state,
            "state_label": str(RequestState(state).label), "version": row["version"], "level": row["level"],
            "holder_unit": _unit_ref(row, "holder_unit"), "assignee": _person_ref(row, "assignee"),
            "origin_unit": _unit_ref(row, "origin_unit"), "held_since": _when(held_since),
            "waiting_seconds": int((timezone.now() - held_since).total_seconds()) if state in OPEN_STATES else 0,
            "created_at": _when(row["created_at"]), "answered_at": _when(row["answered_at"]),
            "closed_at": _when(row["closed_at"]), "rating": rating,
            "rating_label": None if rating is None else str(_RATING_LABELS.get(rating, rating)),
        }


_RATING_LABELS = dict(Rating.choices)  # lazy labels: each answer's str() is in its own language
_DATETIME = serializers.DateTimeField(read_only=True)  # formats as every DateTimeField of these answers does


def _when(value) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


def _unit_ref(row: dict, prefix: str) -> dict | None:
    pk = row[f"{prefix}__id"]
    return None if pk is None else {"id": pk, "code": row[f"{prefix}__code"], "name": row[f"{prefix}__name"],
                                    "kind": row[f"{prefix}__kind"]}


def _person_ref(row: dict, prefix: str) -> dict | None:
    pk = row[f"{prefix}__id"]
    if pk is None:
        return None
    username = row[f"{prefix}__username"]
    return {"id": pk, "username": username, "name": User.name_from(
        row[f"{prefix}__display_name"], row[f"{prefix}__first_name"], row[f"{prefix}__last_name"], username)}


def _unit_of(unit) -> dict | None:
    return None if unit is None else {"id": unit.pk, "code": unit.code, "name": unit.name, "kind": unit.kind}


def _person_of(person) -> dict | None:
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
            "at": _when(obj.at), "actor": _person_of(obj.actor),
            "from_state": obj.from_state, "from_unit": _unit_of(obj.from_unit), "to_state": obj.to_state,
            "to_unit": _unit_of(obj.to_unit), "comment": obj.comment, "details": obj.details,
        }


class ServiceRequestDetailSerializer(ServiceRequestListSerializer):
    requester = PersonRefSerializer(read_only=True)
    data = serializers.JSONField(read_only=True)
    answer_text = serializers.CharField(read_only=True)
    timeline = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()
    known_incidents = serializers.SerializerMethodField()

    @extend_schema_field(RequestEventSerializer(many=True))
    def get_timeline(self, obj):
        return RequestEventSerializer(request_timeline(request=obj), many=True).data

    def get_allowed_transitions(self, obj) -> list[str]:
        return request_actions(request=obj, user=self.context["request"].user)

    def get_known_incidents(self, obj) -> list[str]:
        return known_incidents_for_system(user=self.context["request"].user, system=obj.system)

    def to_representation(self, obj) -> dict:
        # Written out as the list is: every detail, and the answer to every filing and transition.
        # tests/tickets/test_api_list_shape.py holds it to what the generic walk gives.
        return {**super().to_representation(obj), "requester": _person_of(obj.requester), "data": obj.data,
                "answer_text": obj.answer_text, "timeline": self.get_timeline(obj),
                "allowed_transitions": self.get_allowed_transitions(obj),
                "known_incidents": self.get_known_incidents(obj)}


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
