"""Lists at national scale: orders an index can serve, no SELECT DISTINCT, and counts that stop at a cap."""

import datetime as dt

import pytest
from django.db import connection
from django.db.models import F
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
def test_the_search_is_russian_full_text_on_the_text_and_trigrams_on_names_through_indexes(api, world):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'appeals_appeal'")
        indexes = dict(cursor.fetchall())
    assert "USING gin (search_vector)" in indexes["appeal_search_vector_idx"]
    assert "gin_trgm_ops" in indexes["appeal_author_name_trgm_idx"]
    assert "appeal_text_trgm_idx" not in indexes  # the full-text index replaced it
    appeal = make_appeal(world.page_a, received_at=T0, text="Не вывезли мусор во дворе дома 12")
    named = make_appeal(world.page_a, received_at=T0, text="Спасибо за ремонт дороги", author_name="Мусорин Пётр")
    from appeals.models import Appeal
    from appeals.selectors import appeals_search

    # The trigger filled the document with Russian stems.
    assert "мусор" in Appeal.objects.values_list("search_vector", flat=True).get(pk=appeal.pk)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = appeals_search(Appeal.objects.order_by(), "мусор", user=world.admin).explain()
    assert "appeal_search_vector_idx" in plan and "appeal_author_name_trgm_idx" in plan, plan
    client = api.as_user(world.admin)
    # Word forms match («мусора», «дворов»), case does not matter, and a name matches as a part.
    for term in ("мусора", "ДВОРОВ", "дворов мусора"):
        assert [row["id"] for row in client.get(URL, {"search": term}).json()["results"]] == [appeal.pk], term
    assert {row["id"] for row in client.get(URL, {"search": "МУСОР"}).json()["results"]} == {appeal.pk, named.pk}
    # Whoever sees names masked finds nothing by them.
    masked = api.as_user(world.auditor_federal).get(URL, {"search": "Мусорин"}).json()["results"]
    assert masked == []


@pytest.mark.postgres
def test_the_queues_and_the_overdue_filter_are_read_off_indexes(api, world):
    """Ordered by the running deadline and filtered to overdue, a list reads an index, not the table."""
    from appeals import sla
    from appeals.models import Appeal

    make_appeal(world.page_a, received_at=T0)
    with connection.cursor() as cursor:
        # A tiny table: forbid the scan and the sort, so the plan shows whether an index can give the order.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    by_deadline = Appeal.objects.filter(organization=world.org_a).order_by(F("due_at").asc(nulls_last=True), "id")
    assert "appeal_org_due_idx" in by_deadline[:50].explain()
    overdue = Appeal.objects.filter(sla.overdue_q(T0), region=world.org_a.region)
    assert "Seq Scan" not in overdue.explain()
    everything = Appeal.objects.order_by(F("due_at").asc(nulls_last=True), "id")
    assert "appeal_due_idx" in everything[:50].explain()
