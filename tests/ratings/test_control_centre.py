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


def test_the_tables_figures_are_rounded_and_written_the_russian_way(settings):
    from django.utils import translation

    from ratings.admin import _number, _percent, _reach_table

    with translation.override("ru"):
        assert _percent(2 / 3) == "67\u00a0%"
        assert _percent(0.0084739, 2) == "0,85\u00a0%"
        assert _number(574.77, 1) == "574,8"
        assert _number(112483) == "112\u00a0483"
        assert _percent(None) == _number(None) == "—"
        row = {
            "name": "Москва",
            "subscribers": 50000,
            "rank_subscribers": 1,
            "penetration": 0.0037667,
            "rank_penetration": 5,
            "growth_30d": None,
            "composite": 0.6594,
            "rank_composite": None,
        }
        assert _reach_table([row])["rows"] == [["Москва", "50\u00a0000 (1)", "0,38\u00a0% (5)", "—", "0,659"]]
        unknown = row | {"penetration": None, "rank_penetration": None}
        assert _reach_table([unknown])["rows"][0][2] == "численность населения неизвестна"


def test_the_charts_grid_has_four_round_steps():
    from ratings.charts import Series, line_chart

    def ticks(values: list[float], **options) -> list[str]:
        svg = line_chart([str(i) for i in range(len(values))], [Series("x", values, "#000")], **options)
        return [part.split(">")[1] for part in svg.split('text-anchor="end"')[1:]]

    assert [tick.split("<")[0] for tick in ticks([3, 25, 7])] == ["0", "8", "16", "24", "32"]
    assert [tick.split("<")[0] for tick in ticks([0.5, 0.2], top=100)] == ["0", "25", "50", "75", "100"]
    assert [tick.split("<")[0] for tick in ticks([0, 1])] == ["0", "1", "2", "3", "4"]
    assert [tick.split("<")[0] for tick in ticks([0, 0])] == ["0", "1", "2", "3", "4"]
    assert [tick.split("<")[0] for tick in ticks([])] == ["0", "1", "2", "3", "4"]
