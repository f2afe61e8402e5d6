"""Logging filters the LOGGING setting names (imported while settings load: no models here)."""

from __future__ import annotations

import logging

__all__ = ["ClientErrorTracebackFilter"]


class ClientErrorTracebackFilter(logging.Filter):
    """django.request logs a refused request (403, 400) with the exception's traceback, so every
    PermissionDenied printed a stack trace to the console as if the desk had failed. A 4xx keeps its
    one warning line; only a 5xx keeps the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
