"""The REST API: one router; every app adds its endpoints through its `api/routes.py`."""

from csp.decorators import csp_update
from django.contrib.auth.views import redirect_to_login
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.routers import DefaultRouter

from alerts.api import routes as alert_routes
from notifications.api import routes as notification_routes
from opsdesk.api.base import MayReadApiDocs
from opsdesk.org.api.tokens import TokenLogoutAllView, TokenLogoutView, TokenObtainView
from opsdesk.org.api.views import HostViewSet, MeView, PersonViewSet, ProductionSystemViewSet, UnitViewSet
from reports.api import routes as report_routes
from tickets.api import routes as ticket_routes

router = DefaultRouter()
router.register("units", UnitViewSet, basename="unit")
router.register("people", PersonViewSet, basename="person")
router.register("systems", ProductionSystemViewSet, basename="system")
router.register("hosts", HostViewSet, basename="host")
for routes in (ticket_routes, alert_routes, notification_routes, report_routes):
    routes.register(router)



class SchemaView(SpectacularAPIView):
    permission_classes = [MayReadApiDocs]


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its start script as a separate file (no inline script), for logged-in people;
    a browser that is not logged in goes to the login page and comes back."""

    permission_classes = [MayReadApiDocs]

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.PermissionDenied) and \
                not self.request.user.is_authenticated:
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


# Swagger UI's page has an inline <style> and draws icons from data: URIs: its own, wider style and image
# policy; scripts stay 'self' only.
docs_view = csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["data:"]})(
    DocsView.as_view(url_name="api-schema"))

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("auth/logout/", TokenLogoutView.as_view(), name="api-logout"),
    path("auth/logoutall/", TokenLogoutAllView.as_view(), name="api-logout-all"),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", docs_view, name="api-docs"),
    path("", include(router.urls)),
]
