"""Celery entry points of the statistics app's layer: folding pending counts in, and the daily purge of what
no app owns."""

from __future__ import annotations

from celery import shared_task

from reports import retention, services

__all__ = ["purge_expired_sessions", "fold_tallies"]


@shared_task(name="reports.tasks.fold_tallies", acks_late=True, ignore_result=True)
def fold_tallies() -> int:
    """Woken after a transition commits, and by beat: add pending tallies to the statistics."""
    return services.tallies_fold()


@shared_task(name="reports.tasks.purge_expired_sessions", acks_late=True, ignore_result=True)
def purge_expired_sessions() -> int:
    """Beat, once a day: delete sessions past their expiry (unless OPSDESK_RETENTION_EXPIRED_SESSIONS is off)."""
    (report,) = retention.purge_expired(kinds=("sessions",))
    return report.rows or 0
