"""Moments sent to the API carry their UTC offset (issue 7, finding 5): without it they are a 400."""

import datetime as dt

import pytest
import time_machine

from appeals.models import Appeal
from tests.appeals.test_appeals_api import NOW, URL, payload
from tests.assertions import assert_error

pytestmark = pytest.mark.django_db
NO_OFFSET = "Укажите момент в формате ISO 8601 со смещением от UTC, например 2026-11-25T10:00:00+03:00."


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.parametrize("received_at", ["2026-11-25T11:30:00", "2026-11-25 11:30", "2026-11-25"])
def test_received_at_without_an_offset_is_refused_with_a_russian_field_error(api, world, received_at):
    response = api.as_user(world.integration_a).post(URL, payload(world, received_at=received_at))
    body = assert_error(response, 400, fields=("received_at",))
    assert body["fields"]["received_at"] == [NO_OFFSET]
    assert not Appeal.objects.exists()


@pytest.mark.parametrize("received_at", ["2026-11-25T08:30:00Z", "2026-11-25T11:30:00+03:00"])
def test_received_at_with_an_offset_or_z_is_accepted(api, world, received_at):
    response = api.as_user(world.integration_a).post(URL, payload(world, received_at=received_at))
    assert response.status_code == 201, response.json()
    assert Appeal.objects.get().received_at == dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize("name", ["received_at_after", "received_at_before", "due_at_after", "due_at_before"])
def test_a_moment_bound_of_a_list_filter_without_an_offset_is_refused(api, world, name):
    response = api.as_user(world.admin).get(URL, {name: "2026-11-25T10:00:00"})
    body = assert_error(response, 400, fields=(name.rsplit("_", 1)[0],))
    assert body["fields"][name.rsplit("_", 1)[0]] == [NO_OFFSET]
