"""Celery entry points of the alert app: take ids, call services. (Queue: "alerts", opsdesk/celery.py.)

Mail is read by the long-lived `poll_alerts` process, not by tasks: IDLE needs a connection that
stays open. Tasks cover the work people start from the admin that may take a while.
"""

from __future__ import annotations

from celery import shared_task

from alerts import escalation, retention, services

__all__ = ["reprocess_message", "advance_escalations", "purge_raw_mail"]


@shared_task(name="alerts.tasks.reprocess_message", acks_late=True)
def reprocess_message(message_pk: int) -> str:
    """Parse a quarantined message again with today's rules (no-op if it is no longer quarantined)."""
    return services.message_reprocess(message_pk=message_pk)


@shared_task(name="alerts.tasks.advance_escalations", acks_late=True, ignore_result=True)
def advance_escalations() -> int:
    """Beat: fire due escalation steps of unacknowledged incidents."""
    return escalation.escalations_advance_due()


@shared_task(name="alerts.tasks.purge_raw_mail", acks_late=True, ignore_result=True)
def purge_raw_mail() -> int:
    """Beat, once a day: drop the raw copy of alert mail past OPSDESK_RETENTION_RAW_MAIL_DAYS."""
    return retention.raw_mail_purge()


# The name this task had while escalation lived in the notifications app; kept one release for
# messages already on the broker.
@shared_task(name="opsdesk.notifications.tasks.advance_escalations", acks_late=True, ignore_result=True)
def advance_escalations_old_name() -> int:
    return advance_escalations()
