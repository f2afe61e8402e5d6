from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Its scoping rules (registered with opsdesk.scoping) and its part of the demo (`seed_org --scale
        # demo`): each module registers itself.
        from notifications import demo, scoping  # noqa: F401
