"""Background jobs (202, status, progress, file, expiry, the interrupted job) and the append-only export log."""

import datetime as dt
import hashlib

import pytest
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from exports import services
from exports.models import ExportJob, ExportLogEntry, JobStatus
from tests.exports.conftest import xlsx_sheet
from tests.factories import make_appeal

pytestmark = pytest.mark.django_db

MSK = dt.timezone(dt.timedelta(hours=3))
RECEIVED = dt.datetime(2026, 10, 5, 10, 0, tzinfo=MSK)
AS_OF = "2026-10-06T10:00:00+03:00"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def appeals(world):
    return [make_appeal(world.page_a, received_at=RECEIVED), make_appeal(world.page_b, received_at=RECEIVED)]


def start(api, user, django_capture_on_commit_callbacks, **body):
    payload = {"kind": "overdue", "format": "csv", "as_of": AS_OF, **body}
    with django_capture_on_commit_callbacks(execute=True):
        return api.as_user(user).post("/api/v1/exports/", payload, format="json")


def test_a_job_is_accepted_built_and_downloaded(api, world, appeals, django_capture_on_commit_callbacks):
    response = start(api, world.auditor_x, django_capture_on_commit_callbacks, format="xlsx")
    assert response.status_code == 202
    job_id = response.json()["id"]
    detail = api.as_user(world.auditor_x).get(f"/api/v1/exports/{job_id}/").json()
    assert detail["status"] == "done" and detail["progress"] == 100 and detail["rows"] == 1
    assert detail["download_url"].endswith(f"/api/v1/exports/{job_id}/download/")
    download = api.as_user(world.auditor_x).get(detail["download_url"])
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == detail["sha256"]
    sheet = xlsx_sheet(body)
    assert sheet.cell(row=2, column=1).value == appeals[0].pk  # the auditor's region only
    assert sheet.max_row == 2
    entry = ExportLogEntry.objects.get(job_id=job_id)
    assert (entry.channel, entry.rows, entry.sha256, entry.user_id) == ("job", 1, detail["sha256"], world.auditor_x.pk)


def test_a_job_file_is_the_same_bytes_as_the_streamed_list(api, world, appeals, django_capture_on_commit_callbacks):
    job_id = start(api, world.admin, django_capture_on_commit_callbacks).json()["id"]
    streamed = b"".join(api.as_user(world.admin).get("/api/v1/exports/overdue/", {"as_of": AS_OF}).streaming_content)
    assert ExportJob.objects.get(pk=job_id).sha256 == hashlib.sha256(streamed).hexdigest()


def test_bad_job_input_is_a_400(api, world):
    response = api.as_user(world.auditor_x).post(
        "/api/v1/exports/", {"kind": "overdue", "format": "pdf", "region": "XX"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"format", "region"}
    assert not ExportJob.objects.exists()


def test_a_stranger_sees_no_one_elses_job_nor_its_file(api, world, appeals, django_capture_on_commit_callbacks):
    job_id = start(api, world.auditor_x, django_capture_on_commit_callbacks).json()["id"]
    for user in (world.stranger, world.auditor_federal):
        assert api.as_user(user).get(f"/api/v1/exports/{job_id}/").status_code == 404
        assert api.as_user(user).get(f"/api/v1/exports/{job_id}/download/").status_code == 404
    assert api.as_user(world.admin).get(f"/api/v1/exports/{job_id}/").status_code == 200


def test_a_strangers_job_has_no_rows(api, world, appeals, django_capture_on_commit_callbacks):
    job_id = start(api, world.stranger, django_capture_on_commit_callbacks).json()["id"]
    assert ExportJob.objects.get(pk=job_id).rows == 0


def test_the_job_detail_costs_a_fixed_number_of_queries(api, world, appeals, django_capture_on_commit_callbacks):
    job_id = start(api, world.auditor_x, django_capture_on_commit_callbacks).json()["id"]
    client = api.as_user(world.auditor_x)
    client.get(f"/api/v1/exports/{job_id}/")
    with CaptureQueriesContext(connection) as captured:
        client.get(f"/api/v1/exports/{job_id}/")
    assert len(captured) <= 3  # token, user, job


def test_expired_files_are_deleted_and_the_job_says_so(api, world, appeals, django_capture_on_commit_callbacks):
    job_id = start(api, world.auditor_x, django_capture_on_commit_callbacks).json()["id"]
    job = ExportJob.objects.get(pk=job_id)
    name = job.file.name
    assert default_storage.exists(name)
    assert services.export_files_expire(now=job.expires_at - dt.timedelta(seconds=1)) == 0
    assert services.export_files_expire(now=job.expires_at) == 1
    assert not default_storage.exists(name)
    detail = api.as_user(world.auditor_x).get(f"/api/v1/exports/{job_id}/").json()
    assert detail["status"] == "expired" and detail["download_url"] is None
    assert api.as_user(world.auditor_x).get(f"/api/v1/exports/{job_id}/download/").status_code == 404
    assert ExportLogEntry.objects.filter(job_id=job_id).exists()  # the proof outlives the file


def test_the_expiry_task_is_scheduled_with_the_others(settings):
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "exports.tasks.expire_files" in schedule


def test_an_interrupted_job_runs_again_from_the_start(world, appeals):
    job = services.export_job_create(
        actor=world.admin, fmt="csv", filters_json={}, as_of=dt.datetime(2026, 10, 6, 7, tzinfo=dt.UTC), language="ru"
    )
    # The first attempt died half-way: the job says running and a partial file lies where the file goes.
    ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=1, progress=40)
    partial = f"exports/{job.pk}/overdue-20261006T070000Z.csv"
    default_storage.save(partial, __import__("io").BytesIO(b"half a fil"))
    done = services.export_job_run(job_id=job.pk)
    assert (done.status, done.attempts, done.rows) == (JobStatus.DONE, 2, 2)
    with default_storage.open(done.file.name) as stream:
        assert hashlib.sha256(stream.read()).hexdigest() == done.sha256
    assert done.file.name == partial  # replaced, not a second file beside it
    again = services.export_job_run(job_id=job.pk)  # the broker delivers it once more: nothing changes
    assert again.sha256 == done.sha256
    assert ExportLogEntry.objects.filter(job=job).count() == 1


def test_the_task_acknowledges_late_so_a_lost_worker_redelivers():
    from exports.tasks import run_export_job

    assert run_export_job.acks_late and run_export_job.reject_on_worker_lost


def test_the_log_lists_own_entries_and_all_for_administrators(api, world, appeals):
    for user in (world.auditor_x, world.auditor_federal):
        b"".join(api.as_user(user).get("/api/v1/exports/overdue/", {"as_of": AS_OF}).streaming_content)
    own = api.as_user(world.auditor_x).get("/api/v1/export-log/").json()
    assert [entry["user"] for entry in own["results"]] == ["auditor_x"]
    assert own["results"][0]["filters"] == {"as_of": "2026-10-06T07:00:00Z"}
    every = api.as_user(world.admin).get("/api/v1/export-log/").json()
    assert {entry["user"] for entry in every["results"]} == {"auditor_x", "auditor_federal"}
    assert api.as_user(world.stranger).get("/api/v1/export-log/").json()["results"] == []
    assert APIClient().get("/api/v1/export-log/").status_code == 401


def test_the_log_list_costs_a_fixed_number_of_queries(api, world, appeals):
    client = api.as_user(world.admin)
    for _ in range(2):
        b"".join(client.get("/api/v1/exports/overdue/", {"as_of": AS_OF}).streaming_content)
    client.get("/api/v1/export-log/")
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/export-log/")
    for _ in range(3):
        b"".join(client.get("/api/v1/exports/overdue/", {"as_of": AS_OF}).streaming_content)
    with CaptureQueriesContext(connection) as more:
        client.get("/api/v1/export-log/")
    assert len(more) == len(few)


def test_the_log_is_append_only_in_the_model(world):
    entry = ExportLogEntry.objects.create(
        user=world.admin,
        kind="overdue",
        format="csv",
        as_of=dt.datetime(2026, 10, 6, tzinfo=dt.UTC),
        rows=0,
        sha256="0" * 64,
        channel="api",
        created_at=dt.datetime(2026, 10, 6, tzinfo=dt.UTC),
    )
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        ExportLogEntry.objects.filter(pk=entry.pk).update(rows=5)
    with pytest.raises(TypeError):
        ExportLogEntry.objects.all().delete()


@pytest.mark.postgres
def test_the_database_refuses_to_change_the_log(world):
    entry = ExportLogEntry.objects.create(
        user=world.admin,
        kind="overdue",
        format="csv",
        as_of=dt.datetime(2026, 10, 6, tzinfo=dt.UTC),
        rows=0,
        sha256="0" * 64,
        channel="api",
        created_at=dt.datetime(2026, 10, 6, tzinfo=dt.UTC),
    )
    for statement in (
        "UPDATE exports_exportlogentry SET rows = 5 WHERE id = %s",
        "DELETE FROM exports_exportlogentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk])
