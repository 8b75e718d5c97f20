"""Helpers of the exports' tests: run an export through the service and read it back."""

import csv
import datetime as dt
import io

import openpyxl
from django.db import connection

from exports import selectors, services
from exports.filters import ExportQuerySerializer


def filters_for(**params):
    query = ExportQuerySerializer(data={key: value for key, value in params.items() if key != "format"})
    query.is_valid(raise_exception=True)
    return query.to_filters()[0]


def csv_rows(user, **params) -> list[list[str]]:
    """The CSV's data rows; on PostgreSQL also checked equal to the Python form of the same list."""
    filters = filters_for(**params)
    result = services.ExportResult()
    body = b"".join(services.export_chunks(user=user, filters=filters, fmt="csv", result=result))
    assert body.startswith(services.BOM)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == selectors.headers()
    assert result.rows == len(rows) - 1
    if connection.vendor == "postgresql":
        assert rows[1:] == [selectors.as_text(row) for row in selectors.overdue_rows_python(user, filters)]
    return rows[1:]


def overdue_ids(user, moment: dt.datetime, **params) -> list[int]:
    return [int(row[0]) for row in csv_rows(user, as_of=moment.isoformat(), **params)]


def xlsx_sheet(body: bytes):
    return openpyxl.load_workbook(io.BytesIO(body)).active
