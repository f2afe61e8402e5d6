"""Incident API: list/detail (scoped centrally), and acknowledge/resolve/reopen/silence actions."""

from __future__ import annotations

import django_filters
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from alerts import services
from alerts.api.serializers import (
    ActionSerializer,
    IncidentDetailSerializer,
    IncidentSerializer,
    SilenceInputSerializer,
)
from alerts.models import Incident
from opsdesk.api.base import ScopedReadOnlyViewSet
from workflow.engine import TransitionError

__all__ = ["IncidentViewSet"]


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
        incident = self.get_object()  # 404 outside the caller's scope
        data = ActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        service = {"acknowledge": services.incident_acknowledge, "resolve": services.incident_resolve,
                   "reopen": services.incident_reopen}[name]
        try:
            result = service(actor=request.user, incident_pk=incident.pk,
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
