"""Bulk audience upsert through the API, against PostgreSQL's COPY of the same rows.

    .venv/bin/python -m bench.audience_upsert [--pages 1000] [--rows 100000] [--batch 1000] [--runs 3]
                                              [--threads 2] [--workers 2] [--worker-class sync]
                                              [--profile auto|always|never]

`POST /api/v1/audience-snapshots/` is how collectors push subscriber counts. The reference for "fast enough" is
the database's own bulk path: COPY of the same rows into the same (emptied) table, with the same indexes and
foreign key. Target: the API sustains at least 10% of COPY's rows/s.

Setup, on PostgreSQL only (DATABASE_URL, default postgres://root@127.0.0.1:5432/otklik_bench; the database is
created if missing and migrated): 1,000 pages of 100 organisations in 10 regions, a federal administrator with a
DRF token. The API runs under gunicorn (production settings, DEBUG off, 2 sync workers, 127.0.0.1 on a free port)
and is fed by 2 client threads, each with its own keep-alive connection, one batch of 1,000 rows per request: 100
dates x 1,000 pages, one date per batch, as a daily collector sends them.

Each run: empty the table; upsert all rows through the API (inserts); send the same rows again (pure updates);
empty the table; COPY the rows in one transaction. Runs alternate so that drift (autovacuum, page cache,
another process) hits both sides alike; the medians are reported. When the API misses the target, the request
path is profiled in-process (cProfile and SQL time) and the biggest costs are printed.
Benchmarks are not tests: this prints its figures and the target, and never fails on timing.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import http.client
import io
import json
import pstats
import random
import statistics
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench._common import add_server_arguments, database_url_or_exit, ensure_database, machine_load, setup_django

TARGET_SHARE = 0.10
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/otklik_bench"
API_PATH = "/api/v1/audience-snapshots/"
FIRST_DATE = dt.date(2025, 1, 1)
ORGANIZATIONS = 100
REGION_CODES = ["RU-MOW", "RU-SPE", "RU-KGD", "RU-TA", "RU-BA", "RU-SVE", "RU-NVS", "RU-KYA", "RU-PRI", "RU-CHU"]


# --- database -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    page_ids: list[int]
    token: str


def seed(pages: int) -> Seed:
    """Organisations, pages and an administrator's token; idempotent, so a second run reuses them."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from publics.models import Membership, Organization, Page, Region, Role

    regions = list(Region.objects.filter(code__in=REGION_CODES).order_by("code"))
    names = [f"bench-org-{index:03d}" for index in range(ORGANIZATIONS)]
    existing = set(Organization.objects.filter(name__in=names).values_list("name", flat=True))
    Organization.objects.bulk_create(
        Organization(name=name, kind="school", region=regions[index % len(regions)])
        for index, name in enumerate(names)
        if name not in existing
    )
    organization_ids = list(Organization.objects.filter(name__in=names).order_by("name").values_list("id", flat=True))
    platform_ids = [f"bench-{index:06d}" for index in range(pages)]
    Page.objects.bulk_create(
        [
            Page(
                organization_id=organization_ids[index % ORGANIZATIONS],
                platform="vk",
                platform_id=platform_id,
                title=f"Бенчмарк, страница {index}",
            )
            for index, platform_id in enumerate(platform_ids)
        ],
        ignore_conflicts=True,
    )
    page_ids = list(
        Page.objects.filter(platform="vk", platform_id__in=platform_ids).order_by("id").values_list("id", flat=True)
    )

    user, _ = get_user_model().objects.get_or_create(username="bench-federal-admin")
    Membership.objects.get_or_create(user=user, role=Role.FEDERAL_ADMIN)
    token, _ = Token.objects.get_or_create(user=user)
    return Seed(page_ids=page_ids, token=token.key)


def snapshot_table() -> tuple[str, str]:
    from publics.models import AudienceSnapshot

    return AudienceSnapshot._meta.db_table, "page_id, date, subscribers, views, posts"


def truncate(url: str) -> None:
    import psycopg
    from psycopg import sql

    table, _ = snapshot_table()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))


# --- data -----------------------------------------------------------------------------------------------------

Row = tuple[int, dt.date, int, int, int]


def make_batches(page_ids: list[int], rows: int, batch: int) -> list[list[Row]]:
    """Rows ordered by date then page, cut into batches: a daily collector's pushes. Deterministic."""
    rng = random.Random(2025)
    base = {page_id: rng.randint(100, 500_000) for page_id in page_ids}
    flat: list[Row] = []
    day = 0
    while len(flat) < rows:
        date = FIRST_DATE + dt.timedelta(days=day)
        for page_id in page_ids:
            subscribers = base[page_id] + day * rng.randint(0, 50)
            flat.append((page_id, date, subscribers, rng.randint(0, 100 * subscribers), rng.randint(0, 20)))
            if len(flat) == rows:
                break
        day += 1
    return [flat[start : start + batch] for start in range(0, len(flat), batch)]


def api_body(rows: list[Row]) -> bytes:
    snapshots = [
        {"page": page, "date": date.isoformat(), "subscribers": subscribers, "views": views, "posts": posts}
        for page, date, subscribers, views, posts in rows
    ]
    return json.dumps({"snapshots": snapshots}, separators=(",", ":")).encode()


def copy_text(rows: list[Row]) -> bytes:
    return "".join(f"{p}\t{d.isoformat()}\t{s}\t{v}\t{n}\n" for p, d, s, v, n in rows).encode()


# --- the two loaders --------------------------------------------------------------------------------------------


def run_api(base_url: str, token: str, bodies: list[bytes], rows: int, threads: int) -> float:
    """POST every body; returns rows/s over the wall time from the first request to the last response."""
    parts = urlsplit(base_url)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json", "Connection": "keep-alive"}
    next_index = iter(range(len(bodies)))
    lock = threading.Lock()
    errors: list[str] = []

    def worker() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        try:
            while not errors:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                for attempt in (1, 2):
                    try:
                        connection.request("POST", API_PATH, body=bodies[index], headers=headers)
                        response = connection.getresponse()
                        payload = response.read()
                        break
                    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                        # The server closed an idle keep-alive connection; the upsert is idempotent, so resend.
                        connection.close()
                        if attempt == 2:
                            raise
                if response.status != 200:
                    errors.append(f"batch {index}: HTTP {response.status} {payload[:300]!r}")
        except Exception as exc:  # reported by the main thread, which stops the run
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError("the API refused a batch: " + "; ".join(errors[:3]))
    return rows / elapsed


def run_copy(url: str, chunks: list[bytes], rows: int, *, bare: bool = False) -> float:
    """COPY all rows in one transaction (connect time excluded, commit included); rows/s.

    Into the emptied real table, with its unique index, FK index and FK trigger (the reference), or with
    `bare` into a temporary copy with no index, unique or foreign key: the ceiling of the server, for context.
    """
    import psycopg

    table, columns = snapshot_table()
    with psycopg.connect(url) as connection:
        if bare:
            connection.execute(
                f"CREATE TEMP TABLE bench_bare_copy (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY) ON COMMIT DROP"
            )
            table = "bench_bare_copy"
        started = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for chunk in chunks:
                copy.write(chunk)
        connection.commit()
        elapsed = time.perf_counter() - started
    return rows / elapsed


def count_rows(url: str) -> int:
    import psycopg
    from psycopg import sql

    table, _ = snapshot_table()
    with psycopg.connect(url) as connection:
        return connection.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]


# --- profile ----------------------------------------------------------------------------------------------------


def profile_request_path(url: str, token: str, bodies: list[bytes], batches: int) -> None:
    """Run some batches in-process through Django's full stack (as gunicorn's worker would), under cProfile,
    with SQL execution timed separately; print where the time of one request goes."""
    from django.db import connection
    from django.test import Client

    truncate(url)
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    sql_seconds = 0.0
    statements = 0

    def timed_sql(execute, sql, params, many, context):
        nonlocal sql_seconds, statements
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_seconds += time.perf_counter() - started
            statements += 1

    client.post(API_PATH, data=bodies[-1], content_type="application/json")  # warm caches and the connection
    truncate(url)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    with connection.execute_wrapper(timed_sql):
        profiler.enable()
        for body in bodies[:batches]:
            response = client.post(API_PATH, data=body, content_type="application/json")
            assert response.status_code == 200, response.content[:300]
        profiler.disable()
    total = time.perf_counter() - started
    per_request = total / batches * 1000
    print(
        f"\nprofile: {batches} inserting requests in-process, {per_request:.1f} ms per 1,000-row request "
        f"({1000 / per_request * 1000:,.0f} rows/s for one worker, profiler overhead included); "
        f"SQL execution {sql_seconds / batches * 1000:.1f} ms per request over {statements / batches:.0f} "
        f"statements, the rest ({(total - sql_seconds) / batches * 1000:.1f} ms) is Python"
    )
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).strip_dirs()
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(15)
    print(stream.getvalue())


# --- main -----------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="pages to spread the rows over (default 1,000)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows per load (default 100,000)")
    parser.add_argument("--batch", type=int, default=1000, help="rows per request (default 1,000, the API's cap)")
    parser.add_argument("--runs", type=int, default=3, help="alternating API/COPY runs; medians reported (default 3)")
    add_server_arguments(parser, threads=2)
    args = parser.parse_args()

    url = database_url_or_exit(
        DEFAULT_DATABASE_URL,
        "bench.audience_upsert needs PostgreSQL: its reference is PostgreSQL's COPY, and SQLite's one writer "
        "would measure nothing useful.",
    )
    ensure_database(url)
    setup_django(url)
    from bench._server import gunicorn_server

    seeded = seed(args.pages)
    batches = make_batches(seeded.page_ids, args.rows, args.batch)
    rows = sum(len(batch) for batch in batches)
    bodies = [api_body(batch) for batch in batches]
    chunks = [copy_text(batch) for batch in batches]
    print(
        f"audience upsert: {rows:,} rows over {len(seeded.page_ids):,} pages, {len(bodies)} requests of "
        f"{args.batch:,} rows ({sum(map(len, bodies)) / len(bodies) / 1024:.0f} KiB each); database {urlsplit(url).path[1:]}"
    )

    inserts: list[float] = []
    updates: list[float] = []
    copies: list[float] = []
    bare_copies: list[float] = []
    with gunicorn_server(database_url=url, workers=args.workers, worker_class=args.worker_class) as server:
        print(
            f"gunicorn {server.base_url}: {server.workers} {server.worker_class} workers; "
            f"{args.threads} client threads (http.client, keep-alive)"
        )
        truncate(url)
        run_api(server.base_url, seeded.token, bodies[: 4 * args.threads], 4 * args.threads * args.batch, args.threads)
        for run in range(1, args.runs + 1):
            truncate(url)
            inserts.append(run_api(server.base_url, seeded.token, bodies, rows, args.threads))
            loaded = count_rows(url)
            updates.append(run_api(server.base_url, seeded.token, bodies, rows, args.threads))
            truncate(url)
            copies.append(run_copy(url, chunks, rows))
            copied = count_rows(url)
            bare_copies.append(run_copy(url, chunks, rows, bare=True))
            print(
                f"run {run}: API insert {inserts[-1]:>9,.0f} rows/s ({loaded:,} rows)   API update {updates[-1]:>9,.0f} "
                f"rows/s   COPY {copies[-1]:>10,.0f} rows/s ({copied:,} rows)"
            )

    api, update, copy = statistics.median(inserts), statistics.median(updates), statistics.median(copies)
    ratio = api / copy
    print(f"\nmedian of {args.runs} runs (machine: {machine_load()}):")
    print(f"  API rows/s (insert):         {api:>10,.0f}")
    print(f"  API rows/s (update, again):  {update:>10,.0f}")
    print(f"  COPY rows/s:                 {copy:>10,.0f}")
    print(f"  ratio API/COPY:              {ratio:>10.1%}   (updates/COPY {update / copy:.1%})")
    verdict = "met" if ratio >= TARGET_SHARE else "NOT met"
    print(f"target: API >= {TARGET_SHARE:.0%} of COPY ({TARGET_SHARE * copy:,.0f} rows/s): {verdict}")
    bare = statistics.median(bare_copies)
    print(
        f"context, not the reference: COPY into a bare temporary table (no index, no FK) {bare:,.0f} rows/s; "
        f"the API is {api / bare:.1%} of that"
    )
    if args.profile == "always" or (args.profile == "auto" and ratio < TARGET_SHARE):
        profile_request_path(url, seeded.token, bodies, batches=min(20, len(bodies)))
    truncate(url)  # leave the database small; the pages and token stay for the next run


if __name__ == "__main__":
    main()
