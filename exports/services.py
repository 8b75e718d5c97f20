"""Exports: the overdue list written as CSV or XLSX, streamed or in a background job, and logged.

The bytes depend only on the filters, `as_of`, the language and the data as it stood then: rows in id order,
no creation time inside the file (the XLSX's document date is `as_of`, and XlsxWriter dates its zip entries
1980-01-01), so the same request gives the same SHA-256 on any day. Every export that reaches its end appends an
`ExportLogEntry` with the row count and that SHA-256.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.access import Actor
from core.errors import Conflict
from exports import selectors
from exports.filters import filters_from_json
from exports.models import ExportFormat, ExportJob, ExportKind, ExportLogEntry, JobStatus
from exports.selectors import OverdueFilters

logger = logging.getLogger(__name__)

BOM = "\ufeff".encode()
CHUNK_BYTES = 256 * 1024
FETCH_ROWS = 5000
CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
XLSX_WIDTHS = [10, 22, 36, 28, 11, 34, 18, 26, 20, 20, 20, 16, 12, 12, 16, 22, 18, 60]
ProgressCallback = Callable[[int], None]


def filename_for(filters: OverdueFilters, fmt: str) -> str:
    return f"overdue-{filters.as_of.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}.{fmt}"


# Writers ---------------------------------------------------------------------------------------------------------


def _header_line() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(selectors.headers())
    return BOM + buffer.getvalue().encode()


def _csv_chunks(user: Actor, filters: OverdueFilters, progress: ProgressCallback | None) -> Iterator[bytes]:
    """The CSV: UTF-8 with BOM, RFC 4180 quoting, one row per line (line breaks inside cells are spaces)."""
    yield _header_line()
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as wrapper:
            cursor = wrapper.cursor  # psycopg's own: COPY and its stream
            selectors.prepare_scratch(cursor, user, filters)
            statement, params = selectors.overdue_statement(user, filters, typed=False)
            buffer = bytearray()
            rows = 0
            with cursor.copy(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)", params) as copy:
                for data in copy:
                    buffer += data
                    if len(buffer) >= CHUNK_BYTES:
                        if progress is not None:
                            rows += buffer.count(b"\n")
                            progress(rows)
                        yield bytes(buffer)
                        buffer.clear()
            if buffer:
                yield bytes(buffer)
        return
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    for count, row in enumerate(selectors.overdue_rows_python(user, filters), start=1):
        writer.writerow(selectors.as_text(row))
        if text.tell() >= CHUNK_BYTES:
            if progress is not None:
                progress(count)
            yield text.getvalue().encode()
            text.seek(0)
            text.truncate()
    yield text.getvalue().encode()


def _typed_rows(user: Actor, filters: OverdueFilters) -> Iterator[list[tuple]]:
    """Batches of typed rows: from a server-side cursor on PostgreSQL (cells computed by the statement).

    On PostgreSQL a thread fetches the next batch while the caller writes the current one: the database computes
    rows in its own process, so the statement and the writer overlap (two batches in flight at most, so memory
    stays flat). The thread uses the psycopg connection only, inside the caller's transaction."""
    if connection.vendor != "postgresql":
        batch: list[tuple] = []
        for row in selectors.overdue_rows_python(user, filters):
            batch.append(row)
            if len(batch) >= FETCH_ROWS:
                yield batch
                batch = []
        if batch:
            yield batch
        return
    with transaction.atomic():
        connection.ensure_connection()
        with connection.cursor() as wrapper:
            selectors.prepare_scratch(wrapper.cursor, user, filters)
        statement, params = selectors.overdue_statement(user, filters, typed=True)
        with connection.connection.cursor(name="exports_overdue") as cursor:
            cursor.execute(statement, params)
            batches: queue.Queue = queue.Queue(maxsize=2)
            stop = threading.Event()

            def fetch() -> None:
                try:
                    while not stop.is_set():
                        rows = cursor.fetchmany(FETCH_ROWS)
                        batches.put(rows)
                        if not rows:
                            return
                except BaseException as exc:  # handed to the consumer, raised there
                    batches.put(exc)

            fetcher = threading.Thread(target=fetch, name="exports-fetch", daemon=True)
            fetcher.start()
            try:
                while True:
                    item = batches.get()
                    if isinstance(item, BaseException):
                        raise item
                    if not item:
                        return
                    yield item
            finally:
                stop.set()
                while fetcher.is_alive():  # unblock a fetcher waiting to put, then let it end
                    try:
                        batches.get_nowait()
                    except queue.Empty:
                        fetcher.join(0.05)


def write_xlsx(
    path: str, batches: Iterable[list[tuple]], *, created: dt.datetime, progress: ProgressCallback | None
) -> int:
    """Write the workbook with XlsxWriter's constant_memory mode (a row at a time, flushed to a temporary
    file): typed cells, frozen header, filters on, set widths. Returns the row count."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            # Cells are data, never formulas, links or numbers read from text.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": "yyyy-mm-dd hh:mm:ss",
        },
    )
    workbook.set_properties({"created": created.astimezone(dt.UTC).replace(tzinfo=None)})
    sheet = workbook.add_worksheet(_("Overdue appeals")[:31])
    header = workbook.add_format({"bold": True})
    for column, width in enumerate(XLSX_WIDTHS):
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, selectors.headers(), header)
    write_row = sheet.write_row
    row_number = 0
    for batch in batches:
        for row in batch:
            row_number += 1
            write_row(row_number, 0, row)
        if progress is not None:
            progress(row_number)
    sheet.autofilter(0, 0, max(row_number, 1), len(selectors.COLUMNS) - 1)
    workbook.close()
    return row_number


def _xlsx_chunks(user: Actor, filters: OverdueFilters, progress: ProgressCallback | None) -> Iterator[bytes]:
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(path, _typed_rows(user, filters), created=filters.as_of, progress=progress)
        with open(path, "rb") as stream:
            while chunk := stream.read(CHUNK_BYTES):
                yield chunk
    finally:
        os.unlink(path)


@dataclass
class ExportResult:
    rows: int = 0
    sha256: str = ""
    size: int = 0
    entry: ExportLogEntry | None = None
    _hash: object = field(default_factory=hashlib.sha256, repr=False)


def export_chunks(
    *, user: Actor, filters: OverdueFilters, fmt: str, result: ExportResult, progress: ProgressCallback | None = None
) -> Iterator[bytes]:
    """The file's bytes as they are made; `result` has the row count and SHA-256 once the iterator is exhausted.

    Rows of the caller's scope only (the selectors narrow every statement to it)."""
    digest = hashlib.sha256()
    newlines = 0
    xlsx_rows = [0]
    if fmt == ExportFormat.CSV:
        chunks = _csv_chunks(user, filters, progress)
    else:

        def both(rows: int) -> None:
            xlsx_rows[0] = rows
            if progress is not None:
                progress(rows)

        chunks = _xlsx_chunks(user, filters, both)
    for chunk in chunks:
        digest.update(chunk)
        result.size += len(chunk)
        if fmt == ExportFormat.CSV:
            newlines += chunk.count(b"\n")
        yield chunk
    result.rows = newlines - 1 if fmt == ExportFormat.CSV else xlsx_rows[0]
    result.sha256 = digest.hexdigest()


def export_log_append(
    *,
    user: Actor,
    filters_json: dict,
    filters: OverdueFilters,
    fmt: str,
    result: ExportResult,
    channel: str,
    job: ExportJob | None = None,
) -> ExportLogEntry:
    return ExportLogEntry.objects.create(
        user=user,
        kind=ExportKind.OVERDUE,
        format=fmt,
        filters=filters_json,
        as_of=filters.as_of,
        rows=result.rows,
        sha256=result.sha256,
        channel=channel,
        job=job,
        created_at=timezone.now(),
    )


def overdue_stream(
    *, user: Actor, filters: OverdueFilters, filters_json: dict, fmt: str, channel: str
) -> Iterator[bytes]:
    """The file streamed (API, admin): logged once its last byte is made. The bytes are made after the view has
    returned, so the request's language is taken now and kept for them."""
    language = translation.get_language() or settings.LANGUAGE_CODE

    def stream() -> Iterator[bytes]:
        result = ExportResult()
        with translation.override(language):
            yield from export_chunks(user=user, filters=filters, fmt=fmt, result=result)
        result.entry = export_log_append(
            user=user, filters_json=filters_json, filters=filters, fmt=fmt, result=result, channel=channel
        )

    return stream()


# Jobs --------------------------------------------------------------------------------------------------------------


def export_job_create(*, actor: Actor, fmt: str, filters_json: dict, as_of: dt.datetime, language: str) -> ExportJob:
    """Queue a background export (on commit); the task builds the file (`export_job_run`)."""
    from exports import tasks

    if actor is None or not actor.is_authenticated:
        raise Conflict(_("Log in to export."))
    with transaction.atomic():
        job = ExportJob.objects.create(
            owner=actor,
            kind=ExportKind.OVERDUE,
            format=fmt,
            filters=filters_json,
            as_of=as_of,
            language=language,
        )
        transaction.on_commit(lambda: tasks.run_export_job.delay(job.pk))
    return job


class _Progress:
    """Writes a job's progress at most once per percent. On PostgreSQL on a connection of its own, so that it is
    seen while the export's own transaction (its scratch tables, its cursor) is still open."""

    def __init__(self, job_id: int, total: int) -> None:
        self.job_id = job_id
        self.total = total
        self.last = -1
        self.own = connections.create_connection("default") if connection.vendor == "postgresql" else None

    def close(self) -> None:
        if self.own is not None:
            self.own.close()

    def __call__(self, rows: int) -> None:
        if not self.total:
            return
        percent = min(99, rows * 100 // self.total)
        if percent <= self.last:
            return
        self.last = percent
        if self.own is None:
            ExportJob.objects.filter(pk=self.job_id).update(progress=percent)
            return
        with self.own.cursor() as cursor:
            cursor.execute(f"UPDATE {ExportJob._meta.db_table} SET progress = %s WHERE id = %s", [percent, self.job_id])  # noqa: S608


def export_job_run(*, job_id: int, now: dt.datetime | None = None) -> ExportJob:
    """Build a job's file from the start and store it; idempotent.

    A job interrupted half-way (the worker was killed: the task is redelivered, acks_late) starts again from
    nothing: the partial file of the first attempt is replaced, and the log gets one entry, written with the
    job's completion in one transaction (a unique constraint on the job refuses a second).
    """
    job = ExportJob.objects.select_related("owner").get(pk=job_id)
    if job.status in (JobStatus.DONE, JobStatus.EXPIRED):
        return job
    now = now or timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, attempts=job.attempts + 1, started_at=now, progress=0, error=""
    )
    user = job.owner
    filters = filters_from_json(job.filters, as_of=job.as_of)
    result = ExportResult()
    name = selectors.storage_name(job, filename_for(filters, job.format))
    handle, path = tempfile.mkstemp(suffix=f".{job.format}")
    try:
        with translation.override(job.language), os.fdopen(handle, "wb") as stream:
            progress = _Progress(job.pk, selectors.overdue_upper_bound(user, filters))
            try:
                for chunk in export_chunks(
                    user=user, filters=filters, fmt=job.format, result=result, progress=progress
                ):
                    stream.write(chunk)
            finally:
                progress.close()
        if default_storage.exists(name):
            default_storage.delete(name)  # the partial or whole file of an earlier attempt
        with open(path, "rb") as stream:
            stored = default_storage.save(name, File(stream))
    except Exception as exc:
        logger.exception("export job %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error=str(exc)[:2000])
        raise
    finally:
        if os.path.exists(path):
            os.unlink(path)
    finished = timezone.now()
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job.pk)
        job.status = JobStatus.DONE
        job.progress = 100
        job.rows = result.rows
        job.sha256 = result.sha256
        job.file.name = stored
        job.finished_at = finished
        job.expires_at = finished + dt.timedelta(seconds=settings.EXPORTS_FILE_TTL_SECONDS)
        job.save()
        if not ExportLogEntry.objects.filter(job=job).exists():
            export_log_append(
                user=user,
                filters_json=job.filters,
                filters=filters,
                fmt=job.format,
                result=result,
                channel="job",
                job=job,
            )
    return job


def export_files_expire(*, now: dt.datetime | None = None) -> int:
    """Delete the files of finished jobs past `expires_at` (periodic); the job row and its log entry stay."""
    now = now or timezone.now()
    expired = 0
    for job in ExportJob.objects.filter(status=JobStatus.DONE, expires_at__lte=now).order_by("pk").iterator():
        if job.file.name:
            default_storage.delete(job.file.name)
        ExportJob.objects.filter(pk=job.pk, status=JobStatus.DONE).update(status=JobStatus.EXPIRED, file="")
        expired += 1
    return expired
