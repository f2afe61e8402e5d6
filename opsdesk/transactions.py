"""Work after the current transaction commits, asked for by many steps but done once."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection, transaction

__all__ = ["on_commit_once"]


def on_commit_once(func: Callable[[], None]) -> None:
    """Run `func` once the current transaction commits, however many times it is asked for within
    that transaction (a burst of 50 hand-offs wakes delivery once, not 50 times); outside a
    transaction, now. A savepoint rolled back drops its callbacks, so asking again after one is kept."""
    if not connection.in_atomic_block:
        func()
        return
    if any(entry[1] is func for entry in connection.run_on_commit):
        return
    transaction.on_commit(func)
