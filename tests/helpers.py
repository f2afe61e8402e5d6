"""Small helpers shared by every test package (fixtures live in the conftest files)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["wait_for"]


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, message: str | Callable[[], str] = "condition",
             interval: float = 0.05) -> Any:
    """Poll `predicate` until it is truthy (and return its value) or the deadline passes; no fixed
    sleeps in tests. `message` says what was awaited; a callable is asked only on timeout, so it
    can describe the state at that moment."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            what = message() if callable(message) else message
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
