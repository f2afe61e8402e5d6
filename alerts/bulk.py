"""Bulk writes for an ingest batch.

On PostgreSQL a batch of rows goes in as ONE `INSERT ... SELECT * FROM unnest(array, array, ...)
RETURNING id` statement with one array parameter per column: the statement text stays small
whatever the batch size (Django's bulk_create writes one placeholder per value, and building and
parsing a query of tens of thousands of placeholders costs more than the insert itself).
Elsewhere (SQLite for `make run`) it is Django's bulk_create.
"""

from __future__ import annotations

import json

from django.db import connection, models

__all__ = ["insert_rows"]


def _column_values(field: models.Field, objs: list[models.Model]) -> tuple[list, str, str]:
    """(values, array type, select expression) of one column."""
    qn = connection.ops.quote_name
    values = []
    for obj in objs:
        value = field.pre_save(obj, add=True)
        values.append(value)
    if field.get_internal_type() == "JSONField":
        return [json.dumps(v) for v in values], "text", f"{qn(field.column)}::jsonb"
    prepared = [field.get_db_prep_save(v, connection) for v in values]
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
        values, db_type, expr = _column_values(field, objs)
        params.append(values)
        casts.append(f"%s::{db_type}[]")
        columns.append(qn(field.column))
        selects.append(expr)
    sql = (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(columns)}) "
           f"SELECT {', '.join(selects)} FROM unnest({', '.join(casts)}) AS v({', '.join(columns)}) "
           f"RETURNING {qn(model._meta.pk.column)}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
