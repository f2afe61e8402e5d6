"""Celery entry points of the statistics app's layer: the daily purge of what no app owns."""

from __future__ import annotations

from celery import shared_task

from reports import retention

__all__ = ["purge_expired_sessions"]


@shared_task(name="reports.tasks.purge_expired_sessions", acks_late=True, ignore_result=True)
def purge_expired_sessions() -> int:
    """Beat, once a day: delete sessions past their expiry (unless OPSDESK_RETENTION_EXPIRED_SESSIONS is off)."""
    (report,) = retention.purge_expired(kinds=("sessions",))
    return report.rows or 0
