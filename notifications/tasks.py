"""Celery entry points: take an id, call a service. Late acknowledgement everywhere, so a worker
killed mid-task leaves the message on the broker and another worker finishes it."""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_process_shutdown

from notifications import delivery, retention, services
from notifications.backends import close_backends

__all__ = ["deliver_due_notifications", "deliver_notification", "fan_out_notice", "dispatch_due_notifications",
           "purge_delivered_notifications"]

# Task names are pinned: they are what the broker holds, so moving a module must not rename them.
# The `opsdesk.notifications.tasks.*` names are the ones used before the app left the `opsdesk`
# package; messages already queued under them still run (aliases below, kept for one release).
OLD_PREFIX = "opsdesk.notifications.tasks."


@shared_task(name="notifications.tasks.deliver_due", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_due_notifications() -> dict:
    """A wake-up: claim and send due messages in batches until none is due (notifications/delivery.py)."""
    return dict(delivery.deliver_due().counts)


@shared_task(name="notifications.tasks.deliver_notification", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def deliver_notification(notification_id: int) -> dict:
    """The one-message task of before batched delivery: messages queued under it still wake delivery."""
    return dict(delivery.deliver_due().counts)


@shared_task(name="notifications.tasks.fan_out_notice", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def fan_out_notice(notice_id: int) -> int:
    """Turn one event's notice into per-recipient notifications (their delivery is woken on commit)."""
    return services.notice_fan_out(notice_id=notice_id)


@shared_task(name="notifications.tasks.dispatch_due_notifications", acks_late=True, ignore_result=True)
def dispatch_due_notifications() -> int:
    """Beat: the outbox relay (released holds, lost wake-ups, dead workers' sends), and the delivery
    receipts waiting on this worker's SMPP bind."""
    delivery.collect_receipts()
    return services.notifications_dispatch_due()


@shared_task(name="notifications.tasks.purge_delivered_notifications", acks_late=True, ignore_result=True)
def purge_delivered_notifications() -> int:
    """Beat, once a day: delete delivered notifications past OPSDESK_RETENTION_NOTIFICATIONS_DAYS."""
    return retention.notifications_purge()


@worker_process_shutdown.connect
def _close_connections(**kwargs) -> None:
    close_backends()  # unbind from the SMSC politely, close kept-alive HTTP connections


# --- aliases for messages queued before the move (remove in the release after next) -------------

@shared_task(name=OLD_PREFIX + "deliver_notification", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def deliver_notification_old_name(notification_id: int) -> dict:
    return deliver_notification(notification_id)


@shared_task(name=OLD_PREFIX + "fan_out_notice", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def fan_out_notice_old_name(notice_id: int) -> int:
    return fan_out_notice(notice_id)


@shared_task(name=OLD_PREFIX + "dispatch_due_notifications", acks_late=True, ignore_result=True)
def dispatch_due_notifications_old_name() -> int:
    return dispatch_due_notifications()
