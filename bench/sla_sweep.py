"""The SLA sweep over 1 million and then 5 million open appeals, with the same 10,000 of them newly due.

    .venv/bin/python -m bench.sla_sweep [--small 1000000] [--large 5000000] [--due 10000] [--runs 3] [--keep]

What "the sweep scales" means here: `appeals.services.sla_sweep` must cost in proportion to the appeals that
have just crossed a line (a warning threshold or a deadline), not to the number of open appeals. So both sizes
hold the *same* 10,000 due appeals (1% of the smaller table) and the 4 million appeals added for the larger
size are all not due; the target is t(5M) / t(1M) <= 1.5.

The data, on PostgreSQL (database otklik_sweep_bench, dropped and rebuilt on every run unless --keep):
- 12 organisations in 8 regions from Kaliningrad to Chukotka (UTC+2 .. UTC+12, two with their own office hours),
  two or three pages each; the default SLA policies loaded by migration (messages: 8 working hours / 5 working
  days; formal appeals: 3 / 30 calendar days).
- 50,000 distinct open appeals are computed in Python by the application's own code: `sla.policy_for`,
  `sla.apply_deadlines` at registration, a status change (taken, answered, waiting) at some moment, and then
  the sweep's own `_sweep_one` as of the benchmark's "now", so the deadlines, warnings sent, breach flags and
  `sla_next_check_at` are exactly what the system would hold had the sweep run every minute. Most of them have
  their next check in the coming hours to weeks; those with nothing left to announce (paused, or both deadlines
  already breached) have none, as in production. PostgreSQL then repeats them (INSERT ... SELECT
  generate_series) into millions of rows.
- 10,000 due appeals, also computed by the application's code: new or taken, never swept since registration,
  with their first line crossed within the last six hours before "now" (as after a stopped worker, or the
  wave of working-hour thresholds at office opening). They are ids 100, 200, ..., 1,000,000.

Each size is measured 3 times; before each run one UPDATE puts the due rows' sweep columns back from a
snapshot, the history the previous run wrote is truncated, and the table is vacuumed, so every run starts alike.
The sweep queues its notifications on commit: the Celery broker is pointed at kombu's in-memory transport, so
the cost of queuing stays in the figure but no worker ever sees the bench's events.

Loading uses `session_replication_role = replica` (no foreign-key triggers: the generator only writes ids that
exist) and builds the secondary indexes after each load; it takes a few minutes on two cores.
Benchmarks are not tests: this prints its figures and the target, and never fails on timing.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bench._appeals import (
    Progress,
    admin_execute,
    bench_database_url,
    bulk_loading,
    configure_django,
    copy_rows,
    execute,
)
from bench._common import machine_load

DATABASE_NAME = "otklik_sweep_bench"
TARGET_RATIO = 1.5
TEMPLATES = 50_000
CHUNK_ROWS = 500_000
# The sweep's "now": a Wednesday in March 2026, 11:00 in Moscow, evening in the Far East.
NOW = dt.datetime(2026, 3, 18, 8, 0, tzinfo=dt.UTC)
DUE_WINDOW = dt.timedelta(hours=6)
META_VERSION = 1

# (region code, organisation kind, own time zone, office hours): the region's zone unless given.
ORGANIZATIONS: list[tuple[str, str, str, tuple[int, int]]] = [
    ("RU-MOW", "regional_government", "", (9, 18)),
    ("RU-MOW", "hospital", "", (8, 17)),
    ("RU-MOW", "school", "", (8, 17)),
    ("RU-KGD", "regional_government", "", (9, 18)),
    ("RU-TA", "regional_government", "", (9, 18)),
    ("RU-TA", "local_government", "", (9, 18)),
    ("RU-SVE", "regional_executive_body", "", (9, 18)),
    ("RU-NVS", "regional_government", "", (9, 18)),
    ("RU-NVS", "clinic", "", (8, 17)),
    ("RU-PRI", "regional_government", "", (9, 18)),
    ("RU-KAM", "local_government", "", (9, 18)),
    ("RU-CHU", "regional_government", "", (9, 18)),
]
PLATFORMS = ("vk", "ok", "telegram")
MESSAGE_CHANNELS = ("comment", "direct_message", "wall_post", "mention")
APPEAL_CHANNELS = ("direct_message", "wall_post", "api")
TEXTS = (
    "Во дворе дома 12 не вывозят мусор уже неделю.",
    "Когда отремонтируют дорогу на улице Ленина? Ямы по колено.",
    "Прошу разъяснить порядок записи ребёнка в детский сад.",
    "На остановке «Школа» не работает освещение.",
    "Не могу записаться к терапевту через портал, нет талонов.",
    "Спасибо за быстро убранный снег! И вопрос: когда уберут сосульки?",
)
NAMES = ("Иван Петров", "Мария Смирнова", "Алексей Кузнецов", "Ольга Иванова", "Дмитрий Соколов", "")

# The appeal columns a template carries; the rest are constants or follow from the row number.
TEMPLATE_COLUMNS = (
    "page_id",
    "organization_id",
    "region_id",
    "kind",
    "channel",
    "author_name",
    "text",
    "category_id",
    "priority",
    "status",
    "assignee_id",
    "received_at",
    "registered_at",
    "first_responded_at",
    "paused_at",
    "policy_id",
    "resolution_started_at",
    "first_response_due_at",
    "resolution_due_at",
    "sla_warned_percent",
    "sla_warn_from",
    "first_response_breached",
    "resolution_breached",
    "sla_next_check_at",
    "sla_state",
    "due_at",
)
SWEEP_COLUMNS = (
    "first_response_breached",
    "resolution_breached",
    "sla_warned_percent",
    "sla_warn_from",
    "sla_next_check_at",
    "sla_state",
    "due_at",
)


# Fixtures and templates -------------------------------------------------------------------------------------


@dataclass
class Fixture:
    organizations: list[Any]
    pages: dict[int, list[Any]]
    category_ids: list[int]
    operator_id: int
    schedules: dict[int, Any] = field(default_factory=dict)


def create_fixture() -> Fixture:
    from django.contrib.auth import get_user_model

    from appeals.models import Category
    from publics.models import Organization, Page, Region

    regions = {region.code: region for region in Region.objects.all()}
    organizations, pages = [], {}
    for number, (code, kind, zone, (opens, closes)) in enumerate(ORGANIZATIONS, start=1):
        organization = Organization.objects.create(
            name=f"Бенчмарк: организация {number} ({code})",
            kind=kind,
            region=regions[code],
            timezone=zone,
            office_opens_at=dt.time(opens),
            office_closes_at=dt.time(closes),
        )
        organizations.append(organization)
        pages[organization.pk] = [
            Page.objects.create(
                organization=organization,
                platform=platform,
                platform_id=f"bench-sweep-{number}",
                title=f"Паблик {number}",
            )
            for platform in PLATFORMS[: 2 + number % 2]
        ]
    operator = get_user_model().objects.create_user("bench-sweep-operator")
    category_ids = list(Category.objects.filter(parent__isnull=False).values_list("pk", flat=True))
    organizations = list(Organization.objects.filter(pk__in=[o.pk for o in organizations]).select_related("region"))
    return Fixture(organizations=organizations, pages=pages, category_ids=category_ids, operator_id=operator.pk)


def _schedule(fixture: Fixture, organization) -> Any:
    from appeals import sla

    schedule = fixture.schedules.get(organization.pk)
    if schedule is None:
        schedule = fixture.schedules[organization.pk] = sla.schedule_for(organization)
    return schedule


def _intake(rng: random.Random, fixture: Fixture, received_at: dt.datetime, kind: str):
    """An unsaved appeal as intake leaves it: policy, deadlines and first check, by the application's code."""
    from appeals import sla
    from appeals.models import Appeal, AppealKind, Status

    organization = rng.choice(fixture.organizations)
    page = rng.choice(fixture.pages[organization.pk])
    registered_at = received_at + dt.timedelta(seconds=rng.randrange(5, 600))
    category_id = rng.choice(fixture.category_ids) if rng.random() < 0.7 else None
    appeal = Appeal(
        page=page,
        organization=organization,
        region_id=organization.region_id,
        kind=kind,
        channel=rng.choice(APPEAL_CHANNELS if kind == AppealKind.APPEAL else MESSAGE_CHANNELS),
        author_name=rng.choice(NAMES),
        text=rng.choice(TEXTS),
        category_id=category_id,
        priority="high" if rng.random() < 0.05 else "normal",
        status=Status.NEW,
        received_at=received_at,
        registered_at=registered_at,
        resolution_started_at=registered_at if kind == AppealKind.APPEAL else received_at,
    )
    # Both default policies filter on kind only, so the category's parent does not change the choice.
    policy = sla.policy_for(
        kind=kind,
        channel=appeal.channel,
        platform=page.platform,
        category_id=category_id,
        category_parent_id=None,
        priority=appeal.priority,
        organization=organization,
    )
    sla.apply_deadlines(appeal, policy, _schedule(fixture, organization), now=registered_at)
    return appeal


def open_appeal(rng: random.Random, fixture: Fixture, now: dt.datetime):
    """An open appeal as the system holds it at `now`, the sweep having run every minute until then."""
    from appeals import sla
    from appeals.models import AppealKind, Status
    from appeals.services.sweep import _sweep_one

    formal = rng.random() < 0.15
    if formal:  # 59-FZ appeals live up to 30 days (60 when extended); a tail is already overdue
        received_at = now - dt.timedelta(days=rng.uniform(0, 40))
    else:  # messages are mostly answered within days
        received_at = now - dt.timedelta(days=min(rng.expovariate(1 / 2), 30))
    appeal = _intake(rng, fixture, received_at, AppealKind.APPEAL if formal else AppealKind.MESSAGE)
    schedule = _schedule(fixture, appeal.organization)
    status = rng.choices((Status.NEW, Status.IN_PROGRESS, Status.ANSWERED, Status.WAITING), weights=(35, 35, 22, 8))[0]
    if status != Status.NEW:
        changed_at = appeal.registered_at + (now - appeal.registered_at) * rng.random()
        # _sweep_one is the sweep's own step: it announces the lines crossed before the change.
        _sweep_one(appeal, schedule, changed_at)
        appeal.status = status
        appeal.assignee_id = fixture.operator_id
        if status == Status.ANSWERED:  # as appeal_reply: the clock now runs for resolution
            appeal.first_responded_at = changed_at
            appeal.sla_warned_percent = 0
        elif status == Status.WAITING:
            appeal.paused_at = changed_at
        sla.refresh_tracking(appeal, schedule, now=changed_at)
    _sweep_one(appeal, schedule, now)
    return appeal


def due_appeal(rng: random.Random, fixture: Fixture, now: dt.datetime, tries: int = 1000):
    """A new or taken appeal, not swept since intake, whose first line was crossed in the window before `now`."""
    from appeals.models import AppealKind, Status

    for _ in range(tries):
        formal = rng.random() < 0.15
        if formal:  # the 50% point of 3 calendar days is about 1.5-2 days after receipt
            received_at = now - dt.timedelta(hours=rng.uniform(24, 60))
        else:  # the 50% point of 8 working hours is 4 office hours on, maybe the next working day
            received_at = now - dt.timedelta(hours=rng.uniform(2, 72))
        appeal = _intake(rng, fixture, received_at, AppealKind.APPEAL if formal else AppealKind.MESSAGE)
        check = appeal.sla_next_check_at
        if check is not None and now - DUE_WINDOW < check <= now:
            if rng.random() < 0.5:
                appeal.status = Status.IN_PROGRESS  # taken: the clock does not change
                appeal.assignee_id = fixture.operator_id
            return appeal
    raise RuntimeError("could not place a due appeal in the window: check NOW and DUE_WINDOW")


def _template_row(number: int, appeal) -> tuple:
    return (number, *(getattr(appeal, column) for column in TEMPLATE_COLUMNS))


# Loading ----------------------------------------------------------------------------------------------------


def insert_rows(first: int, last: int, *, due_stride: int, due_limit: int, progress: Progress) -> None:
    """Rows first..last (ids) from the templates, skipping the due slots (every due_stride-th id up to due_limit)."""
    columns = ", ".join(TEMPLATE_COLUMNS)
    selected = ", ".join(f"t.{column}" for column in TEMPLATE_COLUMNS)
    for low in range(first, last + 1, CHUNK_ROWS):
        high = min(low + CHUNK_ROWS - 1, last)
        execute(
            f"""
            INSERT INTO appeals_appeal (id, external_id, author_platform_id, pauses,
                                        extension_reason, reject_reason, created_at, updated_at, {columns})
            SELECT g, 'bench-' || g, '', '[]'::jsonb, '', '', t.registered_at, %(now)s, {selected}
            FROM generate_series(%(low)s::bigint, %(high)s::bigint) AS g
            JOIN bench_template t ON t.number = g %% %(templates)s
            WHERE NOT (g <= %(due_limit)s AND g %% %(stride)s = 0)
            """,
            {
                "now": NOW,
                "low": low,
                "high": high,
                "templates": TEMPLATES,
                "due_limit": due_limit,
                "stride": due_stride,
            },
        )
        progress(f"  rows {low:,} .. {high:,} inserted")


def load(first: int, last: int, *, with_due: bool, due_stride: int, due_limit: int, progress: Progress) -> None:
    with bulk_loading(progress):
        if with_due:
            columns = ", ".join(TEMPLATE_COLUMNS)
            execute(
                f"""
                INSERT INTO appeals_appeal (id, external_id, author_platform_id, pauses,
                                            extension_reason, reject_reason, created_at, updated_at, {columns})
                SELECT d.id, 'bench-' || d.id, '', '[]'::jsonb, '', '', d.registered_at, %(now)s, {columns}
                FROM bench_due d
                """,
                {"now": NOW},
            )
        insert_rows(first, last, due_stride=due_stride, due_limit=due_limit, progress=progress)


def build(args, progress: Progress) -> Fixture:
    """Migrate, create the registry, compute the templates and the due set, load the smaller table."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    progress("migrated")
    fixture = create_fixture()
    rng = random.Random(2026)
    columns = ("number", *TEMPLATE_COLUMNS)
    execute(
        f"CREATE UNLOGGED TABLE bench_template AS SELECT 0 AS number, {', '.join(TEMPLATE_COLUMNS)} "
        "FROM appeals_appeal WITH NO DATA"
    )
    # Computed before the COPY starts: the first policy lookup queries the database on the same connection.
    templates = [_template_row(n, open_appeal(rng, fixture, NOW)) for n in range(TEMPLATES)]
    copy_rows("bench_template", columns, templates)
    progress(f"{TEMPLATES:,} open-appeal templates computed by appeals.sla and the sweep's own step")
    execute(
        f"CREATE UNLOGGED TABLE bench_due AS SELECT 0::bigint AS id, {', '.join(TEMPLATE_COLUMNS)} "
        "FROM appeals_appeal WITH NO DATA"
    )
    stride = args.small // args.due
    due = [_template_row(stride * (n + 1), due_appeal(rng, fixture, NOW)) for n in range(args.due)]
    copy_rows("bench_due", ("id", *TEMPLATE_COLUMNS), due)
    execute("ALTER TABLE bench_due ADD PRIMARY KEY (id)")
    progress(f"{args.due:,} due appeals computed (first line crossed in the {DUE_WINDOW} before now)")
    load(1, args.small, with_due=True, due_stride=stride, due_limit=args.small, progress=progress)
    return fixture


def describe_data(args) -> None:
    """What the loaded table holds: how many appeals are open, due, checked later, and when."""
    (total, open_count, due, future, unchecked, p50, p90, max_check, size, index_size) = execute(
        """
        SELECT count(*),
               count(*) FILTER (WHERE status IN ('new', 'in_progress', 'waiting', 'answered')),
               count(*) FILTER (WHERE sla_next_check_at <= %(now)s),
               count(*) FILTER (WHERE sla_next_check_at > %(now)s),
               count(*) FILTER (WHERE sla_next_check_at IS NULL),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY sla_next_check_at - %(now)s)
                   FILTER (WHERE sla_next_check_at > %(now)s),
               percentile_cont(0.9) WITHIN GROUP (ORDER BY sla_next_check_at - %(now)s)
                   FILTER (WHERE sla_next_check_at > %(now)s),
               max(sla_next_check_at) - %(now)s,
               pg_size_pretty(pg_total_relation_size('appeals_appeal')),
               pg_size_pretty(pg_relation_size('appeal_sla_next_check_idx'))
        FROM appeals_appeal
        """,
        {"now": NOW},
    )[0]
    print(
        f"  {total:,} appeals, {open_count:,} open: {due:,} due now; {future:,} checked later "
        f"(median in {p50}, 90% within {p90}, last in {max_check}); {unchecked:,} with nothing left to "
        f"announce (paused, or both deadlines breached); table with indexes {size}, partial index {index_size}",
        flush=True,
    )


# Measuring --------------------------------------------------------------------------------------------------


class _Captured(Exception):  # a signal to stop the sweep at its first query, not an error
    pass


def sweep_select() -> tuple[str, Any]:
    """The SQL of the sweep's selecting query, exactly as the service sends it (caught, then rolled back)."""
    from django.db import connection

    from appeals.services import sla_sweep

    captured: dict[str, Any] = {}

    def catch(execute_sql, sql, params, many, context):
        if "FOR UPDATE" in sql and "sla_next_check_at" in sql:
            captured.update(sql=sql, params=params)
            raise _Captured
        return execute_sql(sql, params, many, context)

    with connection.execute_wrapper(catch), contextlib.suppress(_Captured):
        sla_sweep(now=NOW)
    return captured["sql"], captured["params"]


def explain_sweep(label: str) -> None:
    from django.db import connection, transaction

    sql, params = sweep_select()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)  # EXPLAIN ANALYZE took the row locks: let them go
    uses = any("appeal_sla_next_check_idx" in line for line in plan)
    print(f"  EXPLAIN of the sweep's selecting query at {label} (first batch):", flush=True)
    for line in plan:
        print(f"    {line}")
    print(f"  uses the partial index appeal_sla_next_check_idx: {'yes' if uses else 'NO'}", flush=True)


def reset_due() -> None:
    """Put the due rows' sweep columns back as generated, drop the history a run wrote, vacuum: a fresh start."""
    assignments = ", ".join(f"{column} = d.{column}" for column in SWEEP_COLUMNS)
    execute(f"UPDATE appeals_appeal a SET {assignments} FROM bench_due d WHERE a.id = d.id")
    execute("TRUNCATE appeals_appealevent")
    execute("VACUUM appeals_appeal")


def measure(label: str, runs: int, due: int) -> float:
    from appeals.services import sla_sweep

    seconds = []
    for run in range(1, runs + 1):
        reset_due()
        began = time.perf_counter()
        result = sla_sweep(now=NOW)
        elapsed = time.perf_counter() - began
        seconds.append(elapsed)
        again = time.perf_counter()
        second = sla_sweep(now=NOW)
        idle = time.perf_counter() - again
        print(
            f"  {label} run {run}: {elapsed:.2f} s for {result.checked:,} due appeals "
            f"({result.warnings:,} warnings, {result.breaches:,} breaches); "
            f"a second sweep finds {second.checked} in {idle * 1000:.1f} ms",
            flush=True,
        )
        if result.checked != due:
            print(f"  warning: expected {due:,} due appeals, the sweep checked {result.checked:,}", flush=True)
    return statistics.median(seconds)


# Main -------------------------------------------------------------------------------------------------------


def _meta(args) -> dict:
    return {
        "version": META_VERSION,
        "small": args.small,
        "large": args.large,
        "due": args.due,
        "templates": TEMPLATES,
        "now": NOW.isoformat(),
    }


def _kept_database_matches(database_url: str, args) -> bool:
    import psycopg

    try:
        with psycopg.connect(database_url) as connection:
            row = connection.execute("SELECT value FROM bench_meta WHERE key = 'state'").fetchone()
    except psycopg.Error:
        return False
    return row is not None and row[0] == json.dumps(_meta(args), sort_keys=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000_000, help="appeals in the smaller table (default 1M)")
    parser.add_argument("--large", type=int, default=5_000_000, help="appeals in the larger table (default 5M)")
    parser.add_argument("--due", type=int, default=10_000, help="appeals newly due, in both (default 10,000)")
    parser.add_argument("--runs", type=int, default=3, help="sweeps per size; the median is reported (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards and reuse a kept one")
    parser.add_argument("--database-url", default=bench_database_url(DATABASE_NAME), help="the bench database")
    args = parser.parse_args()
    if args.small % args.due or args.large <= args.small:
        parser.error("--small must be a multiple of --due, and --large larger than --small")

    progress = Progress()
    progress(f"machine: {machine_load()}")
    reuse = args.keep and _kept_database_matches(args.database_url, args)
    if not reuse:
        name = urlsplit(args.database_url).path.lstrip("/")
        admin_execute(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
        progress(f"database {name} created")
    configure_django(args.database_url)

    import django

    django.setup()
    from django.db import connection

    from config.celery_app import app as celery_app

    # Notifications are queued on commit, as in production, but into this process's memory only.
    celery_app.conf.broker_url = "memory://localhost/"

    stride = args.small // args.due
    if reuse:
        execute("DELETE FROM bench_meta WHERE key = 'state'")  # a crash from here on means a rebuild
        deleted = execute(
            "WITH gone AS (DELETE FROM appeals_appeal WHERE id > %s RETURNING 1) SELECT count(*) FROM gone",
            [args.small],
        )[0][0]
        execute("VACUUM ANALYZE appeals_appeal")
        progress(f"reusing the kept database: back to {args.small:,} appeals ({deleted:,} removed)")
    else:
        build(args, progress)
    print(f"\n{args.small:,} appeals:", flush=True)
    reset_due()
    describe_data(args)
    explain_sweep(f"{args.small:,}")
    small = measure(
        f"{args.small // 1_000_000}M" if args.small >= 1_000_000 else f"{args.small:,}", args.runs, args.due
    )

    progress(f"growing to {args.large:,} appeals (none of the added ones due)")
    load(args.small + 1, args.large, with_due=False, due_stride=stride, due_limit=args.small, progress=progress)
    print(f"\n{args.large:,} appeals:", flush=True)
    reset_due()  # the last run at the smaller size swept them
    describe_data(args)
    explain_sweep(f"{args.large:,}")
    large = measure(
        f"{args.large // 1_000_000}M" if args.large >= 1_000_000 else f"{args.large:,}", args.runs, args.due
    )

    ratio = large / small
    print(f"\nSLA sweep of {args.due:,} newly due appeals (median of {args.runs} runs each):")
    print(f"  {args.small:>11,} open appeals: {small:6.2f} s  ({small / args.due * 1e6:,.0f} µs per due appeal)")
    print(f"  {args.large:>11,} open appeals: {large:6.2f} s  ({large / args.due * 1e6:,.0f} µs per due appeal)")
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"  t({args.large:,}) / t({args.small:,}) = {ratio:.2f}; target at most {TARGET_RATIO}: {verdict}")
    print(f"  machine: {machine_load()}")

    if args.keep:
        execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL)")
        execute(
            "INSERT INTO bench_meta VALUES ('state', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [json.dumps(_meta(args), sort_keys=True)],
        )
        progress("kept the database for the next run with --keep")
    else:
        connection.close()
        name = urlsplit(args.database_url).path.lstrip("/")
        admin_execute(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        progress(f"database {name} dropped (use --keep to keep it)")


if __name__ == "__main__":
    main()
