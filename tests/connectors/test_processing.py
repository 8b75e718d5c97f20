"""Stored events survive a broker outage, failed attempts come back, administrators re-process."""

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from appeals.models import Appeal
from connectors import services
from connectors.models import EventStatus, PlatformEvent
from core.errors import Conflict
from tests.connectors.conftest import vk, vk_comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down():
    with mock.patch(
        "connectors.tasks.process_event.apply_async", side_effect=OperationalError("Connection refused")
    ) as down:
        yield down


def test_with_the_broker_down_the_delivery_is_acknowledged_stored_and_picked_up_later(
    vk_page, hook, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = hook(vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page)))
    assert response.status_code == 200 and response.content == b"ok"
    assert broker_down.called
    event = PlatformEvent.objects.get()
    assert event.status == EventStatus.RECEIVED and not Appeal.objects.exists()
    # Still down: the pick-up stops at the first refusal and loses nothing.
    assert services.events_pick_up(now=timezone.now() + dt.timedelta(minutes=5)) == 0
    broker_down.side_effect = None
    broker_down.reset_mock()
    # Too young for the pick-up: its own task may still be on its way.
    assert services.events_pick_up() == 0
    with mock.patch("connectors.tasks.process_event.apply_async") as sent:
        assert services.events_pick_up(now=timezone.now() + dt.timedelta(minutes=5)) == 1
    assert sent.call_args.kwargs["kwargs"] == {"event_id": event.pk}
    assert services.event_process(event_id=event.pk) == EventStatus.PROCESSED
    assert Appeal.objects.count() == 1


def test_processing_twice_creates_one_appeal(vk_page, hook, broker_down):
    hook(vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page)))
    event = PlatformEvent.objects.get()
    assert services.event_process(event_id=event.pk) == EventStatus.PROCESSED
    assert services.event_process(event_id=event.pk) is None
    assert Appeal.objects.count() == 1


def test_a_transient_failure_is_counted_and_the_event_waits_for_the_next_attempt(vk_page, hook, broker_down):
    hook(vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page)))
    event = PlatformEvent.objects.get()
    with mock.patch("connectors.services._apply", side_effect=Conflict("locked")), pytest.raises(services.Deferred):
        services.event_process(event_id=event.pk)
    event.refresh_from_db()
    assert (event.status, event.attempts) == (EventStatus.RECEIVED, 1)
    assert "locked" in event.error
    assert services.event_process(event_id=event.pk) == EventStatus.PROCESSED


def test_an_event_failing_every_attempt_is_left_failed(vk_page, hook, broker_down):
    hook(vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page)))
    event = PlatformEvent.objects.get()
    with mock.patch("connectors.services._apply", side_effect=Conflict("locked")):
        for _ in range(services.EVENT_MAX_ATTEMPTS):
            with pytest.raises(services.Deferred):
                services.event_process(event_id=event.pk)
    event.refresh_from_db()
    assert event.status == EventStatus.FAILED
    assert services.event_process(event_id=event.pk) is None


def test_a_comment_dated_in_the_future_fails_with_the_intake_services_reason(vk_page, hook, broker_down):
    future = int((timezone.now() + dt.timedelta(days=1)).timestamp())
    hook(vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page, date=future)))
    event = PlatformEvent.objects.get()
    assert services.event_process(event_id=event.pk) == EventStatus.FAILED
    assert "received_at" in PlatformEvent.objects.get().error


def test_an_administrator_reprocesses_an_event_and_others_may_not(world, vk_page, hook, broker_down):
    hook(vk_page, vk(vk_page, "wall_reply_new", vk_comment(vk_page, date=None)))
    event = PlatformEvent.objects.get()
    assert services.event_process(event_id=event.pk) == EventStatus.FAILED
    from core.errors import Refused

    for user in (world.operator_a, world.analyst_x, world.auditor_federal, world.integration_a):
        with pytest.raises(Refused):
            services.event_reprocess(actor=user, event_id=event.pk)
    services.event_reprocess(actor=world.admin, event_id=event.pk)
    event.refresh_from_db()
    assert (event.status, event.attempts, event.error) == (EventStatus.RECEIVED, 0, "")


def test_ten_concurrent_deliveries_of_one_vk_event_store_one_row(vk_page, broker_down):
    payload = vk(vk_page, "wall_reply_new", vk_comment(vk_page), event_id="only-once")
    from connectors.platforms.base import Accepted

    ids = [
        services.event_store(
            page=vk_page, accepted=Accepted("only-once", "wall_reply_new"), payload=payload, now=timezone.now()
        )
        for _ in range(10)
    ]
    assert sum(1 for i in ids if i) == 1
