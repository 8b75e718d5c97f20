"""The connectors' API: who sees which webhooks, deliveries and events; bad input; query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appeals.models import Reply
from connectors.models import Delivery, PlatformEvent
from tests.connectors.conftest import vk, vk_comment
from tests.factories import PageFactory, make_appeal

pytestmark = pytest.mark.django_db


def _delivery(page, status="failed"):
    appeal = make_appeal(page)
    reply = Reply.objects.create(appeal=appeal, kind="public", text="ответ", created_at=appeal.received_at, hash="h")
    return Delivery.objects.create(
        reply=reply,
        appeal=appeal,
        page=page,
        platform=page.platform,
        method="wall.createComment",
        params={},
        idempotency_key=f"k{reply.pk}",
        status=status,
        last_error="Access denied" if status == "failed" else "",
    )


def _event(page, key):
    return PlatformEvent.objects.create(
        platform=page.platform,
        page=page,
        event_key=key,
        event_type="wall_reply_new",
        payload={"x": 1},
        received_at=page.created_at,
    )


def test_operators_see_their_pages_webhook_url_and_last_event(world, vk_page, api):
    _event(vk_page, "e1")
    latest = _event(vk_page, "e2")
    PlatformEvent.objects.filter(pk=latest.pk).update(received_at=latest.received_at.replace(year=2030))
    rows = api.as_user(world.operator_a).get("/api/v1/page-webhooks/").json()["results"]
    assert [row["page_id"] for row in rows] == [vk_page.pk]
    row = rows[0]
    assert row["webhook_url"] == f"http://testserver/api/v1/webhooks/vk/{vk_page.pk}/"
    assert row["has_webhook_secret"] is True
    assert row["last_event_at"].startswith("2030-")
    assert "webhook_secret" not in row and "access_token" not in row
    assert api.as_user(world.operator_a).get(f"/api/v1/page-webhooks/{vk_page.pk}/").status_code == 200


@pytest.mark.parametrize("persona", ["stranger", "operator_b"])
def test_a_user_outside_the_page_gets_no_webhook(world, vk_page, api, persona):
    client = api.as_user(getattr(world, persona))
    assert vk_page.pk not in [row["page_id"] for row in client.get("/api/v1/page-webhooks/").json()["results"]]
    assert client.get(f"/api/v1/page-webhooks/{vk_page.pk}/").status_code == 404


def test_the_webhook_list_costs_the_same_queries_for_one_page_or_twenty(world, api):
    client = api.as_user(world.operator_a)
    client.get("/api/v1/page-webhooks/")
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/page-webhooks/")
    for _ in range(20):
        _event(PageFactory(organization=world.org_a, platform="max"), "k")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/page-webhooks/").json()["results"]) == 21
    assert len(many) == len(few)


def test_deliveries_are_scoped_to_the_appeals_one_may_see(world, api):
    mine, theirs = _delivery(world.page_a), _delivery(world.page_b)
    assert [r["id"] for r in api.as_user(world.operator_a).get("/api/v1/deliveries/").json()["results"]] == [mine.pk]
    assert [r["id"] for r in api.as_user(world.operator_b).get("/api/v1/deliveries/").json()["results"]] == [theirs.pk]
    assert api.as_user(world.stranger).get("/api/v1/deliveries/").json()["results"] == []
    assert api.as_user(world.stranger).get(f"/api/v1/deliveries/{mine.pk}/").status_code == 404
    assert api.as_user(world.operator_b).get(f"/api/v1/deliveries/{mine.pk}/").status_code == 404
    assert api.as_user(world.auditor_federal).get(f"/api/v1/deliveries/{mine.pk}/").status_code == 200
    assert api.as_user(world.analyst_x).get(f"/api/v1/deliveries/{mine.pk}/").status_code == 200


def test_the_delivery_list_costs_the_same_queries_for_any_number_of_rows(world, api):
    client = api.as_user(world.operator_a)
    _delivery(world.page_a)
    client.get("/api/v1/deliveries/")
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/deliveries/")
    for _ in range(15):
        _delivery(world.page_a)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/deliveries/").json()["results"]) == 16
    assert len(many) == len(few)


@pytest.mark.parametrize(
    "query", [{"status": "lost"}, {"page_id": "x"}, {"appeal": str(2**64)}, {"ordering": "secret"}, {"platform": "icq"}]
)
def test_bad_filters_are_400(world, api, query):
    response = api.as_user(world.operator_a).get("/api/v1/deliveries/", query)
    assert response.status_code == 400
    assert response.json()["status"] == 400


def test_platform_events_are_for_administrators_only(world, vk_page, api):
    event = _event(vk_page, "e1")
    admin = api.as_user(world.admin)
    assert [row["id"] for row in admin.get("/api/v1/platform-events/", {"status": "received"}).json()["results"]] == [
        event.pk
    ]
    assert admin.get("/api/v1/platform-events/", {"status": "bogus"}).status_code == 400
    for persona in ("operator_a", "analyst_x", "auditor_federal", "integration_a", "stranger"):
        client = api.as_user(getattr(world, persona))
        assert client.get("/api/v1/platform-events/").json()["results"] == []
        assert client.get(f"/api/v1/platform-events/{event.pk}/").status_code == 404
        assert client.post(f"/api/v1/platform-events/{event.pk}/reprocess/").status_code == 404


def test_an_administrator_reprocesses_a_failed_event(world, vk_page, api, django_capture_on_commit_callbacks):
    event = _event(vk_page, "e9")
    event.payload = vk(vk_page, "wall_reply_new", vk_comment(vk_page))
    event.status = "failed"
    event.error = "was broken"
    event.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(world.admin).post(f"/api/v1/platform-events/{event.pk}/reprocess/")
    assert response.status_code == 200
    event.refresh_from_db()
    assert event.status == "processed" and event.appeal_id


def test_the_platform_events_list_costs_the_same_queries_for_any_number_of_rows(world, vk_page, api):
    client = api.as_user(world.admin)
    _event(vk_page, "a")
    client.get("/api/v1/platform-events/")
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/platform-events/")
    for n in range(15):
        _event(vk_page, f"b{n}")
    with CaptureQueriesContext(connection) as many:
        client.get("/api/v1/platform-events/")
    assert len(many) == len(few)


def test_the_appeals_platform_view_is_scoped(world, api):
    delivery = _delivery(world.page_a)
    url = f"/api/v1/appeals/{delivery.appeal_id}/platform/"
    shown = api.as_user(world.operator_a).get(url).json()
    assert shown["delivery_status"] == "failed" and shown["error"] == "Access denied"
    assert [row["id"] for row in shown["deliveries"]] == [delivery.pk]
    assert api.as_user(world.operator_b).get(url).status_code == 404
    assert api.as_user(world.stranger).get(url).status_code == 404
    assert api.as_user(world.operator_a).get("/api/v1/appeals/987654321/platform/").status_code == 404


def test_retry_of_a_delivery_that_has_not_failed_is_409(world, api):
    delivery = _delivery(world.page_a, status="pending")
    response = api.as_user(world.operator_a).post(f"/api/v1/deliveries/{delivery.pk}/retry/")
    assert response.status_code == 409


def test_anonymous_callers_get_401(world, api):
    assert api.get("/api/v1/deliveries/").status_code == 401
    assert api.get("/api/v1/platform-events/").status_code == 401
    assert api.get("/api/v1/page-webhooks/").status_code == 401
