from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    label = "reports"
    verbose_name = _("Statistics")

    def ready(self) -> None:
        # The statistics subscribe to transition events; their scoping rules.
        from reports import handlers, scoping  # noqa: F401
