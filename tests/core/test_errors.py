"""The one error shape's safety net: database errors escaping a view never show the database's text."""

import logging

import pytest
from django.db import DataError, IntegrityError
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

DB_TEXT = 'duplicate key value violates unique constraint "page_unique_platform_id" DETAIL: Key (platform)=(vk)'


def answer_of(error: Exception):
    class Failing(APIView):
        permission_classes = [AllowAny]
        authentication_classes: list = []

        def post(self, request):
            raise error

    return Failing.as_view()(APIRequestFactory().post("/x/", {}, format="json"))


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (IntegrityError(DB_TEXT), 409, "conflict"),
        (DataError("value too long for type character varying(15)"), 400, "invalid"),
    ],
)
def test_a_database_error_escaping_a_view_answers_in_the_shape_without_the_database_text(error, status, code, caplog):
    with caplog.at_level(logging.ERROR, logger="core.errors"):
        response = answer_of(error)
    assert response.status_code == status
    body = response.data
    assert set(body) == {"status", "code", "message", "fields"} and body["code"] == code
    shown = str(body)
    assert "constraint" not in shown and "character varying" not in shown and "DETAIL" not in shown
    assert any(record.exc_info and record.exc_info[1] is error for record in caplog.records), "logged with the cause"
