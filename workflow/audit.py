"""Append-only history: the one mechanism behind every audit trail the desk keeps.

A model built on `AppendOnlyModel` (a request's or an incident's events) can be inserted, one row at
a time or in bulk, and read; any attempt to change or delete a row raises `AuditTrailIsAppendOnly`,
whether through the instance (`save()` of a stored row, `delete()`) or the queryset (`update()`,
`delete()`, and so `bulk_update()`). The parent a trail belongs to points at it with
`on_delete=PROTECT`: a cascade deletes with raw SQL and would go round these checks.

Code paths that write SQL themselves (the ingest batch's `alerts.bulk`) only ever insert.
"""

from __future__ import annotations

from django.db import models

__all__ = ["AuditTrailIsAppendOnly", "AppendOnlyQuerySet", "AppendOnlyModel"]


class AuditTrailIsAppendOnly(Exception):
    """Raised on any attempt to change or delete an audit entry."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditTrailIsAppendOnly("The audit trail cannot be changed.")

    def delete(self):
        raise AuditTrailIsAppendOnly("The audit trail cannot be deleted.")


class AppendOnlyModel(models.Model):
    """An audit row: written once, never changed, never deleted."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AuditTrailIsAppendOnly("The audit trail cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditTrailIsAppendOnly("The audit trail cannot be deleted.")
