from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from opsdesk import views
from opsdesk.metrics import metrics_view
from opsdesk.org import admin_two_factor, authentication, views_two_factor
from opsdesk.org.admin_labels import install_admin_labels

# A database that drops away answers 503 with Retry-After, not a bare 500 (see views.server_error).
handler500 = "opsdesk.views.server_error"
# Chinese 4xx pages inside the site's layout (JSON under /api/), not Django's bare English ones.
handler400 = "opsdesk.views.bad_request"
handler403 = "opsdesk.views.permission_denied"
handler404 = "opsdesk.views.page_not_found"

admin.site.site_header = _("OpsDesk administration")
admin.site.site_title = _("OpsDesk")
admin.site.index_title = _("Administration")
# knox's own token admin shows a newly issued token to the administrator: replaced by a read-only one.
authentication.install_token_admin(admin.site)
# django-otp's device admins show keys and QR codes: replaced by read-only ones (reset = delete).
admin_two_factor.install_device_admin(admin.site)
# knox's, axes' and django-otp's apps and models named in the desk's words (not marked for translation there).
install_admin_labels(admin.site)

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", authentication.LogoutView.as_view(), name="logout"),
    path("accounts/password/", authentication.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", authentication.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # The second factor after the password (opsdesk/org/two_factor_middleware.py sends people here).
    path("accounts/two-factor/", views_two_factor.verify, name="two_factor_verify"),
    path("accounts/two-factor/enrol/", views_two_factor.enrol, name="two_factor_enrol"),
    path("accounts/two-factor/recovery-codes/", views_two_factor.recovery_codes, name="two_factor_recovery_codes"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("tickets/", include("tickets.urls")),
    path("alerts/", include("alerts.urls")),
    path("reports/", include("reports.urls")),
    path("notifications/", include("notifications.urls")),
    path("audit/", include("opsdesk.audit.urls")),
    path("api/", include("opsdesk.api.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]
