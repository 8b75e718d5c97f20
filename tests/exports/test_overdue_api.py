"""GET /api/v1/exports/overdue/: filters, scope, masking, both formats read back with their types, the same bytes
on repetition, formula neutralising, bad filters, the stranger, the query count, the log."""

import csv
import datetime as dt
import hashlib
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from appeals.models import Category
from exports.models import ExportLogEntry
from tests.exports.conftest import xlsx_sheet
from tests.factories import OrganizationFactory, PageFactory, make_appeal, region

pytestmark = pytest.mark.django_db

MSK = dt.timezone(dt.timedelta(hours=3))
RECEIVED = dt.datetime(2026, 10, 5, 10, 0, tzinfo=MSK)
AS_OF = "2026-10-06T10:00:00+03:00"
URL = "/api/v1/exports/overdue/"


@pytest.fixture
def appeals(world):
    roads = Category.objects.filter(parent__isnull=True).order_by("pk").first()
    pothole = Category.objects.filter(parent=roads).first()
    return {
        "a": make_appeal(world.page_a, received_at=RECEIVED, author_name="Иван Петров", category=pothole),
        "a_formula": make_appeal(world.page_a, received_at=RECEIVED, text='=HYPERLINK("http://x")', author_name="@bob"),
        "b": make_appeal(world.page_b, received_at=RECEIVED, author_name="Анна Смирнова"),
        "a_appeal": make_appeal(world.page_a, received_at=RECEIVED - dt.timedelta(days=5), kind="appeal"),
        "roads": roads,
    }


def fetch(api, user, **params):
    params.setdefault("as_of", AS_OF)
    response = api.as_user(user).get(URL, params)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def ids(api, user, **params) -> list[int]:
    response, body = fetch(api, user, **params)
    assert response.status_code == 200, body
    return [int(row[0]) for row in read_csv(body)[1:]]


def test_every_filter_narrows_the_list(api, world, appeals):
    a, f, b, formal = appeals["a"].pk, appeals["a_formula"].pk, appeals["b"].pk, appeals["a_appeal"].pk
    admin = world.admin
    assert ids(api, admin) == sorted([a, f, b, formal])
    assert ids(api, admin, region="RU-KGD") == [b]
    assert ids(api, admin, organization=world.org_b.pk) == [b]
    assert ids(api, admin, organization_kind="hospital") == [b]
    assert ids(api, admin, page_id=world.page_a.pk) == sorted([a, f, formal])
    assert ids(api, admin, platform="max") == [b]
    assert ids(api, admin, kind="appeal") == [formal]
    assert ids(api, admin, category=appeals["roads"].pk) == [a]  # a top-level category includes its children
    assert ids(api, admin, received_from="2026-10-04T00:00:00+03:00") == sorted([a, f, b])
    assert ids(api, admin, received_to="2026-10-04T00:00:00+03:00") == [formal]
    # The messages are 16 hours late; the formal appeal's 3 days ran to Monday 23:59:59 (the 3rd was a Saturday).
    assert ids(api, admin, min_hours_overdue="12") == sorted([a, f, b])
    assert ids(api, admin, min_hours_overdue="10.01") == sorted([a, f, b])
    assert ids(api, admin, min_hours_overdue="10") == sorted([a, f, b, formal])
    assert ids(api, admin, as_of="2026-10-05T12:00:00+03:00") == []


def test_an_auditor_of_one_region_never_gets_a_row_of_another(api, world, appeals):
    assert ids(api, world.auditor_x) == sorted([appeals["a"].pk, appeals["a_formula"].pk, appeals["a_appeal"].pk])
    assert ids(api, world.auditor_x, region="RU-KGD") == []
    assert ids(api, world.operator_b) == [appeals["b"].pk]


def test_a_stranger_gets_an_empty_list(api, world, appeals):
    response, body = fetch(api, world.stranger)
    assert response.status_code == 200
    assert read_csv(body)[1:] == []
    response, body = fetch(api, world.stranger, format="xlsx")
    assert xlsx_sheet(body).max_row == 1


def test_without_credentials_nothing_is_exported(api, world, appeals):
    response = APIClient().get(URL, {"as_of": AS_OF})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_authors_are_masked_unless_the_role_may_see_them(api, world, appeals):
    def author_of(user, appeal):
        rows = read_csv(fetch(api, user)[1])
        return next(row[16] for row in rows[1:] if int(row[0]) == appeal.pk)

    assert author_of(world.auditor_federal, appeals["a"]) == "И*** П***"
    assert author_of(world.admin, appeals["a"]) == "Иван Петров"


def test_cells_that_a_spreadsheet_reads_as_formulas_are_neutralised(api, world, appeals):
    rows = read_csv(fetch(api, world.admin)[1])
    row = next(row for row in rows[1:] if int(row[0]) == appeals["a_formula"].pk)
    assert row[17] == '\'=HYPERLINK("http://x")'
    assert row[16] == "'@bob"
    sheet = xlsx_sheet(fetch(api, world.admin, format="xlsx")[1])
    texts = [sheet.cell(row=r, column=18).value for r in range(2, sheet.max_row + 1)]
    assert '\'=HYPERLINK("http://x")' in texts
    assert all(sheet.cell(row=r, column=18).data_type == "s" for r in range(2, sheet.max_row + 1))


def test_the_csv_has_the_columns_and_local_times(api, world, appeals):
    rows = read_csv(fetch(api, world.admin, region="RU-KGD")[1])
    assert rows[0][:3] == ["Номер обращения", "Регион", "Организация"]
    (row,) = rows[1:]
    assert row[1] == "Калининградская область"
    assert row[8] == "2026-10-05 09:00:00"  # 10:00 Moscow is 09:00 in Kaliningrad
    assert row[10] == "Europe/Kaliningrad"
    assert row[4] == "MAX"
    assert float(row[12]) == pytest.approx(16.0)


def test_english_headers_with_accept_language_en(api, world, appeals):
    response = api.as_user(world.admin).get(URL, {"as_of": AS_OF}, HTTP_ACCEPT_LANGUAGE="en")
    rows = read_csv(b"".join(response.streaming_content))
    assert rows[0][0] == "Appeal no."


def test_the_xlsx_has_typed_cells_a_frozen_header_and_filters(api, world, appeals):
    response, body = fetch(api, world.admin, format="xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = xlsx_sheet(body)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref.startswith("A1:R")
    assert sheet.column_dimensions["R"].width > 30
    first = [cell.value for cell in sheet[2]]
    assert isinstance(first[0], int)
    assert isinstance(first[8], dt.datetime) and isinstance(first[9], dt.datetime)
    assert sheet.cell(row=2, column=13).data_type == "n" and sheet.cell(row=2, column=14).data_type == "n"
    assert first[12] == pytest.approx(16.0)
    assert sheet.max_row == 5


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_same_filters_give_the_same_bytes_and_the_log_has_their_sha256(api, world, appeals, fmt):
    first = fetch(api, world.auditor_x, format=fmt)[1]
    second = fetch(api, world.auditor_x, format=fmt)[1]
    assert first == second
    entries = list(ExportLogEntry.objects.filter(user=world.auditor_x).order_by("id"))
    assert [entry.sha256 for entry in entries] == [hashlib.sha256(first).hexdigest()] * 2
    assert entries[0].rows == 3 and entries[0].channel == "api" and entries[0].format == fmt
    assert entries[0].filters["as_of"] == "2026-10-06T07:00:00Z"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"format": "pdf"}, "format"),
        ({"region": "RU-XXX"}, "region"),
        ({"organization_kind": "castle"}, "organization_kind"),
        ({"platform": "myspace"}, "platform"),
        ({"kind": "letter"}, "kind"),
        ({"category": "999999"}, "category"),
        ({"page_id": "abc"}, "page_id"),
        ({"organization": "-1"}, "organization"),
        ({"received_from": "2026-10-01"}, "received_from"),
        ({"received_from": "2026-10-02T00:00:00Z", "received_to": "2026-10-01T00:00:00Z"}, "received_to"),
        ({"min_hours_overdue": "-1"}, "min_hours_overdue"),
        ({"as_of": "2026-10-06T10:00:00"}, "as_of"),  # no offset
        ({"as_of": "2999-01-01T00:00:00Z"}, "as_of"),  # the future
    ],
)
def test_bad_filters_are_a_400_in_russian(api, world, params, field):
    response = api.as_user(world.auditor_x).get(URL, {"as_of": AS_OF, **params})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and field in body["fields"]
    assert body["message"] == "Проверьте введённые данные."
    assert not ExportLogEntry.objects.exists()


def test_the_query_count_does_not_grow_with_the_rows(api, world, appeals):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            fetch(api, world.admin)
        return len(captured)

    queries()  # warm the per-process caches (calendars, policies)
    few = queries()
    organization = OrganizationFactory(region=region("RU-MOW"))
    page = PageFactory(organization=organization)
    for _ in range(5):
        make_appeal(page, received_at=RECEIVED)
    assert queries() == few
