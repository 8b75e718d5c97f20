"""Monthly partitions of the rollup table on PostgreSQL (migration 0003), and the rebuild's build-then-swap.

A rebuild of a whole month writes the month's rows into a new table without indexes, builds its indexes in one
pass each, and swaps it in for the month's partition in the same transaction: readers see the old rows until
the commit, and nothing is deleted row by row. Keeping the indexes (five then) current while a month's rows
are deleted and inserted one by one cost about a third of the rebuild (bench.rollups); bulk-built they cost a
few per cent. Every other writer (re-rolls, the catch-up, a rebuild of part of a month) writes through the parent table,
after `ensure_for_days` has created the partitions of the months it writes.

The DDL itself is done by three functions of migration 0004 that run with the table owner's rights: the
application's database role owns no table (`manage.py grant_app_role`), and only the parent's owner may create,
attach or drop a partition. Each takes a month and derives every name from it (`ratings_rollup_partition_name`,
the one place that names a partition).

SQLite keeps one plain table; nothing here is called there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection

TABLE = "ratings_rollup"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _partitioned() -> bool:
    return connection.vendor == "postgresql"


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
    # One round trip; the function names the partition and creates it only when missing.
    cursor.execute("SELECT ratings_rollup_partition(m) FROM unnest(%s::date[]) AS m", [months])


def build_table(cursor, month: dt.date) -> str:
    """Create the empty table that will replace the month's partition (the parent's columns, defaults, checks and
    grants, no indexes yet) and return its name. Call inside the rebuild's transaction."""
    cursor.execute("SELECT ratings_rollup_build(%s)", [month])
    return cursor.fetchone()[0]


def swap_in(cursor, month: dt.date) -> None:
    """Give the filled build table the parent's indexes and make it the month's partition in place of the old one
    (dropped).

    The new partition's statistics come from autovacuum, whose analyze threshold its inserted rows pass (an
    ANALYZE here cost a twentieth of the rebuild). Call inside the rebuild's transaction: the swap takes the
    parent's exclusive lock, held only from here to the commit.
    """
    cursor.execute("SELECT ratings_rollup_swap(%s)", [month])
