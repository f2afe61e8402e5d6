"""HTTP alert sources (Alertmanager, generic JSON), each with its own token."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from alerts.choices import WebhookKind
from opsdesk.audit.history import track_configuration

__all__ = ["WebhookSource", "new_token", "token_digest"]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@track_configuration(fields=["name", "slug", "kind", "enabled"])
class WebhookSource(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("URL name"), max_length=50, unique=True,
                            help_text=_("The source posts to /alerts/webhooks/<URL name>/"))
    kind = models.CharField(_("format"), max_length=20, choices=WebhookKind.choices)
    # Only a digest is stored; the token itself is shown once when it is set.
    token_hash = models.CharField(max_length=64, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    last_received_at = models.DateTimeField(_("last received"), null=True, blank=True, editable=False)
    received_count = models.PositiveBigIntegerField(_("deliveries"), default=0, editable=False)

    class Meta:
        verbose_name = _("webhook source")
        verbose_name_plural = _("webhook sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def set_token(self, token: str | None = None) -> str:
        token = token or new_token()
        self.token_hash = token_digest(token)
        return token

    def token_matches(self, token: str) -> bool:
        return bool(token) and secrets.compare_digest(self.token_hash, token_digest(token))
