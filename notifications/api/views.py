"""Notification API: the delivery log (administrators), my notifications, rosters."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
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
from opsdesk import scoping
from opsdesk.api.base import IsAdministratorOrReadOnly

__all__ = ["NotificationLogViewSet", "MyNotificationViewSet", "DutyShiftViewSet"]


def _drf_error(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})


@extend_schema(parameters=[
    OpenApiParameter("person", str, description="username, name or number"),
    OpenApiParameter("unit", str, description="unit code: everything under it"),
    OpenApiParameter("about", str, description="app.model:id, e.g. tickets.servicerequest:12"),
    OpenApiParameter("status", str, enum=NotificationStatus.values),
    OpenApiParameter("event", str),
])
class NotificationLogViewSet(viewsets.ReadOnlyModelViewSet):
    """The delivery log: every notification with status, attempts and latency. Scoped centrally:
    administrators see everything, others nothing."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()

    def get_queryset(self):
        params = self.request.query_params
        if params.get("status") and params["status"] not in NotificationStatus.values:
            raise ValidationError({"status": [f"one of {', '.join(NotificationStatus.values)}"]})
        return selectors.notification_log(user=self.request.user, **{
            k: params.get(k, "") for k in ("person", "unit", "about", "status", "event")})

    @extend_schema(request=None, responses={202: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        if not request.user.is_administrator:
            raise PermissionDenied("只有管理员可以重发。")
        notification = self.get_object()
        if notification.status in (NotificationStatus.QUEUED, NotificationStatus.SENDING, NotificationStatus.MERGED):
            return Response({"detail": "该通知仍在发送途中，暂不能重发。", "status": notification.status},
                            status=status.HTTP_409_CONFLICT)
        target = services.notification_resend(notification=notification, actor=request.user)
        return Response(NotificationSerializer(target).data, status=status.HTTP_202_ACCEPTED)


class MyNotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """The caller's own notifications, and their mobile number."""

    serializer_class = MyNotificationSerializer
    queryset = Notification.objects.none()

    def get_queryset(self):
        return selectors.notifications_of(person=self.request.user)

    @extend_schema(request=MobileSerializer, responses={200: MobileSerializer})
    @action(detail=False, methods=["get", "put"])
    def mobile(self, request):
        if request.method == "PUT":
            serializer = MobileSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            try:
                services.mobile_update(person=request.user, mobile=serializer.validated_data["mobile"])
            except DjangoValidationError as exc:
                raise ValidationError({"mobile": exc.messages}) from None
        return Response({"mobile": request.user.mobile})


class DutyShiftViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """On-duty rosters: shifts of the units the caller may see; administrators add and remove."""

    serializer_class = DutyShiftSerializer
    permission_classes = [IsAdministratorOrReadOnly]
    queryset = DutyShift.objects.none()
    filterset_fields = ["is_substitute"]

    def get_queryset(self):
        qs = DutyShift.objects.filter(unit__in=scoping.visible_units(self.request.user)) \
            .select_related("unit", "person").order_by("starts_at", "pk")
        unit = self.request.query_params.get("unit")
        if unit:
            qs = qs.filter(unit__code=unit)
        if self.request.query_params.get("current") in ("1", "true"):
            now = timezone.now()
            qs = qs.filter(starts_at__lte=now, ends_at__gt=now)
        return qs

    def perform_create(self, serializer):
        try:
            serializer.instance = roster.shift_create(actor=self.request.user, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise _drf_error(exc) from None

    def perform_destroy(self, instance):
        roster.shift_delete(shift=instance)

    @extend_schema(parameters=[OpenApiParameter("unit", str, required=True, description="unit code")])
    @action(detail=False, methods=["get"], url_path="on-duty")
    def on_duty(self, request):
        """Who a hand-off to this unit reaches now."""
        code = request.query_params.get("unit", "")
        unit = scoping.visible_units(request.user).filter(code=code).first()
        if unit is None:
            raise ValidationError({"unit": ["未知单位或无权查看。"]})
        regular, substitutes = roster.on_duty(unit)
        receivers = roster.recipients_for_unit(unit)
        return Response({
            "unit": unit.code,
            "on_duty": [p.username for p in regular],
            "substitutes": [p.username for p in substitutes],
            "receivers": [p.username for p in receivers],
            "from_roster": bool(regular or substitutes),
        })


