import logging

import pytest

from publics.models import Page
from tests.assertions import assert_error
from tests.factories import PageFactory

pytestmark = pytest.mark.django_db

SECRETS = {"webhook_secret": "wh-secret-1", "confirmation_code": "a1b2c3", "access_token": "vk1.a.token"}


def page_payload(world, **overrides) -> dict:
    payload = {
        "organization": world.org_a.id,
        "platform": "max",
        "platform_id": "-777001",
        "url": "https://max.ru/school1",
        "title": "Школа №1 в MAX",
        "verified": True,
        "category": "flagship",
        "is_primary": True,
        **SECRETS,
    }
    payload.update(overrides)
    return payload


def test_operator_registers_a_page_and_secrets_never_come_back(api, world, caplog):
    caplog.set_level(logging.DEBUG)
    response = api.as_user(world.operator_a).post("/api/v1/pages/", page_payload(world))
    assert response.status_code == 201, response.content
    body = response.json()
    for name, value in SECRETS.items():
        assert name not in body
        assert value not in response.content.decode()
        assert value not in caplog.text
    assert body["has_webhook_secret"] and body["has_access_token"] and body["has_confirmation_code"]
    page = Page.objects.get(pk=body["id"])
    assert page.webhook_secret == "wh-secret-1"
    assert "wh-secret-1" not in repr(page)


def test_secrets_are_absent_from_list_and_detail(api, world):
    client = api.as_user(world.admin)
    for response in (client.get("/api/v1/pages/"), client.get(f"/api/v1/pages/{world.page_a.id}/")):
        assert world.page_a.webhook_secret not in response.content.decode()


def test_one_page_per_platform_and_platform_id(api, world):
    response = api.as_user(world.admin).post(
        "/api/v1/pages/", page_payload(world, platform="vk", platform_id=world.page_a.platform_id)
    )
    assert_error(response, 400)


def test_one_primary_page_per_organisation_and_platform(api, world):
    client = api.as_user(world.admin)
    assert client.post("/api/v1/pages/", page_payload(world)).status_code == 201
    response = client.post("/api/v1/pages/", page_payload(world, platform_id="-777002"))
    assert_error(response, 400)
    assert Page.objects.filter(organization=world.org_a, platform="max").count() == 1


def test_operator_cannot_register_a_page_for_another_organisation(api, world):
    response = api.as_user(world.operator_a).post("/api/v1/pages/", page_payload(world, organization=world.org_b.id))
    assert_error(response, 400, fields=("organization",))


def test_stranger_and_other_operator_get_nothing(api, world):
    for user in (world.stranger, world.operator_b):
        client = api.as_user(user)
        assert world.page_a.id not in [row["id"] for row in client.get("/api/v1/pages/").json()["results"]]
        assert_error(client.get(f"/api/v1/pages/{world.page_a.id}/"), 404)
        assert_error(client.patch(f"/api/v1/pages/{world.page_a.id}/", {"title": "x"}), 404)


def test_integration_sees_its_page_but_cannot_edit_it(api, world):
    client = api.as_user(world.integration_a)
    assert [row["id"] for row in client.get("/api/v1/pages/").json()["results"]] == [world.page_a.id]
    assert_error(client.patch(f"/api/v1/pages/{world.page_a.id}/", {"title": "x"}), 403)


def test_filters(api, world):
    PageFactory(organization=world.org_a, platform="telegram", verified=False, category="card")
    client = api.as_user(world.admin)
    assert client.get("/api/v1/pages/", {"platform": "max"}).json()["results"][0]["id"] == world.page_b.id
    assert client.get("/api/v1/pages/", {"region": "RU-MOW"}).json()["count"] == 2
    assert client.get("/api/v1/pages/", {"verified": "false"}).json()["count"] == 1
    assert client.get("/api/v1/pages/", {"category": "card"}).json()["count"] == 1
    assert client.get("/api/v1/pages/", {"organization": world.org_b.id}).json()["count"] == 1
    assert client.get("/api/v1/pages/", {"search": world.page_a.title}).json()["count"] == 1
    assert_error(client.get("/api/v1/pages/", {"platform": "myspace"}), 400, fields=("platform",))


def test_update_keeps_secrets_unless_sent(api, world):
    client = api.as_user(world.operator_a)
    old_secret = world.page_a.webhook_secret
    assert client.patch(f"/api/v1/pages/{world.page_a.id}/", {"title": "Новое имя"}).status_code == 200
    world.page_a.refresh_from_db()
    assert world.page_a.webhook_secret == old_secret and world.page_a.title == "Новое имя"


def test_page_list_runs_a_constant_number_of_queries(api, world, django_assert_max_num_queries):
    for _ in range(25):
        PageFactory(organization=world.org_a)
    client = api.as_user(world.analyst_x)
    with django_assert_max_num_queries(5):
        small = client.get("/api/v1/pages/", {"page_size": 1})
    with django_assert_max_num_queries(5):
        large = client.get("/api/v1/pages/", {"page_size": 100})
    assert len(small.json()["results"]) == 1 and len(large.json()["results"]) == 26
