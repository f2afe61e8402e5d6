from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "opsdesk.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        # Registers this app's scoping rules with opsdesk.scoping.
        from opsdesk.org import scoping  # noqa: F401
