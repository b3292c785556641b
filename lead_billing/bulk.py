# This file is part of the lead trading suite. See README.rst for details.
"""Set-based writes for the intake and the billing runs.

The ORM's `create` validates and instantiates every record, which costs far
more than the INSERT itself when thousands of rows arrive at once. Callers
of these functions have already validated the values (structure, domains,
rules); the database constraints still hold."""
from sql import Column, Conflict
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.transaction import Transaction


def insert_records(Model, vlist, unique=None):
    """Insert the value dicts into Model's table and return the new ids in
    the order of `vlist`. Every dict must carry the same keys.

    With `unique`, the column names of a unique constraint, a row that
    another transaction inserted meanwhile is skipped and gets None instead
    of an id. On PostgreSQL a conflicting row that the transaction's
    snapshot cannot see raises a serialization failure, which Tryton
    answers by running the whole call again."""
    if not vlist:
        return []
    transaction = Transaction()
    database = transaction.database
    connection = transaction.connection
    cursor = connection.cursor()
    table = Model.__table__()
    names = sorted(vlist[0])
    fields = [Model._fields[n] for n in names]
    columns = [table.create_uid, table.create_date] + [
        Column(table, n) for n in names]
    rows = [[transaction.user, CurrentTimestamp()]
        + [f.sql_format(values[n]) for f, n in zip(fields, names)]
        for values in vlist]
    on_conflict = None
    if unique:
        on_conflict = Conflict(
            table, indexed_columns=[Column(table, n) for n in unique])

    size = max(1, backend.MAX_QUERY_PARAMS // (len(columns) + 1))
    ids = []
    for start in range(0, len(rows), size):
        chunk = rows[start:start + size]
        new_ids = database.nextid(connection, Model._table, count=len(chunk))
        if new_ids is not None:
            if len(chunk) == 1:
                new_ids = [new_ids]
            cursor.execute(*table.insert(
                    columns + [table.id],
                    [row + [id_] for row, id_ in zip(chunk, new_ids)],
                    on_conflict=on_conflict, returning=[table.id]))
            inserted = {id_ for id_, in cursor}
            ids.extend(id_ if id_ in inserted else None for id_ in new_ids)
        else:
            # SQLite numbers rows itself; one statement per row is cheap
            # in-process and keeps the order of the ids certain
            for row in chunk:
                cursor.execute(*table.insert(
                        columns, [row], on_conflict=on_conflict))
                ids.append(database.lastid(cursor)
                    if cursor.rowcount else None)
    return ids


def forget_cached(Model):
    """Drop what the transaction cached of Model's records after they were
    updated by SQL, so that records read afterwards show the new values."""
    transaction = Transaction()
    transaction.counter += 1
    for cache in transaction.cache.values():
        if Model.__name__ in cache:
            cache[Model.__name__].clear()
