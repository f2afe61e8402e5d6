from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "opsdesk.audit"
    label = "audit"
    verbose_name = _("Security audit")

    def ready(self) -> None:
        # Connects the sign-in, lockout and account-change signals to the audit.
        from opsdesk.audit import handlers  # noqa: F401
