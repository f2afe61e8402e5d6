"""The alert app's settings, each readable from Django settings or the environment, with defaults."""

from __future__ import annotations

import os

from django.conf import settings

__all__ = ["setting"]

DEFAULTS = {
    # Incident folding (the corpus's sequences.json assumes these values).
    "OPSDESK_INCIDENT_REOPEN_WINDOW_MINUTES": 60,
    "OPSDESK_INCIDENT_FLAP_CHANGES": 4,
    "OPSDESK_INCIDENT_FLAP_WINDOW_MINUTES": 30,
    # Maintenance windows: the longest one (hours, at most 720 = 30 days), and the longest one over every
    # host (no host, system or check named), which only an administrator may open (alerts/silencing.py).
    "OPSDESK_SILENCE_MAX_HOURS": 720,
    "OPSDESK_SILENCE_WILDCARD_MAX_HOURS": 4,
    # Storage limits for what arrives.
    "OPSDESK_ALERT_RAW_MAX_BYTES": 8 * 1024 * 1024,
    "OPSDESK_ALERT_ATTACHMENT_MAX_BYTES": 1024 * 1024,
    "OPSDESK_ALERT_ATTACHMENTS_PER_MESSAGE": 10,
    # Parsing in worker processes for large batches (0 = in the poller process).
    "OPSDESK_ALERT_PARSE_WORKERS": 0,
    "OPSDESK_ALERT_PARSE_POOL_MIN_BATCH": 64,
    # Maildir drop folder scan interval (seconds).
    "OPSDESK_ALERT_MAILDIR_INTERVAL": 0.5,
    # After IMAP IDLE reports new mail, gather more for this long before reading (seconds): at a burst's
    # 20 mails a second the poller reads them four at a time instead of one by one (0: read at once).
    "OPSDESK_ALERT_IMAP_GATHER": 0.2,
    # Reconnect backoff for IMAP (seconds).
    "OPSDESK_ALERT_BACKOFF_MIN": 1.0,
    "OPSDESK_ALERT_BACKOFF_MAX": 60.0,
    # Redis for the mailbox lock when the database is not PostgreSQL (empty: a local file lock).
    "OPSDESK_ALERT_LOCK_REDIS_URL": "",
}


def setting(name: str):
    """Django settings first, then the environment, then the default (typed like the default)."""
    default = DEFAULTS[name]
    if hasattr(settings, name):
        return getattr(settings, name)
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(default, bool):
        return raw.lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw
