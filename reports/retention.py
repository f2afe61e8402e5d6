"""The daily purge, all kinds together: `manage.py purge_expired` and the beat tasks call these.

This sits in the highest app layer because it is the one place that needs every app's retention
service (alerts, notifications) and Django's sessions, which belong to no app of ours. Beat runs
each kind as its own task (`alerts.tasks.purge_raw_mail`, `notifications.tasks.purge_delivered_notifications`,
`reports.tasks.purge_expired_sessions`), so one kind failing does not hold up the others.

The audit trails are not a kind and never will be: request and incident events, rule changes and
the workflow's records are append-only and kept for as long as the database lives.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.utils import timezone

from alerts.retention import raw_mail_purge
from notifications.retention import notifications_purge
from opsdesk.batches import in_batches
from opsdesk.org.authentication import expired_tokens_purge

__all__ = ["KINDS", "PurgeReport", "purge_expired", "sessions_purge"]

log = logging.getLogger("opsdesk.retention")

KINDS = ("raw_mail", "notifications", "sessions")


@dataclass(frozen=True)
class PurgeReport:
    kind: str
    keep: str  # the retention in force, as the operator configured it
    rows: int | None  # None: the session backend does not count what it clears
    dry_run: bool

    def line(self) -> str:
        if self.keep == "forever":
            return f"{self.kind}: kept forever (retention 0), nothing purged"
        if self.rows is None:
            return f"{self.kind}: expired entries cleared by the session backend (not counted)"
        verb = "would be purged" if self.dry_run else "purged"
        return f"{self.kind}: {self.rows} rows {verb} (keep {self.keep})"


def sessions_purge(*, now: dt.datetime | None = None, batch_size: int | None = None,
                   dry_run: bool = False) -> int | None:
    """Delete sessions past their expiry date: Django's `clearsessions`, but in batches for the
    database backends (one DELETE of a year of sessions would hold its locks for minutes); and the
    API tokens past theirs (the sign-ins of scripts and apps)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):  # file or cache sessions: the backend knows how
        expired_tokens_purge(now=now, dry_run=dry_run)
        if not dry_run:
            store.clear_expired()
        return None
    model = store.get_model_class()
    expired = model.objects.order_by().filter(expire_date__lt=now or timezone.now())
    return in_batches(expired, lambda keys: model.objects.filter(pk__in=keys).delete()[0],
                      batch_size=batch_size, dry_run=dry_run) + expired_tokens_purge(now=now, dry_run=dry_run)


def purge_expired(*, kinds: tuple[str, ...] = KINDS, dry_run: bool = False,
                  now: dt.datetime | None = None) -> list[PurgeReport]:
    """Purge (or with dry_run count) every kind past its retention, in the order of `KINDS`."""
    now = now or timezone.now()
    reports = []
    for kind in KINDS:
        if kind not in kinds:
            continue
        if kind == "raw_mail":
            days = settings.OPSDESK_RETENTION_RAW_MAIL_DAYS
            rows = raw_mail_purge(now=now, days=days, dry_run=dry_run) if days else 0
            keep = f"{days} days" if days else "forever"
        elif kind == "notifications":
            days = settings.OPSDESK_RETENTION_NOTIFICATIONS_DAYS
            rows = notifications_purge(now=now, days=days, dry_run=dry_run) if days else 0
            keep = f"{days} days" if days else "forever"
        else:
            enabled = settings.OPSDESK_RETENTION_EXPIRED_SESSIONS
            rows = sessions_purge(now=now, dry_run=dry_run) if enabled else 0
            keep = "until expiry" if enabled else "forever"
        report = PurgeReport(kind=kind, keep=keep, rows=rows, dry_run=dry_run)
        log.info("retention: %s", report.line())
        reports.append(report)
    return reports
