"""This app's REST endpoints, registered on the project's API router."""

from rest_framework.routers import BaseRouter

from tickets.api.views import RequestTypeViewSet, SavedViewViewSet, ServiceRequestViewSet


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to the shared router."""
    router.register("request-types", RequestTypeViewSet, basename="requesttype")
    router.register("requests", ServiceRequestViewSet, basename="servicerequest")
    router.register("saved-views", SavedViewViewSet, basename="savedview")
