"""Retention of the notification history: after OPSDESK_RETENTION_NOTIFICATIONS_DAYS, delivered
messages are deleted.

Delivered means sent, or merged into a digest that was itself sent (or is gone). Queued, sending
and failed-and-retrying rows are the outbox's work still to do; dead ones were never delivered and
an operator may still send them again (`notification_resend`), so both stay whatever their age.
Nothing else points at a notification except the merged rows of a digest (`merged_into`, SET NULL).
Pending notices are the fan-out's queue, not history: they are not touched.

Each batch is one short transaction. Deleting a digest also unlinks its merged rows, which another
purge may be deleting at the same moment, so on PostgreSQL a batch takes a transaction-level
advisory lock first: two purges at once (two beat machines, a manual run) take turns batch by
batch, never deadlock, and a deleted row no longer matches, so nothing is done twice.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from notifications.models import Notification, NotificationStatus
from opsdesk.batches import in_batches

__all__ = ["notifications_expired", "notifications_purge"]

logger = logging.getLogger(__name__)

PURGE_LOCK_KEY = 0x0A1E_0016  # pg_advisory_xact_lock key of one purge batch


def notifications_expired(*, now: dt.datetime | None = None, days: int | None = None) -> QuerySet[Notification]:
    """Delivered notifications older than the retention (empty when days is 0)."""
    days = settings.OPSDESK_RETENTION_NOTIFICATIONS_DAYS if days is None else days
    if days <= 0:
        return Notification.objects.none()
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    delivered = Q(status=NotificationStatus.SENT) | Q(
        Q(merged_into__isnull=True) | Q(merged_into__status=NotificationStatus.SENT),
        status=NotificationStatus.MERGED)
    return Notification.objects.order_by().filter(delivered, created_at__lt=cutoff)


def notifications_purge(*, now: dt.datetime | None = None, days: int | None = None, batch_size: int | None = None,
                        dry_run: bool = False) -> int:
    """Delete expired delivered notifications, batch by batch; returns how many were (with
    dry_run: would be) deleted."""
    def delete(pks: list) -> int:
        # Merged rows younger than the cut-off lose their link to the digest (SET NULL), not their row.
        return Notification.objects.filter(pk__in=pks).delete()[1].get(Notification._meta.label, 0)

    # SKIP LOCKED (in_batches): a row the delivery pipeline holds right now waits for tomorrow's run.
    deleted = in_batches(notifications_expired(now=now or timezone.now(), days=days), delete,
                         batch_size=batch_size, dry_run=dry_run, before_claim=_lock_purge)
    if deleted and not dry_run:
        logger.info("retention: deleted %d delivered notifications", deleted)
    return deleted


def _lock_purge() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PURGE_LOCK_KEY])
