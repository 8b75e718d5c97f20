"""On PostgreSQL the rollups are partitioned by month; a whole month is rebuilt in a new table swapped in for its
partition, and every other writer creates the partitions it needs."""

import datetime as dt
import importlib
import secrets
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import Q

from ratings import partitions as rollup_partitions
from ratings.services import (
    _rebuild_sql,
    _table_columns,
    _typed_row,
    rollups_catch_up,
    rollups_rebuild,
    rollups_reroll_appeals,
)
from ratings.sql import Dialect
from tests.factories import make_appeal
from tests.ratings.reference import expected_rows, region_day_rows_agree, stored_rows

pytestmark = pytest.mark.postgres

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def partitions() -> dict[str, str]:
    """Each partition of the rollup table and its range."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'ratings_rollup'::regclass"
        )
        return dict(cursor.fetchall())


def table_oid(name: str) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)::oid", [name])
        return cursor.fetchone()[0]


def attached_indexes(name: str) -> int:
    """The partition's indexes that are partitions of the parent's indexes."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_index x JOIN pg_inherits i ON i.inhrelid = x.indexrelid "
            "WHERE x.indrelid = %s::regclass",
            [name],
        )
        return cursor.fetchone()[0]


def index_names(name: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass", [name])
        return {row[0] for row in cursor.fetchall()}


def parent_indexes() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_index WHERE indrelid = 'ratings_rollup'::regclass")
        return cursor.fetchone()[0]


@pytest.fixture
def november(world):
    make_appeal(world.page_a, received_at=dt.datetime(2026, 11, 3, 10, 0, tzinfo=dt.UTC))
    make_appeal(world.page_b, received_at=dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC))
    rollups_catch_up()


def test_the_rollup_table_is_partitioned_by_month_with_the_parent_indexes(world, november):
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = 'ratings_rollup'::regclass")
        assert cursor.fetchone()[0] == "p"
    assert partitions()["ratings_rollup_p202611"] == "FOR VALUES FROM ('2026-11-01') TO ('2026-12-01')"
    # The primary key, the unique key, (region, day) and (page, day).
    assert parent_indexes() == 4
    assert attached_indexes("ratings_rollup_p202611") == 4


def test_a_whole_month_is_rebuilt_into_a_new_partition_with_the_same_rows(world, november):
    rolled, before = stored_rows(), table_oid("ratings_rollup_p202611")

    result = rollups_rebuild(date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30), now=NOW)

    assert result.rows == 2
    assert table_oid("ratings_rollup_p202611") not in (None, before)  # swapped, not rewritten in place
    assert table_oid("ratings_rollup_p202611_build") is None
    assert attached_indexes("ratings_rollup_p202611") == parent_indexes()
    assert stored_rows() == rolled == expected_rows(now=NOW)
    assert region_day_rows_agree()
    # Its indexes are named after the partition, as those of a partition PostgreSQL creates.
    names = index_names("ratings_rollup_p202611")
    assert "ratings_rollup_p202611_pkey" in names
    assert "ratings_rollup_p202611_region_id_day_idx" in names
    assert all(name.startswith("ratings_rollup_p202611_") and "build" not in name for name in names)
    # Twice: the same rows again (idempotent) and the same index names, and the swapped-in partition takes
    # re-rolls like any other.
    rollups_rebuild(date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30), now=NOW)
    assert index_names("ratings_rollup_p202611") == names
    appeal = make_appeal(world.page_a, received_at=dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC))
    rollups_reroll_appeals(appeal_ids=[appeal.pk], now=NOW)
    assert stored_rows() == expected_rows(now=NOW)
    assert region_day_rows_agree()


def test_part_of_a_month_is_rebuilt_in_place(world, november):
    before = table_oid("ratings_rollup_p202611")
    rolled = stored_rows()

    rollups_rebuild(date_from=dt.date(2026, 11, 2), date_to=dt.date(2026, 11, 30), now=NOW)

    assert table_oid("ratings_rollup_p202611") == before
    assert stored_rows() == rolled


def test_a_reroll_in_a_month_without_a_partition_creates_it(world, november):
    appeal = make_appeal(world.page_a, received_at=dt.datetime(2025, 3, 5, 9, 0, tzinfo=dt.UTC))

    rollups_reroll_appeals(appeal_ids=[appeal.pk], now=NOW)

    assert "ratings_rollup_p202503" in partitions()
    assert stored_rows() == expected_rows(now=NOW)


def test_the_catch_up_creates_the_next_months_partition_ahead_of_its_appeals(world):
    rollups_catch_up(now=NOW)

    assert {"ratings_rollup_p202611", "ratings_rollup_p202612"} <= set(partitions())


def test_a_rebuild_of_a_month_with_no_appeals_leaves_an_empty_partition(world):
    rollups_rebuild(date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 1, 31), now=NOW)

    assert "ratings_rollup_p202601" in partitions()
    assert stored_rows() == {}


def test_the_migration_partitions_an_existing_table_and_keeps_its_rows(world, november):
    """Migration 0003 run on the table as 0002 left it (rebuilt here from the migration state, in the test's
    transaction): the same rows in month partitions, new rows numbered after the old ones."""
    from django.db.migrations.executor import MigrationExecutor

    partition = importlib.import_module("ratings.migrations.0003_rollup_monthly_partitions")._partition
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM ratings_rollup ORDER BY id")
        before = cursor.fetchall()
        cursor.execute("DROP TABLE ratings_rollup")
    state = MigrationExecutor(connection).loader.project_state(("ratings", "0002_rollup_lean_writes"))
    with connection.schema_editor() as editor:
        editor.create_model(state.apps.get_model("ratings", "Rollup"))
    with connection.cursor() as cursor:
        placeholders = ", ".join(["%s"] * len(before[0]))
        cursor.executemany(f"INSERT INTO ratings_rollup OVERRIDING SYSTEM VALUE VALUES ({placeholders})", before)  # noqa: S608
        assert partitions() == {}
    with connection.schema_editor() as editor:
        partition(state.apps, editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM ratings_rollup ORDER BY id")
        assert cursor.fetchall() == before
    assert set(partitions()) == {"ratings_rollup_p202611"}
    assert attached_indexes("ratings_rollup_p202611") == parent_indexes()
    make_appeal(world.page_a, received_at=dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC))
    rollups_catch_up()
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id) FROM ratings_rollup WHERE day = '2026-11-24'")
        assert cursor.fetchone()[0] > max(row[0] for row in before)
    assert stored_rows() == expected_rows(now=NOW)


def test_the_application_role_that_owns_nothing_keeps_the_partitions_and_still_owns_nothing(world, november):
    """The application's database role (grant_app_role) may not create, attach or drop a partition itself:
    the rollups do it through the owner's functions, and the tables they create are not the role's."""
    role = f"otklik_app_test_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        # Created inside the test's transaction, so the rollback at its end drops the role again.
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        call_command("grant_app_role", role, stdout=StringIO())
        cursor.execute(f"SET ROLE {role}")
        try:
            appeal = make_appeal(world.page_a, received_at=dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC))
            rollups_catch_up(now=NOW)  # December's partition, ahead
            rollups_reroll_appeals(appeal_ids=[appeal.pk], now=NOW)
            rollups_rebuild(date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 12, 31), now=NOW)  # swaps
            rollups_rebuild(date_from=dt.date(2026, 11, 10), date_to=dt.date(2026, 11, 20), now=NOW)  # in place
            for sql in (
                "DROP TABLE ratings_rollup_p202611",
                "CREATE TABLE ratings_rollup_p202701 PARTITION OF ratings_rollup "
                "FOR VALUES FROM ('2027-01-01') TO ('2027-02-01')",
            ):
                with pytest.raises(DatabaseError, match=r"permission denied|must be owner"), transaction.atomic():
                    cursor.execute(sql)
        finally:
            cursor.execute("RESET ROLE")
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = %s", [role]
        )
        assert cursor.fetchone()[0] == 0
    assert {"ratings_rollup_p202611", "ratings_rollup_p202612"} <= set(partitions())
    assert stored_rows() == expected_rows(now=NOW)
    assert region_day_rows_agree()


def test_only_a_role_granted_them_may_call_the_partition_functions(world):
    role = f"otklik_other_test_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"SET ROLE {role}")
        try:
            for function in ("ratings_rollup_partition", "ratings_rollup_build", "ratings_rollup_swap"):
                with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
                    cursor.execute(f"SELECT {function}('2027-01-01')")
        finally:
            cursor.execute("RESET ROLE")


def test_the_partition_functions_refuse_a_day_other_than_a_months_first(world):
    for function in ("ratings_rollup_partition", "ratings_rollup_build", "ratings_rollup_swap"):
        with (
            pytest.raises(DatabaseError, match="not the first day of a month"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"SELECT {function}('2026-03-15')")
    assert "ratings_rollup_p202603" not in partitions()


def test_the_month_rows_are_written_as_the_aggregate_makes_them(world, november):
    """The rebuild's INSERT lists the new table's columns in their order and types, with integer counts: the plan
    writes the GROUP BY's rows directly, with no per-row projection (a Subquery Scan) to reorder or convert
    them. A column added without its expression fails loudly instead."""
    d = Dialect("postgresql")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_typeof(ratings_count(*))::text FROM (VALUES (1), (2)) AS v (x)")
        assert cursor.fetchone() == ("integer",)
        build = rollup_partitions.build_table(cursor, dt.date(2026, 11, 1))
        columns = _table_columns(cursor, build)
        sql, params = _rebuild_sql(
            d, Q(), NOW, dt.date(2026, 11, 1), dt.date(2026, 11, 30), columns=columns, into=build
        )
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = [row[0].strip() for row in cursor.fetchall()]
        transaction.set_rollback(True)
    insert = next(i for i, line in enumerate(plan) if line.startswith(f"->  Insert on {build}"))
    assert plan[insert + 1].startswith("->  GroupAggregate"), plan[insert : insert + 3]
    with pytest.raises(RuntimeError, match="no expression"):
        _typed_row(d, [*columns, ("added_later", "integer", None)])
