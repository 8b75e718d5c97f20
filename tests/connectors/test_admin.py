"""The connectors in the admin: events for administrators, deliveries in scope with their retry action."""

import pytest

from connectors.models import Delivery, PageConnector
from tests.connectors.test_connectors_api import _delivery, _event

pytestmark = pytest.mark.django_db


def test_platform_events_are_listed_to_administrators_only(world, vk_page, client):
    _event(vk_page, "e1")
    client.force_login(world.admin)
    assert client.get("/admin/connectors/platformevent/").status_code == 200
    client.force_login(world.operator_a)
    assert client.get("/admin/connectors/platformevent/").status_code == 403


def test_operators_see_their_deliveries_and_retry_a_failed_one(
    world, client, django_capture_on_commit_callbacks, settings
):
    settings.VK_API_BASE_URL = "http://127.0.0.1:9/method"  # unreachable: the retry is attempted and waits again
    mine, theirs = _delivery(world.page_a), _delivery(world.page_b)
    client.force_login(world.operator_a)
    page = client.get("/admin/connectors/delivery/")
    assert page.status_code == 200
    assert f"/admin/connectors/delivery/{mine.pk}/change/" in page.content.decode()
    assert f"/admin/connectors/delivery/{theirs.pk}/change/" not in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/connectors/delivery/", {"action": "retry", "_selected_action": [mine.pk, theirs.pk]}, follow=True
        )
    assert response.status_code == 200
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == "pending" and mine.attempts == 1  # sent again, the platform unreachable: waits
    assert theirs.status == "failed"  # outside the operator's scope: untouched


def test_page_connector_settings_offer_only_the_operators_max_pages(world, max_page, client):
    client.force_login(world.operator_b)
    form = client.get("/admin/connectors/pageconnector/add/")
    assert form.status_code == 200
    assert f'value="{max_page.pk}"' in form.content.decode()
    response = client.post("/admin/connectors/pageconnector/add/", {"page": world.page_a.pk, "poll_comments": "on"})
    assert response.status_code == 200  # the form refused the page of another organisation
    assert not PageConnector.objects.exists()
    client.post("/admin/connectors/pageconnector/add/", {"page": max_page.pk, "poll_comments": "on"})
    assert PageConnector.objects.get().poll_comments is True
    assert Delivery.objects.count() == 0
