"""The REST API: one router; every app adds its endpoints through its `api/routes.py`."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from alerts.api import routes as alert_routes
from notifications.api import routes as notification_routes
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

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
]
