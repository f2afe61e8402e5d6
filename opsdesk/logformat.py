"""One JSON object per log line, for log shippers (OPSDESK_LOG_FORMAT=json; settings, "Logging").

A few lines of our own rather than a dependency: the fields are few and fixed, and the locked,
offline wheelhouse stays as it is. Every line carries `time` (ISO 8601 with the offset), `level`,
`logger`, `message` and `process`; a record about an HTTP request (Django's `django.request` and
`django.security.*` loggers attach it; gunicorn's access log passes its atoms) adds `request`
{method, path, status}; an exception adds `exception` (its class) and `traceback`. The Host is never read (`request.get_host()` raises
for a refused Host, which is what some of these records are about). Text stays UTF-8, not \\u
escapes: the desk logs Chinese.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

__all__ = ["JsonFormatter"]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "method"):
            line["request"] = {"method": request.method, "path": getattr(request, "path", ""),
                               "status": getattr(record, "status_code", None)}
        elif record.name == "gunicorn.access" and isinstance(record.args, dict):
            # gunicorn's access log passes its atoms: peer, method, path, status, seconds.
            atoms = record.args
            line["request"] = {"method": atoms.get("m"), "path": atoms.get("U"), "status": _int(atoms.get("s")),
                               "remote": atoms.get("h"), "seconds": _float(atoms.get("L"))}
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__
            line["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["traceback"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
