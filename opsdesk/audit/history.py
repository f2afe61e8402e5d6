"""Configuration history: `track_configuration` registers a model with django-pghistory, which keeps
every insert, update and delete of its rows (before/after values) in an event table written by a
PostgreSQL trigger, with the request's person and address (`AuditMiddleware`). The event tables are
append-only (`PGHISTORY_APPEND_ONLY`) and nothing purges them.

On the embedded SQLite default no trigger exists: the tables stay empty (README, "Security audit").
Secrets are never copied into the history: pass their field names in `exclude`.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid

import pghistory
import pgtrigger
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

__all__ = ["track_configuration", "append_only_trigger", "history_context"]


# The tracked models: only writes to their tables need the request's context.
_TRACKED: list[type] = []


def track_configuration(**kwargs):
    """Class decorator for a configuration model, e.g. `@track_configuration(exclude=["password"])`."""
    def decorator(model):
        _TRACKED.append(model)
        options = {"model_name": f"{model.__name__}Event", **kwargs}
        return pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(),
                               **options)(model)

    return decorator


def append_only_trigger() -> pgtrigger.Protect:
    """For a model's `Meta.triggers`: PostgreSQL refuses every UPDATE and DELETE of its rows, whoever
    connects (the desk, a shell, psql with the desk's account). Nothing on SQLite."""
    return pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)


# --- Who and from where, for the triggers ------------------------------------------------------------
# pghistory's own `pghistory.context()` prepends `SELECT set_config(...);` to every write, a second
# command in the same statement, which PostgreSQL refuses for statements with server-side bound
# parameters (the desk's default, opsdesk/config.py). Here the context is set by a statement of its own,
# transaction-local, right before each write, in the write's transaction (opened for it in autocommit).
WRITES = ("insert", "update", "delete", "with", "merge")
SET_CONTEXT = ("SELECT set_config('pghistory.context_id', %s, true), "
               "set_config('pghistory.context_metadata', %s, true)")


@contextlib.contextmanager
def history_context(metadata):
    """Attach `metadata()` (user, ip, url; asked at each write, so a caller the API authenticates later
    is named) to every configuration change written meanwhile. PostgreSQL only."""
    context_id = str(uuid.uuid4())

    tracked = _tracked_tables()

    def attach(execute, sql, params, many, context):
        text = sql.decode() if isinstance(sql, bytes) else sql
        # A statement that writes no tracked table (a service request, an alert) needs no context: its
        # round trip would double the cost of every business write.
        if not text.lstrip().lower().startswith(WRITES) or not _writes_tracked(text, tracked):
            return execute(sql, params, many, context)
        db = context["connection"]
        values = [context_id, json.dumps(metadata(), cls=DjangoJSONEncoder)]
        if db.in_atomic_block:
            context["cursor"].execute(SET_CONTEXT, values)
            return execute(sql, params, many, context)
        with transaction.atomic(using=db.alias):
            context["cursor"].execute(SET_CONTEXT, values)
            return execute(sql, params, many, context)

    with connection.execute_wrapper(attach):
        yield


WRITTEN_TABLE = re.compile(r'^\s*(?:insert\s+into|update|delete\s+from)\s+("[^"]+"|\w+)', re.IGNORECASE)


def _writes_tracked(text: str, tracked: tuple[str, ...]) -> bool:
    """Whether the statement may write a tracked table: the table an INSERT, UPDATE or DELETE names
    (a subquery reading org_unit does not count); any mention for the rest (WITH, MERGE)."""
    match = WRITTEN_TABLE.match(text)
    if match:
        table = match.group(1)
        return (table if table.startswith('"') else f'"{table}"') in tracked
    return any(table in text for table in tracked)


def _tracked_tables() -> tuple[str, ...]:
    return tuple(connection.ops.quote_name(model._meta.db_table) for model in _TRACKED)
