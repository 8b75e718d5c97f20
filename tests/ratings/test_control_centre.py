"""The control centre's page in the admin: worst organisations, the 90-day trend and the reach table."""

import datetime as dt

import pytest
import time_machine

from ratings.services import rollups_catch_up
from tests.factories import make_appeal

URL = "/admin/ratings/ratingsnapshot/control-centre/"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC), tick=False):
        yield


def test_an_analyst_sees_their_regions_organisations_worst_first_with_charts(client, world):
    make_appeal(world.page_a, received_at=dt.datetime(2026, 11, 20, 7, 0, tzinfo=dt.UTC))
    make_appeal(world.page_b, received_at=dt.datetime(2026, 11, 20, 7, 0, tzinfo=dt.UTC))
    rollups_catch_up()
    client.force_login(world.analyst_x)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert world.org_a.short_name in page and world.org_b.short_name not in page
    content = page.split('id="content-main"')[1].split("<!-- end of content-main -->")[0]
    assert content.count("<svg") == 2 and "<script" not in content
    assert "http" not in content.replace("http://www.w3.org/2000/svg", "")


def test_operators_and_strangers_do_not_get_the_page(client, world):
    for user in (world.operator_a, world.stranger):
        client.force_login(user)
        assert client.get(URL).status_code in (403, 302)


def test_the_page_runs_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    client.force_login(world.analyst_x)
    client.get(URL)
    with django_assert_max_num_queries(16):
        assert client.get(URL).status_code == 200
