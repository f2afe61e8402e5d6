"""Celery entry points of the service-request app: take plain values, call a service."""

from __future__ import annotations

from celery import shared_task

from tickets import services, sla

__all__ = ["auto_close_answered_requests", "check_sla_clocks"]


@shared_task(name="tickets.tasks.auto_close_answered_requests", acks_late=True, ignore_result=True)
def auto_close_answered_requests() -> int:
    """Beat: close answered requests the teller has not confirmed within OPSDESK_AUTO_CLOSE_DAYS."""
    return services.requests_auto_close_stale()


@shared_task(name="tickets.tasks.check_sla_clocks", acks_late=True, ignore_result=True)
def check_sla_clocks() -> dict:
    """Beat: near-breach and breach announcements, automatic escalation."""
    return sla.sla_check_all()


# The name this task had while SLA lived in the notifications app; kept one release for messages
# already on the broker.
@shared_task(name="opsdesk.notifications.tasks.check_sla_clocks", acks_late=True, ignore_result=True)
def check_sla_clocks_old_name() -> dict:
    return check_sla_clocks()
