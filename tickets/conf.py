"""Settings of the service-request app, each with its default (settings.py need not name them)."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["auto_close_days"]


def auto_close_days() -> int:
    """Days after which an answered request the teller has not confirmed closes by itself."""
    value = getattr(settings, "OPSDESK_AUTO_CLOSE_DAYS", None)
    if value is None:
        value = os.environ.get("OPSDESK_AUTO_CLOSE_DAYS", "") or 7
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"OPSDESK_AUTO_CLOSE_DAYS: expected a whole number of days, got {value!r}") from None
    if days < 1:
        raise ImproperlyConfigured("OPSDESK_AUTO_CLOSE_DAYS must be at least 1")
    return days
