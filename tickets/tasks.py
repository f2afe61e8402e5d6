"""Celery entry points of the service-request app: take plain values, call a service."""

from __future__ import annotations

from celery import shared_task

from tickets import services

__all__ = ["auto_close_answered_requests"]


@shared_task(acks_late=True, ignore_result=True)
def auto_close_answered_requests() -> int:
    """Beat: close answered requests the teller has not confirmed within OPSDESK_AUTO_CLOSE_DAYS."""
    return services.requests_auto_close_stale()
