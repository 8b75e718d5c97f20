"""Lists at national scale: orders an index can serve, no SELECT DISTINCT, and counts that stop at a cap."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_appeal

pytestmark = pytest.mark.django_db

URL = "/api/v1/appeals/"
T0 = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)


def list_sql(client, params: dict) -> str:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, params).status_code == 200
    return next(q["sql"] for q in queries.captured_queries if "ORDER BY" in q["sql"] and "appeals_appeal" in q["sql"])


def test_not_null_columns_sort_without_nulls_last_so_an_index_serves_the_order(api, world):
    make_appeal(world.page_a, received_at=T0)
    client = api.as_user(world.admin)
    default = list_sql(client, {}).split("ORDER BY")[-1]
    assert "NULLS" not in default and '"received_at" DESC' in default
    by_deadline = list_sql(client, {"ordering": "due_at"}).split("ORDER BY")[-1]
    assert "NULLS LAST" in by_deadline or connection.vendor == "sqlite"


def test_multiple_choice_filters_never_select_distinct(api, world):
    make_appeal(world.page_a, received_at=T0)
    client = api.as_user(world.admin)
    params = {"region": ["RU-MOW", "RU-KGD"], "status": ["new", "in_progress"], "sla_state": ["on_track", "breached"]}
    params |= {"platform": ["vk", "max"], "channel": ["comment"], "priority": ["normal", "high"]}
    assert "DISTINCT" not in list_sql(client, params)


def test_counts_up_to_the_cap_are_exact(api, world, settings):
    settings.EXACT_COUNT_CAP = 5
    for minute in range(5):
        make_appeal(world.page_a, received_at=T0 + dt.timedelta(minutes=minute))
    body = api.as_user(world.admin).get(URL).json()
    assert (body["count"], body["count_is_exact"]) == (5, True)


@pytest.mark.postgres
def test_counts_above_the_cap_are_the_planners_estimate_flagged_and_pages_still_work(api, world, settings):
    settings.EXACT_COUNT_CAP = 5
    for minute in range(8):
        make_appeal(world.page_a, received_at=T0 + dt.timedelta(minutes=minute))
    client = api.as_user(world.admin)
    body = client.get(URL, {"page_size": 5}).json()
    assert body["count_is_exact"] is False and body["count"] >= 6
    second = client.get(URL, {"page_size": 5, "page": 2}).json()
    assert len(body["results"]) == 5 and len(second["results"]) == 3
    assert {row["id"] for row in body["results"]}.isdisjoint(row["id"] for row in second["results"])


@pytest.mark.postgres
def test_the_search_has_trigram_indexes_on_the_expressions_icontains_uses(api, world):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'appeals_appeal'")
        indexes = dict(cursor.fetchall())
    for column in ("text", "author_name"):
        definition = indexes[f"appeal_{column}_trgm_idx"]
        assert "USING gin" in definition and "gin_trgm_ops" in definition, definition
    appeal = make_appeal(world.page_a, received_at=T0, text="Не вывезли мусор во дворе")
    # The planner can serve the selector's own search with them (forbidden the table scan, it picks the indexes).
    from appeals.models import Appeal
    from appeals.selectors import appeals_search

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = appeals_search(Appeal.objects.order_by(), "мусор", user=world.admin).explain()
    assert "appeal_text_trgm_idx" in plan and "appeal_author_name_trgm_idx" in plan, plan
    found = api.as_user(world.admin).get(URL, {"search": "МУСОР"}).json()["results"]
    assert [row["id"] for row in found] == [appeal.pk]
