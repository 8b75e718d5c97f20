import pytest

from tests.assertions import assert_error


@pytest.mark.django_db
def test_all_89_regions_are_loaded_with_unknown_population_kept_null(api, world):
    response = api.as_user(world.stranger).get("/api/v1/regions/", {"page_size": 100})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 89
    by_code = {row["code"]: row for row in body["results"]}
    assert by_code["RU-MOW"]["timezone"] == "Europe/Moscow"
    assert by_code["RU-CHU"]["timezone"] == "Asia/Anadyr"
    assert by_code["RU-DPR"]["population"] is None and by_code["RU-DPR"]["population_year"] is None
    assert set(by_code["RU-KGD"]) == {
        "code",
        "okato",
        "name",
        "name_en",
        "federal_district",
        "timezone",
        "population",
        "population_year",
    }


@pytest.mark.django_db
def test_anonymous_user_gets_401_in_the_error_shape(api):
    assert_error(api.get("/api/v1/regions/"), 401)


@pytest.mark.django_db
def test_region_detail_by_code_and_unknown_code_is_404(api, world):
    client = api.as_user(world.operator_a)
    assert client.get("/api/v1/regions/RU-KGD/").json()["name_en"] == "Kaliningrad Oblast"
    assert_error(client.get("/api/v1/regions/RU-XX/"), 404)


@pytest.mark.django_db
def test_region_list_runs_a_constant_number_of_queries(api, world, django_assert_max_num_queries):
    client = api.as_user(world.operator_a)
    client.get("/api/v1/me/")  # the token's first use reads it with its memberships; later ones come from the cache
    with django_assert_max_num_queries(3):
        client.get("/api/v1/regions/", {"page_size": 5})
    with django_assert_max_num_queries(3):
        client.get("/api/v1/regions/", {"page_size": 89, "search": "обл"})
