from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from opsdesk import views
from opsdesk.metrics import metrics_view

# A database that drops away answers 503 with Retry-After, not a bare 500 (see views.server_error).
handler500 = "opsdesk.views.server_error"

admin.site.site_header = _("OpsDesk administration")
admin.site.site_title = _("OpsDesk")
admin.site.index_title = _("Administration")

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("tickets/", include("tickets.urls")),
    path("alerts/", include("alerts.urls")),
    path("reports/", include("reports.urls")),
    path("notifications/", include("notifications.urls")),
    path("api/", include("opsdesk.api.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]
