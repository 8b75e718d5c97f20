"""The desk's appeal list at a constant, small number of queries, whatever the page's length."""

import datetime as dt

import pytest

from appeals import services
from tests.factories import make_appeal

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)


def test_the_admin_appeal_list_runs_a_constant_number_of_queries(client, world, django_assert_max_num_queries):
    client.force_login(world.admin)
    make_appeal(world.page_a, received_at=T0)
    client.get("/admin/appeals/appeal/")  # warm the session and the scope
    with django_assert_max_num_queries(12) as few:
        assert client.get("/admin/appeals/appeal/").status_code == 200
    for minute in range(30):
        appeal = make_appeal(
            world.page_a if minute % 2 else world.page_b, received_at=T0 + dt.timedelta(minutes=minute)
        )
        if minute % 3 == 0:
            services.appeal_take(actor=world.operator_a if minute % 2 else world.operator_b, appeal_id=appeal.pk)
    with django_assert_max_num_queries(12) as many:
        page = client.get("/admin/appeals/appeal/")
    assert page.status_code == 200 and "operator_a" in page.content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert not any("MIN(" in query["sql"] or "EXTRACT" in query["sql"] for query in many.captured_queries)
