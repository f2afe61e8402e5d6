"""Celery entry points: take an id, call a service. Late acknowledgement everywhere, so a worker
killed mid-task leaves the message on the broker and another worker finishes it."""

from __future__ import annotations

from celery import shared_task

from opsdesk.notifications import conf, services

__all__ = ["deliver_notification", "fan_out_notice", "dispatch_due_notifications", "check_sla_clocks", "advance_escalations"]


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_notification(notification_id: int) -> str:
    """Deliver one notification. Retries (exponential back-off, from the row's attempt count) and
    the next message to the same address are enqueued as fresh tasks by the service's outcome."""
    outcome = services.notification_deliver(notification_id=notification_id)
    for pk, countdown in outcome.follow_ups:
        if pk == notification_id and conf.is_eager():
            continue  # in-process mode has no timer: the dispatcher (beat) or a resend picks it up
        services.enqueue_delivery(pk, countdown=countdown)
    return outcome.status


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def fan_out_notice(notice_id: int) -> int:
    """Turn one event's notice into per-recipient notifications (their deliveries follow on commit)."""
    return services.notice_fan_out(notice_id=notice_id)


@shared_task(acks_late=True, ignore_result=True)
def dispatch_due_notifications() -> int:
    """Beat: the outbox relay (released holds, lost tasks, dead workers' sends)."""
    return services.notifications_dispatch_due()


@shared_task(acks_late=True, ignore_result=True)
def check_sla_clocks() -> dict:
    """Beat: near-breach and breach announcements, automatic escalation."""
    from opsdesk.notifications import sla

    return sla.sla_check_all()


@shared_task(acks_late=True, ignore_result=True)
def advance_escalations() -> int:
    """Beat: fire due escalation steps of unacknowledged incidents."""
    from opsdesk.notifications import escalation

    return escalation.escalations_advance_due()
