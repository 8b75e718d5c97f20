import datetime as dt

import pytest

from publics.models import AudienceSnapshot
from tests.assertions import assert_error
from tests.factories import AudienceSnapshotFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/audience-snapshots/"


def rows(page, days: int, *, start=dt.date(2026, 10, 1), base: int = 1000) -> list[dict]:
    return [
        {"page": page.id, "date": (start + dt.timedelta(days=n)).isoformat(), "subscribers": base + n, "views": 10 * n}
        for n in range(days)
    ]


def test_integration_upserts_snapshots_of_its_page(api, world):
    client = api.as_user(world.integration_a)
    response = client.post(URL, {"snapshots": rows(world.page_a, 30)})
    assert response.status_code == 200, response.content
    assert response.json() == {"upserted": 30}
    # The same dates again update in place: still 30 rows, new figures.
    assert client.post(URL, {"snapshots": rows(world.page_a, 30, base=5000)}).status_code == 200
    snapshots = AudienceSnapshot.objects.filter(page=world.page_a)
    assert snapshots.count() == 30
    assert snapshots.get(date=dt.date(2026, 10, 1)).subscribers == 5000


def test_one_bad_row_writes_nothing_and_names_the_row(api, world):
    payload = rows(world.page_a, 5)
    payload[3]["subscribers"] = -1
    payload[4]["date"] = "2026-13-01"
    body = assert_error(
        api.as_user(world.admin).post(URL, {"snapshots": payload}),
        400,
        fields=("snapshots.3.subscribers", "snapshots.4.date"),
    )
    assert "snapshots.0.subscribers" not in body["fields"]
    assert not AudienceSnapshot.objects.exists()


def test_page_outside_scope_is_refused_and_nothing_is_written(api, world):
    payload = rows(world.page_a, 2) + rows(world.page_b, 1)
    assert_error(api.as_user(world.integration_a).post(URL, {"snapshots": payload}), 400, fields=("snapshots.2.page",))
    assert not AudienceSnapshot.objects.exists()


def test_auditor_cannot_push_figures(api, world):
    assert_error(api.as_user(world.auditor_x).post(URL, {"snapshots": rows(world.page_a, 1)}), 400)


def test_repeated_page_and_date_in_one_request_is_refused(api, world):
    payload = rows(world.page_a, 1) * 2
    assert_error(api.as_user(world.admin).post(URL, {"snapshots": payload}), 400, fields=("snapshots.1.date",))


@pytest.mark.parametrize(
    "body",
    [{}, {"snapshots": []}, {"snapshots": "x"}, {"snapshots": [1]}, {"snapshots": [{"page": "1"}]}, []],
)
def test_malformed_bodies_are_400(api, world, body):
    assert_error(api.as_user(world.admin).post(URL, body, format="json"), 400)


def test_more_than_a_thousand_rows_is_refused(api, world):
    payload = rows(world.page_a, 1001)
    assert_error(api.as_user(world.admin).post(URL, {"snapshots": payload}), 400, fields=("snapshots",))


def test_bulk_upsert_runs_a_constant_number_of_queries(api, world, django_assert_max_num_queries, on_postgres):
    client = api.as_user(world.admin)
    # Token, memberships, page scope, savepoint, insert, release. SQLite caps the parameters of one statement,
    # so there 1,000 rows take six INSERTs; PostgreSQL takes them in one.
    inserts_for_1000 = 1 if on_postgres else 6
    with django_assert_max_num_queries(6):
        client.post(URL, {"snapshots": rows(world.page_a, 10)})
    with django_assert_max_num_queries(5 + inserts_for_1000):
        client.post(URL, {"snapshots": rows(world.page_a, 1000, start=dt.date(2020, 1, 1))})


def test_series_of_a_page_with_date_range(api, world):
    for day in range(10):
        AudienceSnapshotFactory(page=world.page_a, date=dt.date(2026, 11, 1) + dt.timedelta(day), subscribers=day)
    client = api.as_user(world.operator_a)
    body = client.get(
        f"/api/v1/pages/{world.page_a.id}/audience/", {"date_from": "2026-11-03", "date_to": "2026-11-05"}
    )
    assert [row["subscribers"] for row in body.json()["results"]] == [2, 3, 4]
    assert_error(client.get(f"/api/v1/pages/{world.page_a.id}/audience/", {"date_from": "yesterday"}), 400)


def test_series_of_a_page_outside_scope_is_404(api, world):
    assert_error(api.as_user(world.operator_b).get(f"/api/v1/pages/{world.page_a.id}/audience/"), 404)


@pytest.mark.parametrize(("field", "value"), [("subscribers", 2**63), ("views", 2**63), ("posts", 2**31)])
def test_numbers_beyond_the_columns_are_400_not_500(api, world, field, value):
    payload = rows(world.page_a, 1)
    payload[0][field] = value
    assert_error(api.as_user(world.admin).post(URL, {"snapshots": payload}), 400, fields=(f"snapshots.0.{field}",))
