"""The overdue-list exports at a million rows: CSV speed against PostgreSQL's bare COPY of the same statement,
XLSX speed against XlsxWriter writing the same rows bare (and openpyxl's write-only mode, for the choice), and the
process's peak memory growth for 10,000 and 1,000,000 rows.

    .venv/bin/python -m bench.exports [--runs 3] [--xlsx-rows 200000] [--rebuild]

Ours, in-process through the API view (`GET /api/v1/exports/overdue/`, token of an administrator, the response's
stream consumed): the scratch tables, the statement, `COPY … TO STDOUT` streamed in 256 KiB chunks, SHA-256, row
count and the export log; for XLSX the server-side cursor, XlsxWriter's constant_memory sheet and the file
streamed back. References, measured in the same run, alternating with ours:
- CSV: `COPY (the same statement) TO STDOUT` read bare with psycopg (scratch tables ready). Target: ≥ 50%.
- XLSX: the same typed rows (fetched beforehand, untimed) written by XlsxWriter bare with the same options.
  Target: ours ≥ 80% of its rows/s. openpyxl's write-only mode on the same rows is printed beside it.
- Memory: a fresh process per case samples its RSS every 10 ms during one export; growth = peak − RSS before.
  Target: < 50 MB for 10,000 and for 1,000,000 rows (CSV; XLSX at 10,000 and --xlsx-rows).

Data (PostgreSQL, database otklik_exports_bench unless DATABASE_URL names another; kept between runs unless
--rebuild): three organisations in Moscow with 10,000, 200,000 and 790,000 overdue appeals, each with its
`created` event, repeated from one appeal taken in by the intake service with `INSERT … SELECT generate_series`
(bench._appeals.bulk_loading). Benchmarks are not tests: this prints its figures and never fails on timing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from bench._appeals import Progress, admin_execute, bench_database_url, bulk_loading, configure_django, execute
from bench._common import ensure_database

GROUPS = (("bench-exports-s", 10_000), ("bench-exports-m", 200_000), ("bench-exports-l", 790_000))
TOTAL = sum(size for _, size in GROUPS)
MB = 1024 * 1024


def _setup(url: str, *, migrate: bool) -> None:
    configure_django(url)
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def load(progress: Progress) -> None:
    from appeals.models import Appeal, AppealEvent
    from appeals.services import AppealInput, appeal_create
    from core.access import SYSTEM
    from publics.models import Organization, Page, Region

    if Appeal.objects.count() == TOTAL:
        return
    progress(f"building {TOTAL:,} overdue appeals")
    moscow = Region.objects.get(code="RU-MOW")
    pages = []
    for index, (name, _) in enumerate(GROUPS):
        organization, _ = Organization.objects.get_or_create(
            name=name,
            defaults={"region": moscow, "kind": "school", "ogrn": None, "inn": ""},
        )
        page, _ = Page.objects.get_or_create(
            platform="vk", platform_id=f"9900{index}", defaults={"organization": organization, "title": name}
        )
        pages.append(page)
    received = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=10)
    data = AppealInput(
        kind="message",
        channel="comment",
        text="=Во дворе не убран снег, " * 4,
        received_at=received,
        external_id="bench-template",
        author_platform_id="100500",
        author_name="Иван Петров",
    )
    page = Page.objects.select_related("organization__region").get(pk=pages[0].pk)
    template, _ = appeal_create(actor=SYSTEM, page=page, data=data, now=received)
    columns = [f.column for f in Appeal._meta.concrete_fields if f.column != "id"]
    varied = {
        "page_id": "%(page)s",
        "organization_id": "%(organization)s",
        "external_id": "'bench-' || %(offset)s + g",
        "author_name": "'Иван Петров ' || g",
        "received_at": "t.received_at - (g %% 600) * interval '1 minute'",
        "registered_at": "t.registered_at - (g %% 600) * interval '1 minute'",
        "resolution_started_at": "t.resolution_started_at - (g %% 600) * interval '1 minute'",
        "first_response_due_at": "t.first_response_due_at - (g %% 600) * interval '1 minute'",
        "due_at": "t.due_at - (g %% 600) * interval '1 minute'",
    }
    select = ", ".join(varied.get(column, f"t.{column}") for column in columns)
    with bulk_loading(progress):
        offset = 0
        for page, (name, size) in zip(pages, GROUPS, strict=True):
            count = size - (1 if offset == 0 else 0)  # the template is one of the first group
            execute(
                f"INSERT INTO appeals_appeal ({', '.join(columns)}) SELECT {select} "
                "FROM appeals_appeal t, generate_series(1, %(count)s) g WHERE t.id = %(template)s",
                {
                    "page": page.pk,
                    "organization": page.organization_id,
                    "offset": offset,
                    "count": count,
                    "template": template.pk,
                },
            )
            offset += size
            progress(f"  {name}: {size:,} appeals")
        execute(
            f"INSERT INTO {AppealEvent._meta.db_table} (appeal_id, actor_id, action, from_status, to_status, reason, "
            "data, created_at, previous_hash, hash) SELECT id, NULL, 'created', '', 'new', '', '{}', received_at, '', "
            "md5(id::text) || md5(id::text) FROM appeals_appeal WHERE id <> %s",
            [template.pk],
        )
        progress("  events written")
    execute("VACUUM ANALYZE appeals_appealevent")


def _admin():
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from publics.models import Membership

    user, created = get_user_model().objects.get_or_create(username="bench-exports-admin")
    if created:
        Membership.objects.create(user=user, role="federal_admin")
    return user, Token.objects.get_or_create(user=user)[0].key


def _view_export(token: str, params: dict) -> tuple[float, int, int]:
    """(seconds, bytes, rows) of one export through the view, its stream consumed."""
    from django.test import RequestFactory

    from exports.api.views import OverdueExportView

    request = RequestFactory().get("/api/v1/exports/overdue/", params, HTTP_AUTHORIZATION=f"Token {token}")
    began = time.perf_counter()
    response = OverdueExportView.as_view()(request)
    size = newlines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        newlines += chunk.count(b"\n")
    return time.perf_counter() - began, size, newlines - 1


def _filters(user, **params):
    from exports.filters import ExportQuerySerializer

    query = ExportQuerySerializer(data=params)
    query.is_valid(raise_exception=True)
    return query.to_filters()[0]


def _bare_copy(user, params: dict) -> tuple[float, int]:
    from django.db import connection, transaction

    from exports import selectors

    filters = _filters(user, **params)
    with transaction.atomic(), connection.cursor() as wrapper:
        cursor = wrapper.cursor
        selectors.prepare_scratch(cursor, user, filters)
        statement, bound = selectors.overdue_statement(user, filters, typed=False)
        size = 0
        began = time.perf_counter()
        with cursor.copy(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)", bound) as copy:
            for data in copy:
                size += len(data)
        return time.perf_counter() - began, size


def _typed_rows(user, params: dict) -> list[tuple]:
    from exports import services

    rows: list[tuple] = []
    for batch in services._typed_rows(user, _filters(user, **params)):
        rows.extend(batch)
    return rows


def _bare_xlsxwriter(rows: list[tuple]) -> float:
    import xlsxwriter

    from exports import selectors

    with tempfile.NamedTemporaryFile(suffix=".xlsx") as target:
        began = time.perf_counter()
        workbook = xlsxwriter.Workbook(
            target.name,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "default_date_format": "yyyy-mm-dd hh:mm:ss",
            },
        )
        sheet = workbook.add_worksheet()
        sheet.write_row(0, 0, selectors.headers())
        write_row = sheet.write_row
        for number, row in enumerate(rows, start=1):
            write_row(number, 0, row)
        workbook.close()
        return time.perf_counter() - began


def _bare_openpyxl(rows: list[tuple]) -> float:
    import openpyxl

    from exports import selectors

    with tempfile.NamedTemporaryFile(suffix=".xlsx") as target:
        began = time.perf_counter()
        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(selectors.headers())
        for row in rows:
            sheet.append(row)
        workbook.save(target.name)
        return time.perf_counter() - began


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(url: str, fmt: str, group: str) -> None:
    """One export in a fresh process: print the RSS growth at its peak, in bytes, and its row count."""
    _setup(url, migrate=False)
    from publics.models import Organization

    _, token = _admin()
    params: dict = {"format": fmt}
    if group != "all":
        params["organization"] = Organization.objects.get(name=group).pk
    _view_export(token, {**params, "min_hours_overdue": "1000000"})  # imports and caches, no rows
    before = _rss()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, _, rows = _view_export(token, params)
    done.set()
    sampler.join()
    print(f"{peak[0] - before} {rows}")


def _memory(url: str, fmt: str, group: str) -> tuple[int, int]:
    output = subprocess.run(
        [sys.executable, "-m", "bench.exports", "--child", fmt, group],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url},
    ).stdout.split()
    return int(output[-2]), int(output[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--xlsx-group", type=int, default=1, help="the organisation of the XLSX runs: 0 (10,000 rows), 1 (200,000)"
    )
    parser.add_argument(
        "--only", default="csv,xlsx,memory", help="which parts, comma-separated: csv, xlsx, memory (default all)"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = bench_database_url("otklik_exports_bench")
    if args.child:
        child(url, *args.child)
        return
    progress = Progress()
    name = url.rsplit("/", 1)[-1]
    if args.rebuild:
        admin_execute(url, f"DROP DATABASE IF EXISTS {name}")
    ensure_database(url)
    _setup(url, migrate=True)
    load(progress)
    from bench._common import machine_load
    from publics.models import Organization

    user, token = _admin()
    middle = Organization.objects.get(name=GROUPS[args.xlsx_group][0]).pk
    print(f"\n{TOTAL:,} overdue appeals; {machine_load()}")

    parts = set(args.only.split(","))
    if "csv" in parts:
        _csv_part(user, token, args.runs)
    if "xlsx" in parts:
        _xlsx_part(user, token, middle, args.runs)
    if "memory" in parts:
        _memory_part(url)


def _csv_part(user, token: str, runs: int) -> None:
    ours, bare = [], []
    rows = size = 0
    for _ in range(runs):
        seconds, size, rows = _view_export(token, {"format": "csv"})
        ours.append(seconds)
        bare.append(_bare_copy(user, {})[0])
    csv_ours, csv_bare = statistics.median(ours), statistics.median(bare)
    print(f"\nCSV, {rows:,} rows ({size / MB:.0f} MB), median of {runs}:")
    print(f"  ours (the view, streamed)          {csv_ours:6.2f} s  {rows / csv_ours:10,.0f} rows/s")
    print(f"  bare COPY of the same statement    {csv_bare:6.2f} s  {rows / csv_bare:10,.0f} rows/s")
    print(f"  ours / COPY = {csv_bare / csv_ours:.0%}  (target >= 50%)")


def _xlsx_part(user, token: str, middle: int, runs: int) -> None:
    typed = _typed_rows(user, {"organization": middle})
    ours, bare, other = [], [], []
    for _ in range(runs):
        ours.append(_view_export(token, {"format": "xlsx", "organization": middle})[0])
        bare.append(_bare_xlsxwriter(typed))
        other.append(_bare_openpyxl(typed))
    xlsx_ours, xlsx_bare, xlsx_openpyxl = (statistics.median(v) for v in (ours, bare, other))
    count = len(typed)
    print(f"\nXLSX, {count:,} rows of {len(typed[0])} typed columns, median of {runs}:")
    print(f"  ours (the view: query, XlsxWriter, file streamed) {count / xlsx_ours:8,.0f} rows/s")
    print(f"  XlsxWriter constant_memory, bare                  {count / xlsx_bare:8,.0f} rows/s")
    print(f"  openpyxl write_only, bare                         {count / xlsx_openpyxl:8,.0f} rows/s")
    print(f"  ours / bare XlsxWriter = {xlsx_bare / xlsx_ours:.0%}  (target >= 80%)")


def _memory_part(url: str) -> None:
    print("\nPeak RSS growth of a fresh process during one export (target < 50 MB):")
    for fmt, group in (("csv", GROUPS[0][0]), ("csv", "all"), ("xlsx", GROUPS[0][0]), ("xlsx", GROUPS[1][0])):
        growth, exported = _memory(url, fmt, group)
        print(f"  {fmt:4} {exported:>9,} rows  {growth / MB:6.1f} MB")


if __name__ == "__main__":
    main()
