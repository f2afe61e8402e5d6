from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Service requests")

    def ready(self) -> None:
        # The audit recorder, the transition subscribers and the scoping rules of this app.
        from tickets import handlers, scoping  # noqa: F401

        handlers.register()
        # Its part of the demo (`seed_org --scale demo`): the module registers itself.
        from tickets import demo  # noqa: F401
