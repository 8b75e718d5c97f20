"""Monthly partitions of the rollup table on PostgreSQL (migration 0003), and the rebuild's build-then-swap.

A rebuild of a whole month writes the month's rows into a new table without indexes, builds its indexes in one
pass each, and swaps it in for the month's partition in the same transaction: readers see the old rows until
the commit, and nothing is deleted row by row. Keeping five indexes current while a month's rows are deleted and
inserted one by one cost about a third of the rebuild (bench.rollups); bulk-built they cost a few per cent.
Every other writer (re-rolls, the catch-up, a rebuild of part of a month) writes through the parent table,
after `ensure_for_days` has created the partitions of the months it writes.

SQLite keeps one plain table: every function here does nothing there.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from django.db import connection

TABLE = "ratings_rollup"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def name_of(month: dt.date) -> str:
    return f"{TABLE}_p{month:%Y%m}"


def _partitioned() -> bool:
    return connection.vendor == "postgresql"


def _missing(cursor, months: list[dt.date]) -> list[dt.date]:
    cursor.execute(
        "SELECT m FROM unnest(%s::date[]) AS m WHERE to_regclass(%s || to_char(m, 'YYYYMM')) IS NULL ORDER BY m",
        [months, f"{TABLE}_p"],
    )
    return [month for (month,) in cursor.fetchall()]


def ensure_for_days(cursor, days: Iterable[dt.date]) -> None:
    """Create the partitions of every month from the first to the last of `days` that has none yet.

    Creating a partition locks the parent table until the transaction ends, so the periodic catch-up creates the
    next month's ahead of its first appeal (`rollups_catch_up`) and a writer rarely has to.
    """
    days = list(days)
    if not days or not _partitioned():
        return
    months, month = [], month_start(min(days))
    while month <= max(days):
        months.append(month)
        month = next_month(month)
    for month in _missing(cursor, months):
        cursor.execute(
            f'CREATE TABLE IF NOT EXISTS "{name_of(month)}" PARTITION OF {TABLE} FOR VALUES FROM (%s) TO (%s)',
            [month, next_month(month)],
        )


def build_table(cursor, month: dt.date) -> str:
    """Create the empty table that will replace the month's partition (the parent's columns, defaults and
    checks, no indexes yet) and return its name. Call inside the rebuild's transaction."""
    build = f"{name_of(month)}_build"
    cursor.execute(f'CREATE TABLE "{build}" (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
    return build


def _parent_indexes(cursor) -> list[str]:
    """The statements that give a table the parent's indexes: a constraint's through ALTER TABLE (ATTACH adopts
    an index for a primary key only when it backs the same constraint), the others through CREATE INDEX."""
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid), pg_get_constraintdef(c.oid) FROM pg_index i "
        "LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid "
        "WHERE i.indrelid = %s::regclass ORDER BY i.indexrelid",
        [TABLE],
    )
    statements = []
    for index, constraint in cursor.fetchall():
        if constraint:
            statements.append(f"ALTER TABLE {{table}} ADD {constraint}")
        else:
            statements.append(re.sub(r"^CREATE (UNIQUE )?INDEX \S+ ON ONLY \S+ ", r"CREATE \1INDEX ON {table} ", index))
    return statements


def swap_in(cursor, build: str, month: dt.date) -> None:
    """Index the filled build table, and make it the month's partition in place of the old one (dropped).

    The range check, validated by one scan of the new rows, spares ATTACH its own scan. The new partition's
    statistics come from autovacuum, whose analyze threshold its inserted rows pass (an ANALYZE here cost a
    twentieth of the rebuild). Call inside the rebuild's transaction: the swap takes the parent's exclusive lock,
    held only from here to the commit.
    """
    for statement in _parent_indexes(cursor):
        cursor.execute(statement.format(table=f'"{build}"'))
    end = next_month(month)
    cursor.execute(f'ALTER TABLE "{build}" ADD CONSTRAINT "{build}_range" CHECK (day >= %s AND day < %s)', [month, end])
    cursor.execute(f'DROP TABLE IF EXISTS "{name_of(month)}"')
    cursor.execute(f'ALTER TABLE {TABLE} ATTACH PARTITION "{build}" FOR VALUES FROM (%s) TO (%s)', [month, end])
    cursor.execute(f'ALTER TABLE "{build}" DROP CONSTRAINT "{build}_range"')
    cursor.execute(f'ALTER TABLE "{build}" RENAME TO "{name_of(month)}"')
