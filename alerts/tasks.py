"""Celery entry points of the alert app: take ids, call services. (Queue: "alerts", opsdesk/celery.py.)

Mail is read by the long-lived `poll_alerts` process, not by tasks: IDLE needs a connection that
stays open. Tasks cover the work people start from the admin that may take a while.
"""

from __future__ import annotations

from celery import shared_task

from alerts import services

__all__ = ["reprocess_message"]


@shared_task(acks_late=True)
def reprocess_message(message_pk: int) -> str:
    """Parse a quarantined message again with today's rules (no-op if it is no longer quarantined)."""
    return services.message_reprocess(message_pk=message_pk)
