"""What the benchmarks that fill the appeal table with millions of rows share (bench.sla_sweep, bench.lists).

Their data is made the same way: a few thousand appeals are computed in Python by the application's own code
(policies, deadlines, the sweep's own step), stored as templates, and PostgreSQL repeats them into millions of
rows with `INSERT ... SELECT generate_series`, with the table's secondary indexes dropped for the load and built
after it (`bulk_loading`). Only the templates pass through Python; the millions are made by the server.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def bench_database_url(name: str) -> str:
    """The PostgreSQL server of DATABASE_URL when it is one (CI, another host), else 127.0.0.1 as root."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        base = "postgres://root@127.0.0.1:5432/postgres"
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def database_name(database_url: str) -> str:
    return urlsplit(database_url).path.lstrip("/")


def configure_django(database_url: str) -> None:
    """Production settings (DEBUG off) on the bench database; call before django.setup()."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def admin_execute(database_url: str, *statements: str) -> None:
    """Run statements on the server's `postgres` database (CREATE/DROP DATABASE cannot run in the bench one)."""
    import psycopg

    parts = urlsplit(database_url)
    admin_url = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


class Progress:
    def __init__(self) -> None:
        self.began = time.perf_counter()

    def __call__(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.began:7.1f}s] {message}", flush=True)


def execute(sql: str, params: Any = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def copy_rows(table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    from django.db import connection

    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def secondary_indexes() -> list[tuple[str, str]]:
    """(name, definition) of the appeal table's indexes that no constraint owns: dropped for a load."""
    return [
        (name, definition)
        for name, definition in execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid = 'appeals_appeal'::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            ORDER BY 1
            """
        )
    ]


@contextmanager
def bulk_loading(progress: Progress) -> Iterator[None]:
    """Load into the appeal table inside the block: its secondary indexes dropped, then built after the block.

    `session_replication_role = replica` switches off the foreign-key triggers (the generators only write ids
    that exist) and every other ordinary trigger too, the search-vector trigger included: a generator copies
    the vector from its template. Ends with the id sequence moved past the largest id and `VACUUM ANALYZE`.
    """
    indexes = secondary_indexes()
    execute("SET session_replication_role = replica")
    execute("SET synchronous_commit = off")
    try:
        for name, _ in indexes:
            execute(f"DROP INDEX {name}")
        yield
    finally:
        execute("RESET session_replication_role")
        execute("RESET synchronous_commit")
    execute("SET maintenance_work_mem = '512MB'")
    execute("SET max_parallel_maintenance_workers = 2")
    for name, definition in indexes:
        execute(definition)
        progress(f"  index {name} built")
    execute("RESET maintenance_work_mem")
    execute("RESET max_parallel_maintenance_workers")
    execute("SELECT setval(pg_get_serial_sequence('appeals_appeal', 'id'), (SELECT max(id) FROM appeals_appeal))")
    execute("VACUUM ANALYZE appeals_appeal")
    progress("  VACUUM ANALYZE done")
