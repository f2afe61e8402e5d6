"""This app's REST endpoints, registered on the project's API router."""

from rest_framework.routers import BaseRouter


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to the shared router."""
    from alerts.api.views import IncidentViewSet, SilenceViewSet

    router.register("incidents", IncidentViewSet, basename="incident")
    router.register("silences", SilenceViewSet, basename="silence")
