"""Notification API: the delivery log (administrators), my notifications, rosters. Scoped by the API
base (`opsdesk.api.base`) with the rules in `notifications/scoping.py`; my notifications are the
caller's own (`Scope.OWN`)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from notifications import roster, selectors, services
from notifications.api.serializers import (
    DutyShiftSerializer,
    MobileSerializer,
    MyNotificationSerializer,
    NotificationSerializer,
)
from notifications.models import DutyShift, Notification, NotificationStatus
from notifications.scoping import roster_units
from opsdesk.api.base import IsAdministratorOrReadOnly, Scope, ScopedGenericViewSet, ScopedReadOnlyViewSet
from opsdesk.api.errors import service_errors

__all__ = ["NotificationLogViewSet", "MyNotificationViewSet", "DutyShiftViewSet"]


@extend_schema(parameters=[
    OpenApiParameter("person", str, description="username, name or number"),
    OpenApiParameter("unit", str, description="unit code: everything under it"),
    OpenApiParameter("about", str, description="app.model:id, e.g. tickets.servicerequest:12"),
    OpenApiParameter("status", str, enum=NotificationStatus.values),
    OpenApiParameter("event", str),
])
class NotificationLogViewSet(ScopedReadOnlyViewSet):
    """The delivery log: every notification with status, attempts and latency. Scoped centrally:
    administrators see everything, others nothing."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.all()

    def get_queryset(self):
        params = self.request.query_params
        if params.get("status") and params["status"] not in NotificationStatus.values:
            raise ValidationError({"status": [f"one of {', '.join(NotificationStatus.values)}"]})
        return selectors.notification_log_filter(super().get_queryset(), **{
            k: params.get(k, "") for k in ("person", "unit", "about", "status", "event")})

    @extend_schema(request=None, responses={202: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        if not request.user.is_administrator:
            raise PermissionDenied(_("Only administrators may resend a notification."))
        notification = self.get_object()
        if notification.status in (NotificationStatus.QUEUED, NotificationStatus.SENDING, NotificationStatus.MERGED):
            return Response({"detail": _("This notification is still on its way; it cannot be resent now."),
                             "status": notification.status}, status=status.HTTP_409_CONFLICT)
        target = services.notification_resend(notification=notification, actor=request.user)
        return Response(NotificationSerializer(target).data, status=status.HTTP_202_ACCEPTED)


class MyNotificationViewSet(ScopedReadOnlyViewSet):
    """The caller's own notifications, and their mobile number."""

    serializer_class = MyNotificationSerializer
    queryset = Notification.objects.select_related("content_type").order_by("-created_at", "-pk")
    scope = Scope.OWN
    owner_field = "recipient"

    @extend_schema(request=MobileSerializer, responses={200: MobileSerializer})
    @action(detail=False, methods=["get", "put"])
    def mobile(self, request):
        if request.method == "PUT":
            serializer = MobileSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            with service_errors(field="mobile"):
                services.mobile_update(person=request.user, mobile=serializer.validated_data["mobile"])
        return Response({"mobile": request.user.mobile})


class DutyShiftViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       mixins.DestroyModelMixin, ScopedGenericViewSet):
    """On-duty rosters: shifts of the units the caller may see; administrators add and remove."""

    serializer_class = DutyShiftSerializer
    permission_classes = [IsAdministratorOrReadOnly]
    queryset = DutyShift.objects.select_related("unit", "person").order_by("starts_at", "pk")
    filterset_fields = ["is_substitute"]

    def get_queryset(self):
        qs = super().get_queryset()
        unit = self.request.query_params.get("unit")
        if unit:
            qs = qs.filter(unit__code=unit)
        if self.request.query_params.get("current") in ("1", "true"):
            now = timezone.now()
            qs = qs.filter(starts_at__lte=now, ends_at__gt=now)
        return qs

    def perform_create(self, serializer):
        with service_errors():
            serializer.instance = roster.shift_create(actor=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        roster.shift_delete(shift=instance)

    @extend_schema(parameters=[OpenApiParameter("unit", str, required=True, description="unit code")])
    @action(detail=False, methods=["get"], url_path="on-duty")
    def on_duty(self, request):
        """Who a hand-off to this unit reaches now."""
        code = request.query_params.get("unit", "")
        unit = roster_units(request.user).filter(code=code).first()
        if unit is None:
            raise ValidationError({"unit": [_("Unknown unit, or not one you may see.")]})
        regular, substitutes = roster.on_duty(unit)
        receivers = roster.recipients_for_unit(unit)
        return Response({
            "unit": unit.code,
            "on_duty": [p.username for p in regular],
            "substitutes": [p.username for p in substitutes],
            "receivers": [p.username for p in receivers],
            "from_roster": bool(regular or substitutes),
        })


