"""Work through a large queryset in short transactions (retention purges and the like).

One DELETE or UPDATE of a year's rows would hold its locks for minutes; here each batch claims up
to `batch_size` rows with SKIP LOCKED (a row someone holds right now waits for the next run), acts
on them and commits, so two machines may run the same purge at once.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

__all__ = ["in_batches"]


def in_batches(expired: QuerySet, act: Callable[[list], int], *, batch_size: int | None = None,
               dry_run: bool = False, before_claim: Callable[[], None] | None = None) -> int:
    """Call `act(pks)` on batches of `expired` until none is left; returns the sum of what `act`
    returned (with dry_run: how many rows `expired` holds, and nothing is done)."""
    if dry_run:
        return expired.count()
    batch_size = batch_size or settings.OPSDESK_RETENTION_BATCH_SIZE
    done = 0
    while True:
        with transaction.atomic():
            if before_claim is not None:
                before_claim()
            pks = list(expired.select_for_update(skip_locked=True, of=("self",))
                       .values_list("pk", flat=True)[:batch_size])
            if not pks:
                return done
            done += act(pks)
