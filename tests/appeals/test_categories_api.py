"""/api/v1/categories/: the two-level topic tree, reference data read by every authenticated user."""

import pytest

from appeals.models import Category
from appeals.reference_data import CATEGORIES
from tests.assertions import assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/categories/"
TOP_LEVEL = len(CATEGORIES)
ALL = TOP_LEVEL + sum(len(children) for _, _, children in CATEGORIES)


def test_every_role_lists_the_whole_tree(api, world):
    for persona in ("operator_a", "analyst_x", "auditor_federal", "integration_a", "stranger"):
        body = api.as_user(getattr(world, persona)).get(URL, {"page_size": 500}).json()
        assert body["count"] == ALL and len(body["results"]) == ALL, persona
    row = next(row for row in body["results"] if row["code"] == "roads-potholes")
    roads = Category.objects.get(code="roads")
    assert row == {
        "id": row["id"],
        "code": "roads-potholes",
        "name": "Ямы и разрушения покрытия",
        "parent": roads.id,
        "is_active": True,
    }


def test_filter_by_parent_gives_its_subcategories(api, world):
    roads = Category.objects.get(code="roads")
    body = api.as_user(world.operator_a).get(URL, {"parent": roads.id}).json()
    children = next(children for code, _, children in CATEGORIES if code == "roads")
    assert {row["code"] for row in body["results"]} == {code for code, _ in children}
    assert {row["parent"] for row in body["results"]} == {roads.id}


def test_top_level_filter_gives_the_topics(api, world):
    body = api.as_user(world.operator_a).get(URL, {"is_top_level": "true"}).json()
    assert body["count"] == TOP_LEVEL
    assert {row["parent"] for row in body["results"]} == {None}
    assert api.as_user(world.operator_a).get(URL, {"is_top_level": "false"}).json()["count"] == ALL - TOP_LEVEL


def test_inactive_categories_can_be_filtered_out(api, world):
    Category.objects.filter(code="roads-parking").update(is_active=False)
    client = api.as_user(world.operator_a)
    assert client.get(URL, {"is_active": "false"}).json()["results"][0]["code"] == "roads-parking"
    assert client.get(URL, {"is_active": "true"}).json()["count"] == ALL - 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"parent": "roads"}, "parent"),
        ({"parent": "99999999999999999999"}, "parent"),
        ({"is_top_level": "maybe"}, "is_top_level"),
        ({"is_active": "yes"}, "is_active"),
    ],
)
def test_invalid_filter_values_are_400(api, world, query, field):
    assert_error(api.as_user(world.operator_a).get(URL, query), 400, fields=(field,))


def test_category_detail_and_unknown_id(api, world):
    client = api.as_user(world.operator_a)
    roads = Category.objects.get(code="roads")
    assert client.get(f"{URL}{roads.id}/").json()["name"] == "Дороги"
    assert_error(client.get(f"{URL}999999/"), 404)


def test_categories_are_read_only(api, world):
    client = api.as_user(world.admin)
    roads = Category.objects.get(code="roads")
    assert_error(client.post(URL, {"code": "space", "name": "Космос"}), 405)
    assert_error(client.patch(f"{URL}{roads.id}/", {"name": "Дороги и мосты"}), 405)
    assert_error(client.delete(f"{URL}{roads.id}/"), 405)


def test_anonymous_caller_gets_401(api, world):
    assert_error(api.get(URL), 401)


def test_category_list_runs_a_constant_number_of_queries(api, world, django_assert_max_num_queries):
    client = api.as_user(world.operator_a)
    client.get("/api/v1/me/")
    # 4 on PostgreSQL: the planner's estimate is asked before the capped count (core/pagination.py).
    with django_assert_max_num_queries(4) as small:
        client.get(URL, {"page_size": 1})
    with django_assert_max_num_queries(4) as large:
        client.get(URL, {"page_size": 500})
    assert len(small.captured_queries) == len(large.captured_queries)
