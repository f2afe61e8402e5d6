"""Start-up checks: a bad setting, a missing database or broker is reported in one line naming the setting.

The engineer woken at 3 a.m. should read "DATABASE_URL: cannot connect …", not a stack trace.
manage.py runs through run_with_clear_errors; gunicorn (opsdesk/wsgi.py) and Celery
(opsdesk/celery.py) load the settings inside exit_on_configuration_error.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["run_with_clear_errors", "exit_on_configuration_error", "check_database", "check_broker",
           "ServiceUnavailable"]

CONFIGURATION_ERROR = 2

# Commands that start long-running processes check their services before they start.
SERVING_COMMANDS = {"runserver", "poll_alerts", "migrate", "seed_org"}


class ServiceUnavailable(Exception):
    """A configured service cannot be reached; the message names the setting."""


def check_database() -> None:
    from django.db import connection
    from django.db.utils import OperationalError

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise ServiceUnavailable(f"DATABASE_URL: cannot connect to the database ({first_line})") from None


def check_broker() -> None:
    from django.conf import settings

    if not settings.CELERY_BROKER_URL:
        return
    # The project's Celery app (opsdesk/__init__ makes it current), without importing the roof.
    from celery import current_app

    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:  # kombu raises transport-specific errors
        raise ServiceUnavailable(f"CELERY_BROKER_URL: cannot connect to the broker ({exc})") from None


@contextmanager
def exit_on_configuration_error(exit_code: int = CONFIGURATION_ERROR) -> Iterator[None]:
    """A bad setting (ImproperlyConfigured, whose message names it) ends the process in one line."""
    from django.core.exceptions import ImproperlyConfigured

    try:
        yield
    except ImproperlyConfigured as exc:
        print(f"opsdesk: configuration error: {exc}", file=sys.stderr)
        sys.exit(exit_code)


def run_with_clear_errors(argv: list[str]) -> None:
    try:
        with exit_on_configuration_error():
            import django

            django.setup()
            if len(argv) > 1 and argv[1] in SERVING_COMMANDS:
                check_database()
                check_broker()
            from django.core.management import execute_from_command_line

            execute_from_command_line(argv)
    except ServiceUnavailable as exc:
        print(f"opsdesk: {exc}", file=sys.stderr)
        sys.exit(3)
