import pytest

from tests.assertions import assert_error
from tests.factories import OrganizationFactory, make_inn, make_ogrn, region

pytestmark = pytest.mark.django_db


def org_payload(**overrides) -> dict:
    payload = {
        "name": "Министерство здравоохранения Московской области",
        "short_name": "Минздрав МО",
        "kind": "regional_executive_body",
        "region": "RU-MOW",
        "ogrn": make_ogrn(555),
        "inn": make_inn(555),
    }
    payload.update(overrides)
    return payload


def test_operator_lists_only_their_own_organisation(api, world):
    body = api.as_user(world.operator_a).get("/api/v1/organizations/").json()
    assert [row["id"] for row in body["results"]] == [world.org_a.id]


def test_analyst_sees_every_organisation_of_their_region_only(api, world):
    OrganizationFactory(region=region("RU-MOW"))
    body = api.as_user(world.analyst_x).get("/api/v1/organizations/").json()
    assert body["count"] == 2
    assert {row["region"] for row in body["results"]} == {"RU-MOW"}


def test_federal_auditor_and_admin_see_everything(api, world):
    for user in (world.auditor_federal, world.admin):
        assert api.as_user(user).get("/api/v1/organizations/").json()["count"] == 2


def test_stranger_sees_nothing_and_gets_404_on_detail(api, world):
    client = api.as_user(world.stranger)
    assert client.get("/api/v1/organizations/").json()["count"] == 0
    assert_error(client.get(f"/api/v1/organizations/{world.org_a.id}/"), 404)


def test_operator_of_another_organisation_gets_404(api, world):
    client = api.as_user(world.operator_b)
    assert_error(client.get(f"/api/v1/organizations/{world.org_a.id}/"), 404)
    assert_error(client.patch(f"/api/v1/organizations/{world.org_a.id}/", {"short_name": "x"}), 404)


def test_filters_by_region_kind_and_text(api, world):
    client = api.as_user(world.admin)
    assert client.get("/api/v1/organizations/", {"region": "RU-KGD"}).json()["count"] == 1
    assert client.get("/api/v1/organizations/", {"kind": "hospital"}).json()["results"][0]["id"] == world.org_b.id
    assert client.get("/api/v1/organizations/", {"search": "Школа"}).json()["count"] == 1
    assert client.get("/api/v1/organizations/", {"search": world.org_b.inn}).json()["count"] == 1
    assert_error(client.get("/api/v1/organizations/", {"kind": "circus"}), 400, fields=("kind",))
    assert_error(client.get("/api/v1/organizations/", {"region": "RU-NOPE"}), 400, fields=("region",))


def test_ordering_and_capped_page_size(api, world):
    client = api.as_user(world.admin)
    names = [row["name"] for row in client.get("/api/v1/organizations/", {"ordering": "-name"}).json()["results"]]
    assert names == sorted(names, reverse=True)
    assert len(client.get("/api/v1/organizations/", {"page_size": 10_000}).json()["results"]) == 2
    assert_error(client.get("/api/v1/organizations/", {"page": 99}), 404)


def test_analyst_creates_an_organisation_in_their_region(api, world):
    response = api.as_user(world.analyst_x).post("/api/v1/organizations/", org_payload(parent=world.org_a.id))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["region"] == "RU-MOW" and body["parent"] == world.org_a.id
    assert body["effective_timezone"] == "Europe/Moscow"
    assert body["office_opens_at"] == "09:00:00" and body["office_closes_at"] == "18:00:00"


def test_analyst_cannot_create_an_organisation_in_another_region(api, world):
    assert_error(api.as_user(world.analyst_x).post("/api/v1/organizations/", org_payload(region="RU-KGD")), 403)


def test_operator_and_auditor_cannot_create_organisations(api, world):
    for user in (world.operator_a, world.auditor_x, world.integration_a):
        assert_error(api.as_user(user).post("/api/v1/organizations/", org_payload()), 403)


def test_parent_outside_scope_is_reported_as_unknown(api, world):
    response = api.as_user(world.analyst_x).post("/api/v1/organizations/", org_payload(parent=world.org_b.id))
    assert_error(response, 400, fields=("parent",))


def test_bad_input_gets_field_errors_in_the_one_shape(api, world):
    response = api.as_user(world.admin).post(
        "/api/v1/organizations/",
        org_payload(
            kind="circus", ogrn="1234567890123", inn="7707083894", office_opens_at="19:00", timezone="Mars/Base"
        ),
    )
    body = assert_error(response, 400, fields=("kind", "ogrn", "timezone"))
    assert body["code"] == "invalid"


def test_office_hours_must_be_in_order(api, world):
    response = api.as_user(world.admin).post(
        "/api/v1/organizations/", org_payload(office_opens_at="19:00", office_closes_at="08:00")
    )
    assert_error(response, 400, fields=("office_closes_at",))


def test_duplicate_ogrn_is_a_400_not_a_500(api, world):
    response = api.as_user(world.admin).post("/api/v1/organizations/", org_payload(ogrn=world.org_a.ogrn))
    assert_error(response, 400, fields=("ogrn",))


def test_operator_updates_their_own_organisation_office_hours(api, world):
    client = api.as_user(world.operator_a)
    response = client.patch(f"/api/v1/organizations/{world.org_a.id}/", {"office_opens_at": "08:00"})
    assert response.status_code == 200, response.content
    world.org_a.refresh_from_db()
    assert world.org_a.office_opens_at.hour == 8


def test_operator_cannot_move_their_organisation_to_another_region(api, world):
    response = api.as_user(world.operator_a).patch(f"/api/v1/organizations/{world.org_a.id}/", {"region": "RU-KGD"})
    assert_error(response, 403)
    world.org_a.refresh_from_db()
    assert world.org_a.region.code == "RU-MOW"


def test_auditor_sees_but_cannot_change(api, world):
    client = api.as_user(world.auditor_x)
    assert client.get(f"/api/v1/organizations/{world.org_a.id}/").status_code == 200
    assert_error(client.patch(f"/api/v1/organizations/{world.org_a.id}/", {"short_name": "x"}), 403)


def test_organisation_cannot_become_its_own_ancestor(api, world):
    child = OrganizationFactory(region=world.org_a.region, parent=world.org_a)
    response = api.as_user(world.admin).patch(f"/api/v1/organizations/{world.org_a.id}/", {"parent": child.id})
    assert_error(response, 400, fields=("parent",))


def test_organisation_list_runs_a_constant_number_of_queries(api, world, django_assert_max_num_queries):
    for _ in range(30):
        OrganizationFactory(parent=world.org_a)
    client = api.as_user(world.admin)
    client.get("/api/v1/me/")  # warm the token lookup path
    with django_assert_max_num_queries(5):
        small = client.get("/api/v1/organizations/", {"page_size": 2})
    with django_assert_max_num_queries(5):
        large = client.get("/api/v1/organizations/", {"page_size": 200})
    assert len(small.json()["results"]) == 2 and len(large.json()["results"]) == 32


def test_errors_are_in_russian_by_default_and_english_on_request(api, world):
    client = api.as_user(world.admin)
    russian = client.post("/api/v1/organizations/", {}).json()
    english = client.post("/api/v1/organizations/", {}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert russian["message"] != english["message"]
    assert english["fields"]["name"] == ["This field is required."]
    assert russian["fields"]["name"] == ["Обязательное поле."]


@pytest.mark.parametrize("value", ["RU-\x00MOW", "\x00"])
def test_a_region_code_with_a_nul_byte_is_unknown_not_a_500(api, world, value):
    assert_error(api.as_user(world.admin).post("/api/v1/organizations/", org_payload(region=value)), 400)
    assert_error(api.as_user(world.admin).get("/api/v1/organizations/", {"region": value}), 400)


@pytest.mark.parametrize("value", ["09:00+05:00", "25:00", "9", "noon"])
def test_office_hours_are_local_wall_clock_times(api, world, value):
    response = api.as_user(world.admin).post("/api/v1/organizations/", org_payload(office_opens_at=value))
    assert_error(response, 400, fields=("office_opens_at",))


def test_huge_ids_in_filters_are_400(api, world):
    assert_error(api.as_user(world.admin).get("/api/v1/organizations/", {"parent": "9" * 30}), 400)
    assert_error(api.as_user(world.admin).get("/api/v1/pages/", {"organization": "-4.25e+108"}), 400)
