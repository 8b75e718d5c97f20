"""Rollups: the measures of domain.md section 7 per page and local day of receipt, computed inside the database.

One statement computes the rollup rows for a set of (organisation, page, day) keys or a period: the per-appeal
facts (on time, breached, open, overdue) are the query expressions of `appeals.sla`, compiled by the ORM; the
durations in working minutes come from the working-day table (`WorkDay`, two look-ups per moment, no walk over
days); the GROUP BY folds them into counts and histograms. Rows are replaced (DELETE, then INSERT … SELECT)
under one advisory lock, so a re-roll, a catch-up and a rebuild never interleave on the same rows, and running
any of them twice gives the same rows.

How rows stay current:
- every history event (intake, each transition, the sweep's breaches, recomputed deadlines) registers the
  appeal with `rollups_queue_reroll`, which sends `ratings.tasks.reroll_appeals` on commit (no outbox row:
  the catch-up below covers a lost send);
- `rollups_catch_up` (beat) re-rolls the appeals of every event past a watermark on the append-only history,
  so anything the on-commit path missed is picked up;
- a change of the calendar rebuilds the working-day table and re-rolls the appeals whose times span the dates
  that changed (checked by a fingerprint of the overrides before every roll);
- a change of an organisation's zone, region, kind or office hours (publics.hooks) queues
  `ratings.tasks.reroll_organizations` on commit, which re-rolls all of its rows (its appeals have followed a
  region change in the organisation's own transaction), and a change of a page's platform queues
  `ratings.tasks.reroll_pages`, which re-rolls all of the page's rows;
- `rollups_rebuild` (`manage.py rebuild_rollups --from --to`) recomputes any period.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, CharField, Exists, F, IntegerField, Max, Min, OuterRef, Q, Value, When
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import sla
from appeals.models import OPEN_STATUSES, Appeal, AppealEvent, CalendarOverride
from appeals.services.history import person_of
from core import worktime
from core.access import SYSTEM, Actor, scope_for
from core.errors import Refused
from core.outbox import queue_after_commit, send_after_commit, send_coalesced_after_commit
from publics.models import Region, Role
from ratings import histogram, partitions
from ratings.models import DayKind, RatingKind, RatingSnapshot, Rollup, RollupState, WorkDay
from ratings.sql import Dialect

# One advisory lock for every writer of rollup rows (PostgreSQL; SQLite has a single writer anyway).
_LOCK_KEY = 7_300_009
# Keys per statement: bounded so that parameters stay well under SQLite's limit.
_KEYS_PER_STATEMENT = 200
# The catch-up rescans this many history ids below its watermark: an event inserted with a lower id may commit
# after a higher one (two transactions), and re-rolling a few keys twice costs nothing but a little time.
WATERMARK_LOOKBACK = 1000
# Queued on commit of every change of an appeal, coalesced (see rollups_queue_reroll).
REROLL_TASK = "ratings.tasks.reroll_appeals"
# Queued through the outbox on commit of a change of an organisation that its rollup rows depend on.
REROLL_ORGANIZATIONS_TASK = "ratings.tasks.reroll_organizations"
# What an organisation's rollup rows depend on: its zone (the local day of receipt), its region and kind (copied
# onto the rows, which dashboards group and filter by) and its office hours (the working minutes).
ORGANIZATION_FIELDS = frozenset({"timezone", "region", "kind", "office_opens_at", "office_closes_at"})
REROLL_PAGES_TASK = "ratings.tasks.reroll_pages"
CATCH_UP_TASK = "ratings.tasks.rollups_catch_up"
# The page's fields a rollup row depends on (its organisation is the appeal's own, not the page's).
PAGE_FIELDS = frozenset({"platform"})
_HOUR_US = 3_600_000_000
_DAY_US = 86_400_000_000

Key = tuple[int, int | None, dt.date]  # (organization_id, page_id, local day of receipt)

COUNT_COLUMNS = (
    "received",
    "answered",
    "first_response_on_time",
    "first_response_breached",
    "resolution_on_time",
    "resolution_breached",
    "open",
    "overdue",
)
# A rollup row's key columns and the per-appeal columns of `_rollup_ctes`'s `b` they are grouped by.
_GROUP_KEYS = {
    "day": "b.d0",
    "region_id": "b.region_id",
    "organization_id": "b.organization_id",
    "page_id": "b.page_id",
    "platform": "b.platform",
    "organization_kind": "b.organization_kind",
    "kind": "b.kind",
    "category_id": "b.category_id",
}
_GROUP_COLUMNS = tuple(_GROUP_KEYS)
# The per-appeal flags of `_facts_sql` summed into COUNT_COLUMNS after `received`, in their order.
_FLAGS = ("is_answered", "fr_on_time", "fr_breached", "rs_on_time", "rs_breached", "is_open", "is_overdue")
_HISTOGRAM_COLUMNS = [histogram.column(metric, k) for metric in histogram.METRICS for k in range(histogram.BUCKETS)]
# A rollup row's columns, in the order the statements below write them.
_ROLLUP_COLUMNS = [*_GROUP_COLUMNS, *COUNT_COLUMNS, "computed_at", *_HISTOGRAM_COLUMNS]
# The GROUP BY of rollup rows, over the per-appeal rows `b` of `_rollup_ctes`.
_KEYS = "b.organization_id, b.page_id, b.d0, b.region_id, b.platform, b.organization_kind, b.kind, b.category_id"


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _facts_sql(where: Q, now: dt.datetime) -> tuple[str, list]:
    """The per-appeal facts as the ORM compiles them: the one definition of on time, breached and overdue."""
    facts = (
        Appeal.objects.filter(where)
        .order_by()
        .annotate(
            # Of the rollup column's type, as the grouping key it is written as (`_typed_row`).
            platform=Cast(
                Coalesce(F("page__platform"), Value("")),
                CharField(max_length=Rollup._meta.get_field("platform").max_length),
            ),
            organization_kind=F("organization__kind"),
            # The region's own calendar when it has overrides of its own, else the federal one (0).
            calendar_id=Case(
                When(
                    Exists(CalendarOverride.objects.filter(region_id=OuterRef("organization__region_id"))),
                    then=F("organization__region_id"),
                ),
                default=Value(0),
                output_field=IntegerField(),
            ),
            tz=Coalesce(NullIf(F("organization__timezone"), Value("")), F("organization__region__timezone")),
            opens=F("organization__office_opens_at"),
            closes=F("organization__office_closes_at"),
            is_answered=_flag(Q(first_responded_at__isnull=False)),
            fr_on_time=_flag(sla.first_response_on_time_q()),
            fr_breached=_flag(sla.first_response_breached_q(now)),
            rs_on_time=_flag(sla.resolution_on_time_q()),
            rs_breached=_flag(sla.resolution_breached_q(now)),
            is_open=_flag(Q(status__in=OPEN_STATUSES)),
            is_overdue=_flag(sla.overdue_q(now)),
        )
        .values(
            "id",
            "region_id",
            "organization_id",
            "page_id",
            "kind",
            "category_id",
            "received_at",
            "first_responded_at",
            "resolution_started_at",
            "resolved_at",
            "platform",
            "organization_kind",
            "calendar_id",
            "tz",
            "opens",
            "closes",
            "is_answered",
            "fr_on_time",
            "fr_breached",
            "rs_on_time",
            "rs_breached",
            "is_open",
            "is_overdue",
        )
    )
    sql, params = facts.query.sql_with_params()
    return sql, list(params)


# The four moments whose positions in office time the durations need: receipt, first response, start of the
# resolution clock, resolution.
_MOMENTS = ("received_at", "first_responded_at", "resolution_started_at", "resolved_at")


def _office_position(d: Dialect, w: str, t: str) -> str:
    """Office microseconds from the table's start to a local moment at time-of-day `t` on the day of row `w`."""
    length = (
        f"(CASE {w}.kind WHEN {DayKind.NORMAL} THEN m.l_us "
        f"WHEN {DayKind.SHORTENED} THEN {d.greatest(f'm.l_us - {_HOUR_US}', '0')} "
        f"WHEN {DayKind.FIXED} THEN {d.least(f'{w}.fixed_us', f'{_DAY_US} - m.o_us')} ELSE 0 END)"
    )
    before = (
        f"(m.l_us * {w}.normal_before + {d.greatest(f'm.l_us - {_HOUR_US}', '0')} * {w}.shortened_before "
        f"+ {w}.fixed_before_us)"
    )
    return f"({before} + {d.greatest('0', d.least(f'{t} - m.o_us', length))})"


def _rollup_ctes(d: Dialect, where: Q, now: dt.datetime, b_where: str = "TRUE") -> tuple[str, list]:
    """The WITH clause of the rollup statements: `b`, one row per appeal in `where` with its facts, local day of
    receipt `d0` and the histogram bucket of each duration (`b_frc`, ...), kept when it passes `b_where` (over
    `v`'s columns; it takes no parameters)."""
    facts, params = _facts_sql(where, now)
    moments = []
    for i, moment in enumerate(_MOMENTS):
        column = f"f.{moment}"

        def when_set(expression: str, column: str = column) -> str:
            return f"CASE WHEN {column} IS NULL THEN NULL ELSE {expression} END"

        moments += [
            f"{when_set(d.local_date(column, 'f.tz'))} AS d{i}",
            f"{when_set(d.local_us(column, 'f.tz'))} AS t{i}",
            f"{when_set(d.epoch_us(column))} AS e{i}",
        ]
    joins = " ".join(
        f"LEFT JOIN ratings_workday w{i} ON w{i}.calendar = m.calendar_id AND w{i}.date = m.d{i}"
        for i in range(len(_MOMENTS))
    )
    positions = ", ".join(f"{_office_position(d, f'w{i}', f'm.t{i}')} AS p{i}" for i in range(len(_MOMENTS)))

    def minutes(done: int, start: int, scale: str) -> str:
        """Minutes between two moments: `scale` e for absolute time, p for office time."""
        return (
            f"CASE WHEN p.e{done} IS NULL OR p.e{start} IS NULL THEN NULL "
            f"ELSE {d.real(f'p.{scale}{done} - p.{scale}{start}')} / 60000000.0 END"
        )

    durations = {
        "frc": minutes(1, 0, "e"),
        "frw": minutes(1, 0, "p"),
        "rsc": minutes(3, 2, "e"),
        "rsw": minutes(3, 2, "p"),
    }
    buckets = ", ".join(
        f"{histogram.bucket_sql(f'v.{metric}', d.floor_int)} AS b_{metric}" for metric in histogram.METRICS
    )
    # Materialized: inlined, each bucket would repeat the whole duration expression 135 times per metric, and
    # PostgreSQL would spend seconds planning it.
    materialized = "MATERIALIZED"
    sql = f"""
        WITH f AS ({facts}),
        m AS {materialized} (
            SELECT f.*, {", ".join(moments)},
                {d.time_us("f.opens")} AS o_us, {d.time_us("f.closes")} - {d.time_us("f.opens")} AS l_us
            FROM f
        ),
        p AS {materialized} (SELECT m.*, {positions} FROM m {joins}),
        v AS {materialized} (
            SELECT p.*, {", ".join(f"{expression} AS {name}" for name, expression in durations.items())}
            FROM p
        ),
        b AS {materialized} (SELECT v.*, {buckets} FROM v WHERE {b_where})
    """
    return sql, params


def _row_expressions(d: Dialect) -> dict[str, str]:
    """Each column of a rollup row as an expression over the `b` rows of a group (`%s`: the moment of
    computation), in `_ROLLUP_COLUMNS` order: the one definition every statement that writes rollup rows uses."""
    # COUNT … FILTER: no expression to evaluate per row and bucket but the test itself; NULLIF keeps an empty
    # bucket NULL, which PostgreSQL stores in the row's null bitmap instead of four bytes. On PostgreSQL the
    # count is an integer, the columns' type (`d.count`): converting 548 bigint counts per row into them cost
    # about a twentieth of the SELECT's time.
    return {
        **_GROUP_KEYS,
        "received": d.count,
        **{column: f"SUM(b.{flag})" for column, flag in zip(COUNT_COLUMNS[1:], _FLAGS, strict=True)},
        "computed_at": d.timestamp_parameter,
        **{
            histogram.column(metric, k): f"NULLIF({d.count} FILTER (WHERE b.b_{metric} = {k}), 0)"
            for metric in histogram.METRICS
            for k in range(histogram.BUCKETS)
        },
    }


def _table_columns(cursor, table: str) -> list[tuple[str, str, str | None]]:
    """The columns of a table in their order: name, SQL type, default expression (PostgreSQL)."""
    cursor.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid) "
        "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        [connection.ops.quote_name(table)],
    )
    return cursor.fetchall()


def _typed_row(d: Dialect, columns: Sequence[tuple[str, str, str | None]]) -> tuple[str, str]:
    """The column list and the SELECT list of an INSERT of rollup rows into a table with `columns`: every column
    in the table's order, each expression cast to the column's type (a no-op when it has it), the id by its
    default. Then the planner writes the aggregate's rows as they come; otherwise a projection of 558 columns per
    row reorders and converts them. With `d.count`, that and the conversions cost about an eighth of the
    SELECT's time (bench.rollups)."""
    expressions = _row_expressions(d)
    names, values = [], []
    for name, sql_type, default in columns:
        if name in expressions:
            values.append(f"CAST({expressions[name]} AS {sql_type})")
        elif default is not None:
            values.append(default)
        else:
            raise RuntimeError(f"rollup column {name} has no expression and no default")
        names.append(connection.ops.quote_name(name))
    return ", ".join(names), ", ".join(values)


def _rollup_select(d: Dialect, where: Q, now: dt.datetime, outer_where: str, outer_params: list) -> tuple[str, list]:
    """SELECT of rollup rows (the columns of `_insert_columns`) for appeals in `where` passing `outer_where`."""
    ctes, params = _rollup_ctes(d, where, now)
    # Rows come out in (organisation, page, day) order: inserted so, they reach the unique key (which leads with
    # the organisation and page) and the (page, day) index in their order instead of at random leaf pages (a
    # rebuild's index writes were most of its cost with the server's default 128 MB of shared buffers).
    expressions = _row_expressions(d)
    sql = f"""{ctes}
        SELECT {", ".join(expressions[name] for name in _ROLLUP_COLUMNS)}
        FROM b
        WHERE {outer_where}
        GROUP BY {_KEYS}
        ORDER BY b.organization_id, b.page_id, b.d0
    """
    return sql, [*params, now, *outer_params]


def _rebuild_sql(
    d: Dialect,
    where: Q,
    now: dt.datetime,
    first: dt.date,
    last: dt.date,
    *,
    columns: Sequence[tuple[str, str, str | None]],
    into: str = partitions.TABLE,
) -> tuple[str, list]:
    """One statement (PostgreSQL) that inserts the rollup rows of the appeals in `where` received on the local
    days `first`..`last` into the table `into` (its `columns` as `_table_columns` gives them), and the
    region-and-day sums of the same appeals. Returns the two counts written.

    The sums are not a second wide aggregation: folding every appeal into 548 conditional counts is what a
    rollup row costs, and doing it again per region and day (GROUPING SETS, or a SUM over the rollup rows) cost
    a third more (bench.rollups). An appeal adds one to at most one bucket per duration, so the region's
    histograms are counted narrow, (region, day, bucket) -> appeals, and spread into the columns by key.
    """
    ctes, params = _rollup_ctes(d, where, now, f"v.d0 BETWEEN DATE '{first.isoformat()}' AND DATE '{last.isoformat()}'")
    row_columns, row_values = _typed_row(d, columns)
    region_columns = ", ".join(["region_id", "day", *COUNT_COLUMNS, "computed_at", *_HISTOGRAM_COLUMNS])
    # A bucket's position among the histogram columns: the metric's offset plus the bucket.
    buckets = ", ".join(f"({i * histogram.BUCKETS} + b.b_{metric})" for i, metric in enumerate(histogram.METRICS))
    bucket_names = ", ".join(f"'{name}'" for name in _HISTOGRAM_COLUMNS)
    sql = f"""{ctes},
        rollups AS (
            INSERT INTO "{into}" ({row_columns})
            SELECT {row_values}
            FROM b
            GROUP BY {_KEYS}
            ORDER BY b.organization_id, b.page_id, b.d0
            RETURNING 1
        ),
        counts AS (
            SELECT b.region_id, b.d0, COUNT(*) AS received, {", ".join(f"SUM(b.{flag}) AS {flag}" for flag in _FLAGS)}
            FROM b GROUP BY b.region_id, b.d0
        ),
        narrow AS (
            SELECT b.region_id, b.d0, k.bucket, COUNT(*) AS n
            FROM b CROSS JOIN LATERAL (VALUES {buckets}) AS k (bucket)
            WHERE k.bucket IS NOT NULL
            GROUP BY b.region_id, b.d0, k.bucket
        ),
        histograms AS (
            SELECT region_id, d0, json_object_agg((ARRAY[{bucket_names}])[bucket + 1], n) AS j
            FROM narrow GROUP BY region_id, d0
        ),
        regions AS (
            INSERT INTO ratings_rollupregionday ({region_columns})
            SELECT c.region_id, c.d0, c.received, {", ".join(f"c.{flag}" for flag in _FLAGS)}, %s,
                {", ".join(f"r.{name}" for name in _HISTOGRAM_COLUMNS)}
            FROM counts c LEFT JOIN histograms h ON h.region_id = c.region_id AND h.d0 = c.d0
            CROSS JOIN LATERAL json_populate_record(NULL::ratings_rollupregionday, h.j) AS r
            RETURNING 1
        )
        SELECT (SELECT COUNT(*) FROM rollups), (SELECT COUNT(*) FROM regions)
    """
    return sql, [*params, now, now]


def _insert_columns() -> str:
    return ", ".join(_ROLLUP_COLUMNS)


def _region_day_sql(where: str) -> str:
    """INSERT of the region-and-day sums of the rollup rows passing `where`."""
    sums = ", ".join(f"SUM({name})" for name in [*COUNT_COLUMNS])
    histograms = ", ".join(f"SUM({name})" for name in _HISTOGRAM_COLUMNS)
    columns = ", ".join(["region_id", "day", *COUNT_COLUMNS, "computed_at", *_HISTOGRAM_COLUMNS])
    return (
        f"INSERT INTO ratings_rollupregionday ({columns}) "
        f"SELECT region_id, day, {sums}, MAX(computed_at), {histograms} FROM ratings_rollup "
        f"WHERE {where} GROUP BY region_id, day"
    )


def _region_month_sql(where: str) -> str:
    """INSERT of the region-and-month sums of the region-and-day rows passing `where`."""
    month = Dialect(connection.vendor).month_start("day")
    sums = ", ".join(f"SUM({name})" for name in [*COUNT_COLUMNS])
    histograms = ", ".join(f"SUM({name})" for name in _HISTOGRAM_COLUMNS)
    columns = ", ".join(["region_id", "month", *COUNT_COLUMNS, "computed_at", *_HISTOGRAM_COLUMNS])
    return (
        f"INSERT INTO ratings_rollupregionmonth ({columns}) "
        f"SELECT region_id, {month}, {sums}, MAX(computed_at), {histograms} FROM ratings_rollupregionday "
        f"WHERE {where} GROUP BY region_id, {month}"
    )


def _roll_region_days(cursor, pairs: set[tuple[int, dt.date]]) -> None:
    """Rewrite the region-and-day sums of the pairs from the rollup rows, and their months' sums from those
    (call with the lock held)."""
    ordered = sorted(pairs)
    for start in range(0, len(ordered), _KEYS_PER_STATEMENT):
        chunk = ordered[start : start + _KEYS_PER_STATEMENT]
        where = f"(region_id, day) IN (VALUES {', '.join(['(%s, %s)'] * len(chunk))})"
        params = [value for pair in chunk for value in pair]
        cursor.execute(f"DELETE FROM ratings_rollupregionday WHERE {where}", params)
        cursor.execute(_region_day_sql(where), params)
    months = sorted({(region_id, day.replace(day=1)) for region_id, day in pairs})
    for start in range(0, len(months), _KEYS_PER_STATEMENT):
        chunk = months[start : start + _KEYS_PER_STATEMENT]
        params = [value for pair in chunk for value in pair]
        values = ", ".join(["(%s, %s)"] * len(chunk))
        cursor.execute(f"DELETE FROM ratings_rollupregionmonth WHERE (region_id, month) IN (VALUES {values})", params)
        month = Dialect(connection.vendor).month_start("day")
        cursor.execute(_region_month_sql(f"(region_id, {month}) IN (VALUES {values})"), params)


def _region_days_of(cursor, where: str, params: list) -> set[tuple[int, dt.date]]:
    cursor.execute(f"SELECT DISTINCT region_id, day FROM ratings_rollup WHERE {where}", params)
    return {(region_id, _as_date(day)) for region_id, day in cursor.fetchall()}


def _lock(cursor) -> None:
    """Serialise the writers of rollup rows; call inside transaction.atomic().

    Also sets the transaction's planner settings (`_session_settings`).
    """
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        _session_settings(cursor)


def _session_settings(cursor) -> None:
    """PostgreSQL settings for the rollups' statements, for the transaction (call inside transaction.atomic()).

    JIT off: compiling the hundreds of aggregate expressions costs seconds, more than it saves on any one
    statement. A larger work_mem: the GROUP BY of a month of appeals sorts rows of some 600 columns, which spill
    to disk at the default 4 MB.
    """
    cursor.execute("SET LOCAL jit = off")
    cursor.execute("SET LOCAL work_mem = '256MB'")


# Keys ---------------------------------------------------------------------------------------------------------


def _key_filter(keys: Sequence[Key], prefix: str) -> tuple[str, list]:
    rows = ", ".join(["(%s, %s, %s)"] * len(keys))
    params: list = []
    for organization_id, page_id, day in keys:
        params += [organization_id, page_id or 0, day]
    day_column = "b.d0" if prefix == "b." else "day"
    return f"({prefix}organization_id, COALESCE({prefix}page_id, 0), {day_column}) IN (VALUES {rows})", params


def _keys_q(keys: Sequence[Key]) -> Q:
    """A coarse filter on appeals for the keys (index-friendly): the local day lies within a day either side."""
    condition = Q(pk__in=[])
    for organization_id, page_id, day in keys:
        start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC) - dt.timedelta(days=1)
        condition |= Q(
            organization_id=organization_id,
            page_id=page_id,
            received_at__gte=start,
            received_at__lt=start + dt.timedelta(days=3),
        )
    return condition


def _roll_keys(keys: Iterable[Key], *, now: dt.datetime) -> int:
    """Replace the rollup rows of the keys; returns how many rows were written. Call inside transaction.atomic()."""
    keys = sorted(set(keys), key=lambda key: (key[2], key[0], key[1] or 0))
    if not keys:
        return 0
    d = Dialect(connection.vendor)
    written = 0
    pairs: set[tuple[int, dt.date]] = set()
    with connection.cursor() as cursor:
        _lock(cursor)
        partitions.ensure_for_days(cursor, (key[2] for key in keys))
        for start in range(0, len(keys), _KEYS_PER_STATEMENT):
            chunk = keys[start : start + _KEYS_PER_STATEMENT]
            where, params = _key_filter(chunk, "")
            pairs |= _region_days_of(cursor, where, params)  # a region and day the keys may leave
            cursor.execute(f"DELETE FROM ratings_rollup WHERE {where}", params)
            outer, outer_params = _key_filter(chunk, "b.")
            select, select_params = _rollup_select(d, _keys_q(chunk), now, outer, outer_params)
            cursor.execute(f"INSERT INTO ratings_rollup ({_insert_columns()}) {select}", select_params)
            written += max(cursor.rowcount, 0)
            pairs |= _region_days_of(cursor, where, params)
        _roll_region_days(cursor, pairs)
    return written


def _keys_of_appeals(appeal_ids: Iterable[int]) -> list[Key]:
    """The (organisation, page, local day) of each appeal, computed by the database in one query per chunk."""
    ids = sorted(set(appeal_ids))
    d = Dialect(connection.vendor)
    keys: list[Key] = []
    zone = "COALESCE(NULLIF(o.timezone, ''), r.timezone)"
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT a.organization_id, a.page_id, {d.local_date('a.received_at', zone)} "
                "FROM appeals_appeal a JOIN publics_organization o ON o.id = a.organization_id "
                "JOIN publics_region r ON r.id = o.region_id "
                f"WHERE a.id IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            keys += [(org, page, _as_date(day)) for org, page, day in cursor.fetchall()]
    return keys


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


# Working-day table --------------------------------------------------------------------------------------------


def _override_rows() -> list[tuple[str, int | None, str, float | None]]:
    return [
        (day.isoformat(), region_id, kind, float(hours) if hours is not None else None)
        for day, region_id, kind, hours in CalendarOverride.objects.order_by("date", "region_id").values_list(
            "date", "region_id", "kind", "hours"
        )
    ]


def _calendars(rows: list[tuple[str, int | None, str, float | None]]) -> dict[int | None, worktime.WorkCalendar]:
    """Per region id (None: the federal one) the calendar appeals.sla builds: federal overrides, then regional."""
    federal: dict[dt.date, worktime.DayOverride] = {}
    regional: dict[int, dict[dt.date, worktime.DayOverride]] = {}
    for day, region_id, kind, hours in rows:
        override = worktime.DayOverride(date=dt.date.fromisoformat(day), kind=kind, hours=hours)  # type: ignore[arg-type]
        (federal if region_id is None else regional.setdefault(region_id, {}))[override.date] = override
    calendars: dict[int | None, worktime.WorkCalendar] = {None: worktime.WorkCalendar(federal.values())}
    for region_id, days in regional.items():
        calendars[region_id] = worktime.WorkCalendar({**federal, **days}.values())
    return calendars


def _build_workdays(calendar_ids: Iterable[int], calendars, first_year: int, last_year: int) -> None:
    """Rewrite the working-day rows of the calendars (0: federal, else a region id) for the years."""
    calendar_ids = list(calendar_ids)
    WorkDay.objects.filter(calendar__in=calendar_ids).delete()
    first, last = dt.date(first_year, 1, 1), dt.date(last_year, 12, 31)
    rows: list[WorkDay] = []
    for calendar_id in calendar_ids:
        calendar = calendars.get(calendar_id or None)
        if calendar is None:
            continue  # a region whose own overrides are all gone: it shares the federal calendar again
        normal = shortened = 0
        fixed_us = 0
        day = first
        while day <= last:
            override = calendar._overrides.get(day)
            if not calendar.is_working_day(day):
                kind, length = DayKind.OFF, 0
            elif override is not None and override.hours is not None:
                kind, length = DayKind.FIXED, round(float(override.hours) * _HOUR_US)
            elif calendar.is_shortened(day):
                kind, length = DayKind.SHORTENED, 0
            else:
                kind, length = DayKind.NORMAL, 0
            rows.append(
                WorkDay(
                    calendar=calendar_id,
                    date=day,
                    kind=kind,
                    fixed_us=length,
                    normal_before=normal,
                    shortened_before=shortened,
                    fixed_before_us=fixed_us,
                )
            )
            normal += kind == DayKind.NORMAL
            shortened += kind == DayKind.SHORTENED
            fixed_us += length
            day += dt.timedelta(days=1)
    WorkDay.objects.bulk_create(rows, batch_size=5000)


def _state() -> RollupState:
    """The bookkeeping row, locked for this transaction."""
    RollupState.objects.get_or_create(pk=1)
    return RollupState.objects.select_for_update().get(pk=1)


def _sync_calendar(state: RollupState, *, first_year: int, last_year: int, now: dt.datetime) -> list[Key]:
    """Bring the working-day table up to the calendar overrides and the years needed; returns the keys whose
    appeals span a date that changed (to re-roll). Call inside transaction.atomic() with `state` locked."""
    rows = _override_rows()
    fingerprint = hashlib.sha256(json.dumps(rows).encode()).hexdigest()
    covered = state.calendar_first_year is not None and state.calendar_last_year is not None
    wanted_first = min(first_year, state.calendar_first_year or first_year)
    wanted_last = max(last_year, state.calendar_last_year or last_year)
    in_range = covered and wanted_first == state.calendar_first_year and wanted_last == state.calendar_last_year
    if in_range and fingerprint == state.calendar_fingerprint:
        return []
    calendars = _calendars(rows)
    before = {
        (day, region_id): (kind, hours) for day, region_id, kind, hours in state.calendar_overrides.get("rows", [])
    }
    after = {(day, region_id): (kind, hours) for day, region_id, kind, hours in rows}
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    regional = sorted({region_id for _, region_id in changed if region_id is not None})
    if not in_range or not covered or any(region_id is None for _, region_id in changed):
        # Every calendar: the federal one, and each region's own (federal overrides are part of those too).
        rebuilt = [0, *(key for key in calendars if key is not None)]
        WorkDay.objects.exclude(calendar__in=rebuilt).delete()
        regions = list(Region.objects.values_list("pk", flat=True))
    else:
        rebuilt = regions = regional
    _build_workdays(rebuilt, calendars, wanted_first, wanted_last)
    state.calendar_fingerprint = fingerprint
    state.calendar_overrides = {"rows": rows}
    state.calendar_first_year, state.calendar_last_year = wanted_first, wanted_last
    state.save()
    if not covered or not changed:
        return []  # the first build, or only more years: no stored duration changes
    dates = sorted(dt.date.fromisoformat(day) for day, _ in changed)
    low = dt.datetime.combine(dates[0], dt.time(0), tzinfo=dt.UTC) - dt.timedelta(days=1)
    high = dt.datetime.combine(dates[-1], dt.time(0), tzinfo=dt.UTC) + dt.timedelta(days=2)
    touched = Appeal.objects.filter(organization__region_id__in=regions, received_at__lt=high).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=low) | Q(first_responded_at__gte=low)
    )
    return _keys_of_appeals(touched.values_list("pk", flat=True))


def _years_for(days: Iterable[dt.date], now: dt.datetime) -> tuple[int, int]:
    years = [day.year for day in days] or [now.year]
    return min(min(years), now.year), now.year + 1


# Services -----------------------------------------------------------------------------------------------------


def rollups_queue_reroll(records: Sequence) -> None:
    """History listener (appeals.services.history): queue the re-roll of the appeals of new events on commit."""
    if not records or not isinstance(records[0], AppealEvent):
        return  # replies always come with an event of their own
    # No outbox row: the history is the durable record, and `rollups_catch_up` re-rolls past its watermark
    # whatever a lost send missed. This runs for every new appeal, so it writes nothing more per request, and a
    # burst of changes is rolled by one task (core.outbox's coalescing: one Redis round trip per change).
    send_coalesced_after_commit(REROLL_TASK, (record.appeal_id for record in records))


def rollups_reroll_appeals(*, appeal_ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """Re-roll the page and day of each appeal (and whatever a calendar change since the last roll touched)."""
    now = now or timezone.now()
    with transaction.atomic():
        keys = _keys_of_appeals(appeal_ids)
        state = _state()
        keys += _sync_calendar(state, **_year_range(keys, now), now=now)
        return _roll_keys(keys, now=now)


def rollups_queue_organization_reroll(changes: Mapping[int, frozenset[str]]) -> None:
    """publics.hooks listener: queue the re-roll of the organisations whose zone, region, kind or office hours
    changed, on commit. Through the outbox (a row in the caller's transaction): no periodic pick-up would
    repeat it if the send were lost, unlike the appeals' re-roll."""
    ids = sorted(pk for pk, fields in changes.items() if fields & ORGANIZATION_FIELDS)
    if ids:
        queue_after_commit(REROLL_ORGANIZATIONS_TASK, organization_ids=ids)


def rollups_queue_calendar_sync() -> None:
    """appeals.services.hooks listener: on commit of a calendar change, the catch-up, which brings the working-day
    table up to the calendar and re-rolls the rows whose appeals span a changed date. Before, that waited for the
    next roll of anything: the deadline recompute writes no event when no open appeal's deadline moves, so a
    closed appeal's working minutes stayed those of the old calendar until beat's catch-up. A lost send is the
    same wait (beat runs this task every minute)."""
    send_after_commit(CATCH_UP_TASK)


def rollups_queue_page_reroll(changes: Mapping[int, frozenset[str]]) -> None:
    """publics.hooks listener: queue the re-roll of the pages whose platform changed (a rollup row takes its
    platform from the page), on commit, through the outbox as for organisations."""
    ids = sorted(pk for pk, fields in changes.items() if fields & PAGE_FIELDS)
    if ids:
        queue_after_commit(REROLL_PAGES_TASK, page_ids=ids)


def rollups_reroll_organizations(*, organization_ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """Recompute every rollup row of the organisations' appeals, all days, in one statement per batch of
    organisations; rows of local days (or regions) their appeals no longer fall on are removed, and the region
    sums of the old and the new days rewritten. Returns the rows written. Idempotent.

    The appeals have followed their organisation's region by then (appeals.services.appeals_follow_region_changes,
    in the organisation's write): a rollup row takes its region from its appeals.
    """
    return _reroll_all_days("organization_id", organization_ids, now=now)


def rollups_reroll_pages(*, page_ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """Recompute every rollup row of the pages' appeals, all days, as `rollups_reroll_organizations` does for
    organisations. Returns the rows written. Idempotent."""
    return _reroll_all_days("page_id", page_ids, now=now)


def _reroll_all_days(column: str, values: Iterable[int], *, now: dt.datetime | None) -> int:
    """Recompute every rollup row whose appeals have `column` (organization_id or page_id) in `values`."""
    now = now or timezone.now()
    ids = sorted(set(values))
    if not ids:
        return 0
    d = Dialect(connection.vendor)
    written = 0
    with transaction.atomic():
        bounds = Appeal.objects.filter(**{f"{column}__in": ids}).aggregate(
            first=Min("received_at"), last=Max("received_at")
        )
        days = [moment.date() for moment in bounds.values() if moment is not None]
        first_year, last_year = _years_for(days, now)
        keys = _sync_calendar(_state(), first_year=first_year, last_year=last_year, now=now)
        with connection.cursor() as cursor:
            _lock(cursor)
            # A local day lies within a day of the UTC one.
            partitions.ensure_for_days(cursor, [day + dt.timedelta(days=shift) for day in days for shift in (-1, 1)])
            pairs: set[tuple[int, dt.date]] = set()
            for start in range(0, len(ids), _KEYS_PER_STATEMENT):
                chunk = ids[start : start + _KEYS_PER_STATEMENT]
                where = f"{column} IN ({', '.join(['%s'] * len(chunk))})"
                pairs |= _region_days_of(cursor, where, chunk)  # the days and regions the rows may leave
                cursor.execute(f"DELETE FROM ratings_rollup WHERE {where}", chunk)
                select, params = _rollup_select(d, Q(**{f"{column}__in": chunk}), now, "1 = 1", [])
                cursor.execute(f"INSERT INTO ratings_rollup ({_insert_columns()}) {select}", params)
                written += max(cursor.rowcount, 0)
                pairs |= _region_days_of(cursor, where, chunk)
            _roll_region_days(cursor, pairs)
        # What a calendar change since the last roll touched (the other rollers do the same).
        written += _roll_keys(keys, now=now)
    return written


def _year_range(keys: Sequence[Key], now: dt.datetime) -> dict[str, int]:
    first, last = _years_for([key[2] for key in keys], now)
    return {"first_year": first, "last_year": last}


def rollups_catch_up(*, now: dt.datetime | None = None, batch_size: int = 5000) -> int:
    """Re-roll the appeals of every history event past the watermark (minus a lookback); returns the events seen.

    Periodic (beat): whatever the on-commit path missed (a worker crash between commit and send) is rolled here.
    """
    now = now or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        # This month's and the next month's partitions before their first appeals (see partitions.ensure_for_days).
        today = now.date()
        partitions.ensure_for_days(cursor, [today - dt.timedelta(days=1), partitions.next_month(today)])
    with transaction.atomic():
        state = _state()
        start = max(state.watermark - WATERMARK_LOOKBACK, 0)
        keys = _sync_calendar(state, **_year_range([], now), now=now)
    seen = 0
    while True:
        events = list(
            AppealEvent.objects.filter(pk__gt=start).order_by("pk").values_list("pk", "appeal_id")[:batch_size]
        )
        with transaction.atomic():
            if keys or events:
                keys += _keys_of_appeals(appeal_id for _, appeal_id in events)
                keys += _sync_calendar(_state(), **_year_range(keys, now), now=now)
                _roll_keys(keys, now=now)
                keys = []
            if events:
                start = events[-1][0]
                seen += len(events)
            state = _state()
            state.watermark = max(state.watermark, start)
            if len(events) < batch_size:
                state.caught_up_at = now
            state.save(update_fields=["watermark", "caught_up_at"])
        if len(events) < batch_size:
            return seen


@dataclass(frozen=True)
class RebuildResult:
    days: int
    rows: int


def rollups_rebuild(
    *,
    date_from: dt.date,
    date_to: dt.date,
    now: dt.datetime | None = None,
    days_per_step: int = 7,
    progress: Callable[[int], None] | None = None,
) -> RebuildResult:
    """Recompute every rollup row of the local days `date_from`..`date_to` from the appeals, each step in its own
    transaction (so a long rebuild never holds one huge lock), no step across the end of a month.

    On PostgreSQL a whole month is one step: its rows are built in a new table and swapped in for the month's
    partition (ratings.partitions). Part of a month is rebuilt in steps of `days_per_step` days by deleting and
    inserting its rows (and on SQLite, every step). Idempotent: the rows depend only on the appeals, the calendar
    and `now`. `progress(days)` after each step.
    """
    if date_to < date_from:
        raise ValueError("date_to is before date_from")
    now = now or timezone.now()
    d = Dialect(connection.vendor)
    with transaction.atomic():
        _sync_calendar(
            _state(), first_year=min(date_from.year, now.year), last_year=max(date_to.year, now.year) + 1, now=now
        )
    rows = 0
    day = date_from
    while day <= date_to:
        month = partitions.month_start(day)
        month_last = partitions.next_month(month) - dt.timedelta(days=1)
        whole_month = d.postgres and day == month and date_to >= month_last
        last = month_last if whole_month else min(day + dt.timedelta(days=days_per_step - 1), date_to, month_last)
        start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC) - dt.timedelta(days=1)
        end = dt.datetime.combine(last, dt.time(0), tzinfo=dt.UTC) + dt.timedelta(days=2)
        appeals, period = Q(received_at__gte=start, received_at__lt=end), "b.d0 >= %s AND b.d0 <= %s"
        with transaction.atomic(), connection.cursor() as cursor:
            _lock(cursor)
            cursor.execute("DELETE FROM ratings_rollupregionday WHERE day >= %s AND day <= %s", [day, last])
            if whole_month:
                build = partitions.build_table(cursor, month)
                columns = _table_columns(cursor, build)
                cursor.execute(*_rebuild_sql(d, appeals, now, day, last, columns=columns, into=build))
                rows += cursor.fetchone()[0]
                partitions.swap_in(cursor, month)
            else:
                partitions.ensure_for_days(cursor, [day])
                cursor.execute("DELETE FROM ratings_rollup WHERE day >= %s AND day <= %s", [day, last])
                if d.postgres:
                    # The rows and their region-and-day sums in one statement.
                    columns = _table_columns(cursor, partitions.TABLE)
                    cursor.execute(*_rebuild_sql(d, appeals, now, day, last, columns=columns))
                    rows += cursor.fetchone()[0]
                else:
                    select, params = _rollup_select(d, appeals, now, period, [day, last])
                    cursor.execute(f"INSERT INTO ratings_rollup ({_insert_columns()}) {select}", params)
                    rows += max(cursor.rowcount, 0)
                    cursor.execute(_region_day_sql("day >= %s AND day <= %s"), [day, last])
            # The month's sums, whole (its other days' rows are already there or come later).
            cursor.execute("DELETE FROM ratings_rollupregionmonth WHERE month = %s", [month])
            cursor.execute(_region_month_sql("day >= %s AND day < %s"), [month, partitions.next_month(month)])
        if progress:
            progress((last - day).days + 1)
        day = last + dt.timedelta(days=1)
    with transaction.atomic():
        state = _state()
        if state.caught_up_at is None:
            state.watermark = AppealEvent.objects.aggregate(top=Max("pk"))["top"] or 0
            state.caught_up_at = now
            state.save(update_fields=["watermark", "caught_up_at"])
    return RebuildResult(days=(date_to - date_from).days + 1, rows=rows)


def rollup_period_of_appeals() -> tuple[dt.date, dt.date] | None:
    """The UTC dates of the first and last receipt (a rebuild of everything covers them, a day either side)."""
    bounds = Appeal.objects.aggregate(first=Min("received_at"), last=Max("received_at"))
    if bounds["first"] is None:
        return None
    return (bounds["first"] - dt.timedelta(days=1)).date(), (bounds["last"] + dt.timedelta(days=1)).date()


__all__ = [
    "COUNT_COLUMNS",
    "RebuildResult",
    "Rollup",
    "rating_snapshot_publish",
    "rating_snapshot_store",
    "rating_snapshots_store_defaults",
    "rollup_period_of_appeals",
    "rollups_catch_up",
    "rollups_queue_calendar_sync",
    "rollups_queue_organization_reroll",
    "rollups_queue_page_reroll",
    "rollups_queue_reroll",
    "rollups_rebuild",
    "rollups_reroll_appeals",
    "rollups_reroll_organizations",
    "rollups_reroll_pages",
]


# Rating snapshots ---------------------------------------------------------------------------------------------


def _may_publish(actor: Actor, snapshot: RatingSnapshot) -> bool:
    """Federal administrators publish any snapshot; analysts those they stored and the reach ones (public data)."""
    scope = scope_for(actor)
    if scope.manage.everything:
        return True
    if not scope.has_role(Role.ANALYST):
        return False
    return snapshot.kind == RatingKind.REACH or (
        snapshot.created_by_id is not None and snapshot.created_by_id == getattr(actor, "pk", None)
    )


def rating_snapshot_store(
    *,
    actor: Actor,
    kind: str,
    parameters: dict[str, Any],
    as_of: dt.date,
    rows: list[dict[str, Any]],
    now: dt.datetime | None = None,
) -> RatingSnapshot:
    """Store a computed rating with its parameters, as-of date, rows, who and when.

    Analysts and administrators store ratings (beat stores the default ones as the system). The rows are what
    the actor could read when computing them: the reach rating's public figures, or responsiveness within the
    actor's scope.
    """
    scope = scope_for(actor)
    if not (scope.manage.everything or scope.has_role(Role.ANALYST)):
        raise Refused(_("Only control-centre analysts and administrators store ratings."))
    return RatingSnapshot.objects.create(
        kind=kind,
        parameters=json.loads(json.dumps(parameters, default=str)),
        as_of=as_of,
        rows=json.loads(json.dumps(rows, default=str)),
        created_by=person_of(actor),
        created_at=now or timezone.now(),
    )


def rating_snapshot_publish(*, actor: Actor, snapshot_id: int, now: dt.datetime | None = None) -> RatingSnapshot:
    """Publish a snapshot as open data (readable without login). Publishing twice keeps the first moment."""
    with transaction.atomic():
        snapshot = RatingSnapshot.objects.select_for_update().get(pk=snapshot_id)
        if not _may_publish(actor, snapshot):
            raise Refused(_("Only control-centre analysts and administrators publish ratings."))
        if snapshot.published_at is None:
            snapshot.published_at = now or timezone.now()
            snapshot.published_by = person_of(actor)
            snapshot.save(update_fields=["published_at", "published_by"])
    return snapshot


def rating_snapshots_store_defaults(*, now: dt.datetime | None = None) -> list[RatingSnapshot]:
    """Beat, daily: the MAX reach rating of regional governments as of today and the regions' responsiveness
    over the last 30 days, stored as the system (not published: a person publishes)."""
    from ratings import selectors  # selectors read services' constants; imported here to avoid a cycle

    now = now or timezone.now()
    today = timezone.localdate(now)
    reach = selectors.ReachQuery(platform="max", date=today)
    stored = [
        rating_snapshot_store(
            actor=SYSTEM,
            kind=RatingKind.REACH,
            parameters={"platform": "max", "date": today.isoformat(), "page_set": "regional_government"},
            as_of=today,
            rows=selectors.reach_rating(reach),
            now=now,
        )
    ]
    filters = selectors.DashboardFilters(date_from=today - dt.timedelta(days=29), date_to=today)
    stored.append(
        rating_snapshot_store(
            actor=SYSTEM,
            kind=RatingKind.RESPONSIVENESS,
            parameters={
                "from": filters.date_from.isoformat(),
                "to": today.isoformat(),
                "by": "region",
                "min_volume": 20,
            },
            as_of=today,
            rows=selectors.responsiveness_rating(SYSTEM, filters, by="region", min_volume=20),
            now=now,
        )
    )
    return stored
