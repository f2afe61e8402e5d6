"""Alert API: incidents (acknowledge/resolve/reopen/silence actions) and maintenance windows (list,
create, end early). Both scoped by the API base (`opsdesk.api.base`) with the rules in
`alerts/scoping.py`; the webhook intake is apart (`alerts/api/webhooks.py`)."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from alerts import services, silencing
from alerts.api.serializers import (
    ActionSerializer,
    DetailSerializer,
    IncidentDetailSerializer,
    IncidentSerializer,
    SilenceCreateSerializer,
    SilenceErrorSerializer,
    SilenceInputSerializer,
    SilenceSerializer,
)
from alerts.models import Incident, Silence
from opsdesk.api.base import ScopedGenericViewSet, ScopedReadOnlyViewSet
from opsdesk.api.errors import service_errors
from workflow.engine import TransitionError

__all__ = ["IncidentViewSet", "SilenceViewSet"]


class IncidentFilter(django_filters.FilterSet):
    system = django_filters.CharFilter(field_name="system__code")
    host = django_filters.CharFilter(field_name="host", lookup_expr="icontains")

    class Meta:
        model = Incident
        fields = ["state", "severity", "category", "source", "system", "host", "flapping"]


class IncidentViewSet(ScopedReadOnlyViewSet):
    queryset = Incident.objects.select_related("system").order_by("-last_seen", "-pk")
    filterset_class = IncidentFilter

    def get_serializer_class(self):
        if self.action == "retrieve":
            return IncidentDetailSerializer
        if self.action == "silence":
            return SilenceInputSerializer
        if self.action in ("acknowledge", "resolve", "reopen"):
            return ActionSerializer
        return IncidentSerializer

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "retrieve":
            qs = qs.prefetch_related("alerts", "events__actor")
        return qs

    def _transition(self, request, name: str):
        incident_pk = self.url_pk()
        data = ActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        service = {"acknowledge": services.incident_acknowledge, "resolve": services.incident_resolve,
                   "reopen": services.incident_reopen}[name]
        try:
            # The service looks the incident up inside the caller's scope by the transition's own
            # locked read: outside it, 404 (no scoped read first).
            result = service(actor=request.user, incident_pk=incident_pk,
                             expected_version=data.validated_data.get("expected_version"),
                             comment=data.validated_data.get("comment", ""))
        except TransitionError as exc:
            return Response({"detail": exc.message, "state": exc.state, "allowed": exc.allowed},
                            status=exc.status_code)
        except services.ActionRefused as exc:
            return Response({"detail": exc.message}, status=exc.status_code)
        return Response(IncidentSerializer(result.obj).data)

    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._transition(request, "acknowledge")

    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._transition(request, "resolve")

    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._transition(request, "reopen")

    @action(detail=True, methods=["post"])
    def silence(self, request, pk=None):
        incident = self.get_object()
        data = SilenceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            silence = services.incident_silence(actor=request.user, incident_pk=incident.pk,
                                                minutes=data.validated_data["minutes"],
                                                reason=data.validated_data["reason"])
        except services.ActionRefused as exc:
            return Response({"detail": exc.message}, status=exc.status_code)
        incident.refresh_from_db()
        return Response({"silence": silence.pk, "until": silence.ends_at,
                         "incident": IncidentSerializer(incident).data}, status=status.HTTP_201_CREATED)


class MayManageSilences(permissions.BasePermission):
    """Maintenance windows are the board's: the people who may acknowledge incidents (403 for others,
    before scoping would show them an empty list)."""

    def has_permission(self, request, view) -> bool:
        return silencing.may_manage_silences(request.user)


STATE_PARAMETER = OpenApiParameter(
    "state", OpenApiTypes.STR, enum=list(silencing.SilenceListState.CHOICES), default="pending",
    description="current: in force now; upcoming: not started yet; pending (default): current and upcoming; "
                "ended: over (ended on time or early); all.")
FORBIDDEN = OpenApiResponse(DetailSerializer, description="Not one of the people who may act on incidents.")
NOT_FOUND = OpenApiResponse(DetailSerializer, description="No such maintenance window.")


@extend_schema_view(
    list=extend_schema(parameters=[STATE_PARAMETER], responses={200: SilenceSerializer(many=True), 403: FORBIDDEN},
                       summary="Maintenance windows",
                       description="Soonest first; ended windows (state=ended) most recent first. alert_count is "
                                   "how many alerts each window has silenced so far."),
    retrieve=extend_schema(responses={200: SilenceSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
                           summary="One maintenance window"),
    create=extend_schema(request=SilenceCreateSerializer,
                         responses={201: SilenceSerializer,
                                    400: OpenApiResponse(SilenceErrorSerializer, description="Refused input."),
                                    403: FORBIDDEN},
                         summary="Open a maintenance window",
                         description="Alerts matching every pattern given (at least one of host_pattern, "
                                     "check_pattern, system, category) are stored and counted but raise no alarm "
                                     "and send no SMS between starts_at (default now) and the end; give ends_at "
                                     "or duration_minutes, at most 30 days after the start, and a reason. A window "
                                     "in force at once also quiets the unresolved incidents it matches."),
    end=extend_schema(request=None, responses={200: SilenceSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
                      summary="End a maintenance window now",
                      description="The window stops at once (one still to come never starts); incidents it "
                                  "kept quiet alarm again. Ending an ended window changes nothing."),
)
class SilenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     ScopedGenericViewSet):
    queryset = Silence.objects.all()
    serializer_class = SilenceSerializer
    permission_classes = [MayManageSilences]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller to check
            return Silence.objects.none()
        state = self.request.query_params.get("state") or silencing.SilenceListState.PENDING
        if self.action != "list":
            state = silencing.SilenceListState.ALL
        elif state not in silencing.SilenceListState.CHOICES:
            raise serializers.ValidationError({"state": [_("One of: %(choices)s.")
                                                         % {"choices": ", ".join(silencing.SilenceListState.CHOICES)}]})
        return silencing.silence_select(super().get_queryset(), state=state)

    def create(self, request, *args, **kwargs):
        data = SilenceCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        minutes = values.pop("duration_minutes")
        with service_errors():
            silence = silencing.silence_create(
                actor=request.user, duration=None if minutes is None else timedelta(minutes=minutes), **values)
        silence = silencing.silence_get(user=request.user, pk=silence.pk)  # with its alert count
        return Response(SilenceSerializer(silence).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        silence = self.get_object()
        silencing.silence_end(actor=request.user, pk=silence.pk)
        silence = silencing.silence_get(user=request.user, pk=silence.pk)
        if silence is None:
            raise Http404
        return Response(SilenceSerializer(silence).data)

