"""The security audit: who signed in, failed, was locked out or signed out, whose roles and permissions
changed, and every request of the break-glass superuser. Append-only: PostgreSQL itself refuses an
UPDATE or DELETE of these rows (a pgtrigger Protect trigger); nothing purges them.

Configuration changes (before/after values) are django-pghistory's event tables, registered in each
app's models; the audit page reads both (`opsdesk/audit/selectors.py`).
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["SecurityEventKind", "SecurityEvent"]


class SecurityEventKind(models.TextChoices):
    LOGIN = "login", _("Login")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOCKOUT = "lockout", _("Lockout")
    LOGOUT = "logout", _("Logout")
    ROLE_CHANGE = "role_change", _("Role change")
    PERMISSION_CHANGE = "permission_change", _("Permission change")
    UNLOCK = "unlock", _("Unlock")
    DEVICE_RESET = "device_reset", _("Second-factor reset")
    SUPERUSER_USED = "superuser_used", _("Superuser used")


class SecurityEvent(models.Model):
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=30, choices=SecurityEventKind.choices, db_index=True)
    success = models.BooleanField(_("success"), default=True)
    # Who acted. No database constraint and no cascade: an audit row outlives the account it names
    # (and a cascade would be an UPDATE or DELETE, which the trigger refuses).
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                              on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    # The name as typed or as it was then, so a failed login for an unknown name is still recorded.
    username = models.CharField(_("user name"), max_length=150, blank=True, db_index=True)
    target = models.CharField(_("concerning"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        ordering = ["-at", "-pk"]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} {self.username}"
