"""Celery entry points: take an id, call a service. Late acknowledgement everywhere, so a worker
killed mid-task leaves the message on the broker and another worker finishes it."""

from __future__ import annotations

from celery import shared_task

from notifications import conf, retention, services

__all__ = ["deliver_notification", "fan_out_notice", "dispatch_due_notifications", "purge_delivered_notifications"]

# Task names are pinned: they are what the broker holds, so moving a module must not rename them.
# The `opsdesk.notifications.tasks.*` names are the ones used before the app left the `opsdesk`
# package; messages already queued under them still run (aliases below, kept for one release).
OLD_PREFIX = "opsdesk.notifications.tasks."


@shared_task(name="notifications.tasks.deliver_notification", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def deliver_notification(notification_id: int) -> str:
    """Deliver one notification. Retries (exponential back-off, from the row's attempt count) and
    the next message to the same address are enqueued as fresh tasks by the service's outcome."""
    outcome = services.notification_deliver(notification_id=notification_id)
    for pk, countdown in outcome.follow_ups:
        if pk == notification_id and conf.is_eager():
            continue  # in-process mode has no timer: the dispatcher (beat) or a resend picks it up
        services.enqueue_delivery(pk, countdown=countdown)
    return outcome.status


@shared_task(name="notifications.tasks.fan_out_notice", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def fan_out_notice(notice_id: int) -> int:
    """Turn one event's notice into per-recipient notifications (their deliveries follow on commit)."""
    return services.notice_fan_out(notice_id=notice_id)


@shared_task(name="notifications.tasks.dispatch_due_notifications", acks_late=True, ignore_result=True)
def dispatch_due_notifications() -> int:
    """Beat: the outbox relay (released holds, lost tasks, dead workers' sends)."""
    return services.notifications_dispatch_due()


@shared_task(name="notifications.tasks.purge_delivered_notifications", acks_late=True, ignore_result=True)
def purge_delivered_notifications() -> int:
    """Beat, once a day: delete delivered notifications past OPSDESK_RETENTION_NOTIFICATIONS_DAYS."""
    return retention.notifications_purge()


# --- aliases for messages queued before the move (remove in the release after next) -------------

@shared_task(name=OLD_PREFIX + "deliver_notification", acks_late=True, reject_on_worker_lost=True,
             ignore_result=True)
def deliver_notification_old_name(notification_id: int) -> str:
    return deliver_notification(notification_id)


@shared_task(name=OLD_PREFIX + "fan_out_notice", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def fan_out_notice_old_name(notice_id: int) -> int:
    return fan_out_notice(notice_id)


@shared_task(name=OLD_PREFIX + "dispatch_due_notifications", acks_late=True, ignore_result=True)
def dispatch_due_notifications_old_name() -> int:
    return dispatch_due_notifications()
