# This file is part of the lead trading suite. See README.rst for details.
"""Set-based writes for the intake and the billing runs.

The ORM's `create` validates and instantiates every record, which costs far
more than the INSERT itself when thousands of rows arrive at once. Callers
of these functions have already validated the values (structure, domains,
rules); the database constraints still hold."""
from sql import Column, Conflict
from sql.functions import CurrentTimestamp

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

    ids = []
    new_ids = database.nextid(connection, Model._table, count=len(rows))
    if new_ids is not None:
        if len(rows) == 1:
            new_ids = [new_ids]
        # One statement for all rows: the server plans it once and the
        # driver sends the rows in a pipeline, where a multi-row VALUES
        # would make the driver parse tens of thousands of placeholders.
        query, _ = tuple(table.insert(
                columns + [table.id], [rows[0] + [new_ids[0]]],
                on_conflict=on_conflict, returning=[table.id]))
        cursor.executemany(query, [
                [row[0], *row[2:], id_] for row, id_ in zip(rows, new_ids)],
            returning=True)
        inserted = set()
        while True:
            inserted.update(id_ for id_, in cursor.fetchall())
            if not cursor.nextset():
                break
        ids = [id_ if id_ in inserted else None for id_ in new_ids]
    else:
        # SQLite numbers rows itself; one statement per row is cheap
        # in-process and keeps the order of the ids certain
        for row in rows:
            cursor.execute(*table.insert(
                    columns, [row], on_conflict=on_conflict))
            ids.append(database.lastid(cursor) if cursor.rowcount else None)
    return ids


def forget_cached(Model):
    """Drop what the transaction cached of Model's records after they were
    updated by SQL, so that records read afterwards show the new values."""
    transaction = Transaction()
    transaction.counter += 1
    for cache in transaction.cache.values():
        if Model.__name__ in cache:
            cache[Model.__name__].clear()
