"""Bulk writes for an ingest batch.

On PostgreSQL a batch of rows goes in as ONE `INSERT ... SELECT * FROM unnest(array, array, ...)
RETURNING id` statement with one array parameter per column (and changed rows go back as one
`UPDATE ... FROM unnest(...)`): the statement text stays small whatever the batch size.

The arrays are sent bound on the server, in binary (`%b`), on the same database connection and so in
the caller's transaction. Django's cursor binds on the client: it would render every value (raw mail
included) as an SQL literal in Python, and the server would parse it back, which cost more than the
insert itself. Values are prepared per column type in one pass instead of Django's per-value
`get_db_prep_save` chain; anything unusual still goes through Django.

Elsewhere (SQLite for `make run`) it is Django's bulk_create, and one UPDATE per row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime

from django.db import connection, models

__all__ = ["insert_rows", "update_rows", "execute_bound"]

_TEXT_TYPES = {"CharField", "TextField"}
_PLAIN_TYPES = {"IntegerField", "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
                "PositiveSmallIntegerField", "PositiveBigIntegerField", "BooleanField", "FloatField",
                "BinaryField", "AutoField", "BigAutoField"}


def execute_bound(sql: str, params: Sequence) -> list[tuple]:
    """Run one statement with server-side binding (`%b`: binary) in the current transaction; its rows."""
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        # prepare=False: no server-side prepared statements (they break behind a transaction pooler).
        cursor.execute(sql, params, prepare=False)
        return cursor.fetchall() if cursor.description else []


def _converter(field: models.Field) -> Callable | None:
    """A cheap value → database value function for common column types, None: ask Django."""
    kind = field.get_internal_type()
    if field.is_relation:
        target = field.target_field.get_internal_type()
        return (lambda v: v) if target in _PLAIN_TYPES else None
    if kind in _TEXT_TYPES:  # (choices members are str subclasses: sent as their value)
        return lambda v: v if v is None or type(v) is str else str(v)
    if kind in _PLAIN_TYPES:
        return lambda v: v
    if kind == "DateTimeField":
        # Aware datetimes pass as they are; naive ones (or strings) take Django's path and its warning.
        def datetime_value(v, prep=field.get_db_prep_save):
            if v is None or (type(v) is datetime and v.tzinfo is not None):
                return v
            return prep(v, connection)
        return datetime_value
    return None


def _column_values(field: models.Field, objs: Sequence[models.Model], *, adding: bool) -> tuple[list, str, str]:
    """(values, array type, select expression) of one column."""
    qn = connection.ops.quote_name
    if getattr(field, "auto_now", False) or (adding and getattr(field, "auto_now_add", False)):
        values = [field.pre_save(obj, add=adding) for obj in objs]
    else:
        attname = field.attname
        values = [getattr(obj, attname) for obj in objs]
    if field.get_internal_type() == "JSONField":
        return [json.dumps(v, cls=field.encoder) for v in values], "text", f"{qn(field.column)}::jsonb"
    convert = _converter(field)
    if convert is None:
        prepared = [field.get_db_prep_save(v, connection) for v in values]
    else:
        prepared = [convert(v) for v in values]
    return prepared, field.db_type(connection), qn(field.column)


def insert_rows(model: type[models.Model], objs: list[models.Model]) -> None:
    """Insert `objs` and set their primary keys (like bulk_create)."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs)
        return
    for obj in objs:
        # Related objects saved earlier in the batch: copy their new keys into the FK columns.
        obj._prepare_related_fields_for_save(operation_name="insert_rows")
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    params, casts, columns, selects = [], [], [], []
    for field in fields:
        values, db_type, expr = _column_values(field, objs, adding=True)
        params.append(values)
        casts.append(f"%b::{db_type}[]")
        columns.append(qn(field.column))
        selects.append(expr)
    sql = (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(columns)}) "
           f"SELECT {', '.join(selects)} FROM unnest({', '.join(casts)}) AS v({', '.join(columns)}) "
           f"RETURNING {qn(model._meta.pk.column)}")
    ids = [row[0] for row in execute_bound(sql, params)]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def update_rows(model: type[models.Model], objs: list[models.Model], field_names: Sequence[str]) -> None:
    """Write back `field_names` of rows already stored. PostgreSQL: one UPDATE ... FROM unnest(arrays)
    statement. Elsewhere: one UPDATE per row. (Django's bulk_update builds CASE expressions whose size
    grows with rows x fields, which costs far more at a few hundred rows.)"""
    if not objs:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    pk = model._meta.pk
    if connection.vendor == "postgresql":
        params, casts, names, sets = [], [], [], []
        for f in fields:
            values, db_type, expr = _column_values(f, objs, adding=False)
            params.append(values)
            casts.append(f"%b::{db_type}[]")
            names.append(qn(f.column))
            sets.append(f"{qn(f.column)} = v.{expr}")
        params.append([obj.pk for obj in objs])
        casts.append(f"%b::{pk.db_type(connection)}[]")
        names.append("pk__")
        sql = (f"UPDATE {table} AS t SET {', '.join(sets)} FROM unnest({', '.join(casts)}) "
               f"AS v({', '.join(names)}) WHERE t.{qn(pk.column)} = v.pk__")
        execute_bound(sql, params)
        return
    sql = f"UPDATE {table} SET " + ", ".join(f"{qn(f.column)} = %s" for f in fields) + f" WHERE {qn(pk.column)} = %s"
    rows = [[f.get_db_prep_save(f.pre_save(obj, add=False), connection) for f in fields] + [obj.pk] for obj in objs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
