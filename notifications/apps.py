from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Registers this app's scoping rules with opsdesk.scoping.
        from notifications import scoping  # noqa: F401
