"""The same VK event delivered 10 times at once, on PostgreSQL: one appeal, ten answers `ok`."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from appeals.models import Appeal
from connectors import services
from connectors.models import PlatformEvent
from tests.conftest import ensure_reference_data
from tests.connectors.conftest import vk, vk_comment
from tests.factories import OrganizationFactory, PageFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_simultaneous_deliveries_give_one_appeal_and_ten_oks():
    ensure_reference_data()
    page = PageFactory(organization=OrganizationFactory(), platform="vk", platform_id="218000999", webhook_secret="s3")
    body = json.dumps(vk(page, "wall_reply_new", vk_comment(page), event_id="race-1"))
    barrier = threading.Barrier(10)
    answers: list[tuple[int, bytes]] = []

    def deliver() -> None:
        try:
            barrier.wait()
            response = Client().post(f"/api/v1/webhooks/vk/{page.pk}/", data=body, content_type="application/json")
            answers.append((response.status_code, response.content))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [(200, b"ok")] * 10
    assert PlatformEvent.objects.filter(page=page).count() == 1
    # Eager tasks ran in the delivering threads; processing the event again changes nothing.
    assert services.event_process(event_id=PlatformEvent.objects.get(page=page).pk) is None
    assert Appeal.objects.filter(page=page).count() == 1
