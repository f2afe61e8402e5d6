from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = _("Alerts and incidents")

    def ready(self) -> None:
        # The audit recorder and the scoping rules of this app.
        from alerts import handlers, scoping  # noqa: F401

        handlers.register()
        # Its part of the demo (`seed_org --scale demo`): the module registers itself.
        from alerts import demo  # noqa: F401
