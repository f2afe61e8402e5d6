"""Small helpers shared by every test package (fixtures live in the conftest files)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

__all__ = ["wait_for", "DatabaseOutage"]


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


class DatabaseOutage:
    """The database drops away, as the desk sees a PostgreSQL restart: `begin()` terminates the given
    server process (that connection breaks) and points new connections at a port nothing listens on,
    so they are refused until `end()`. Works from any thread: every thread's connection reads the
    same settings dict."""

    def __init__(self):
        from django.db import connection

        self.settings = connection.settings_dict
        self.port = self.settings["PORT"]

    def begin(self, *, terminate_pid: int | None = None) -> None:
        if terminate_pid is not None:
            import psycopg

            s = self.settings
            with psycopg.connect(host=s["HOST"], port=self.port, user=s["USER"], password=s["PASSWORD"],
                                 dbname=s["NAME"], autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(%s)", [terminate_pid])
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        self.settings["PORT"] = str(closed_port)

    def end(self) -> None:
        self.settings["PORT"] = self.port
