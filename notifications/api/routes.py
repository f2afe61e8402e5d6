"""This app's REST endpoints, registered on the project's API router."""

from rest_framework.routers import BaseRouter

from notifications.api.views import DutyShiftViewSet, MyNotificationViewSet, NotificationLogViewSet


def register(router: BaseRouter) -> None:
    router.register("notifications", NotificationLogViewSet, basename="notification")
    router.register("my-notifications", MyNotificationViewSet, basename="my-notification")
    router.register("rosters", DutyShiftViewSet, basename="duty-shift")
