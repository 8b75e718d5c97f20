"""Open311 GeoReport v2 (read-only, scoped, no authors) and the admin's overdue page and selection action."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from appeals import services
from appeals.models import Category
from exports.models import ExportLogEntry
from tests.exports.conftest import xlsx_sheet
from tests.factories import make_appeal

pytestmark = pytest.mark.django_db

MSK = dt.timezone(dt.timedelta(hours=3))
RECEIVED = dt.datetime(2026, 10, 5, 10, 0, tzinfo=MSK)


@pytest.fixture
def appeals(world):
    roads = Category.objects.filter(parent__isnull=True).order_by("pk").first()
    child = Category.objects.filter(parent=roads).first()
    a = make_appeal(world.page_a, received_at=RECEIVED, category=child, author_name="Иван Петров")
    b = make_appeal(world.page_b, received_at=RECEIVED)
    services.appeal_reply(actor=world.operator_b, appeal_id=b.pk, text="Ответ", now=RECEIVED)
    services.appeal_close(actor=world.operator_b, appeal_id=b.pk, now=RECEIVED + dt.timedelta(hours=1))
    return {"a": a, "b": b, "roads": roads}


def test_services_are_the_top_level_categories(api, world, appeals):
    rows = api.as_user(world.auditor_x).get("/open311/v2/services.json").json()
    codes = {row["service_code"] for row in rows}
    assert appeals["roads"].code in codes
    assert not Category.objects.filter(parent__isnull=False, code__in=codes).exists()


def test_requests_are_the_callers_appeals_without_authors(api, world, appeals):
    rows = api.as_user(world.auditor_x).get("/open311/v2/requests.json").json()
    assert [row["service_request_id"] for row in rows] == [str(appeals["a"].pk)]
    (row,) = rows
    assert row["status"] == "open"
    assert row["service_code"] == appeals["roads"].code
    assert row["agency_responsible"] == world.org_a.name
    assert row["requested_datetime"] == "2026-10-05T10:00:00+03:00"
    assert row["expected_datetime"] == "2026-10-05T18:00:00+03:00"
    assert row["description"] is None  # the auditor sees no personal data, and the text may carry it
    assert "Иван" not in str(rows)
    closed = api.as_user(world.admin).get("/open311/v2/requests.json", {"status": "closed"}).json()
    assert [row["service_request_id"] for row in closed] == [str(appeals["b"].pk)]
    filtered = api.as_user(world.admin).get("/open311/v2/requests.json", {"service_code": appeals["roads"].code})
    assert [row["service_request_id"] for row in filtered.json()] == [str(appeals["a"].pk)]


def test_a_stranger_gets_nothing_from_open311(api, world, appeals):
    assert api.as_user(world.stranger).get("/open311/v2/requests.json").json() == []
    response = api.as_user(world.stranger).get(f"/open311/v2/requests/{appeals['a'].pk}.json")
    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": "Такого обращения нет."}]
    assert APIClient().get("/open311/v2/requests.json").status_code == 401


def test_open311_errors_have_geo_reports_shape(api, world):
    response = api.as_user(world.admin).get("/open311/v2/requests.json", {"start_date": "yesterday"})
    assert response.status_code == 400
    (error,) = response.json()
    assert error["code"] == 400 and error["description"]


def test_open311_requests_cost_a_fixed_number_of_queries(api, world, appeals):
    client = api.as_user(world.admin)
    client.get("/open311/v2/requests.json")
    with CaptureQueriesContext(connection) as few:
        client.get("/open311/v2/requests.json")
    for _ in range(4):
        make_appeal(world.page_a, received_at=RECEIVED)
    with CaptureQueriesContext(connection) as more:
        client.get("/open311/v2/requests.json")
    assert len(more) == len(few)


def test_the_admin_page_offers_the_filters_and_streams_both_formats(client, world, appeals):
    client.force_login(world.analyst_x)
    page = client.get("/admin/exports/exportlogentry/overdue/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Просроченные обращения" in html and 'name="min_hours_overdue"' in html
    response = client.get(
        "/admin/exports/exportlogentry/overdue/", {"format": "csv", "as_of": "2026-10-06T10:00:00+03:00"}
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [int(row[0]) for row in rows[1:]] == [appeals["a"].pk]
    response = client.get(
        "/admin/exports/exportlogentry/overdue/", {"format": "xlsx", "as_of": "2026-10-06T10:00:00+03:00"}
    )
    assert xlsx_sheet(b"".join(response.streaming_content)).max_row == 2
    assert list(ExportLogEntry.objects.values_list("channel", flat=True)) == ["admin", "admin"]
    bad = client.get("/admin/exports/exportlogentry/overdue/", {"format": "csv", "as_of": "tomorrow"})
    assert bad.status_code == 400 and "as_of" in bad.content.decode()


def test_a_stranger_cannot_open_the_admin_page(client, world):
    client.force_login(world.stranger)
    assert client.get("/admin/exports/exportlogentry/overdue/").status_code in (302, 403)


def test_the_appeal_list_exports_the_selection_through_the_same_code(client, world, appeals):
    client.force_login(world.admin)
    other = make_appeal(world.page_a, received_at=RECEIVED)
    response = client.post(
        "/admin/appeals/appeal/?status=all",  # the desk lists open appeals only by default
        {"action": "export_selection", "_selected_action": [appeals["a"].pk, appeals["b"].pk]},
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [int(row[0]) for row in rows[1:]] == [appeals["a"].pk]  # b is closed, `other` was not selected
    assert other.pk not in [int(row[0]) for row in rows[1:]]
    entry = ExportLogEntry.objects.get()
    assert entry.filters["appeal_ids"] == sorted([appeals["a"].pk, appeals["b"].pk])
