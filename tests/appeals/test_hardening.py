"""Findings of the outside security and reliability test: each fails without its fix."""

import datetime as dt
from contextlib import contextmanager

import pytest
import time_machine
from django.test import override_settings

from appeals.models import Appeal, CalendarOverride, SlaPolicy
from config.celery_app import app as celery_app
from core.models import QueuedTask
from core.outbox import outbox_drain
from tests.appeals.test_calendar_overrides_api import MOSCOW_BEFORE, MOSCOW_THURSDAY_OFF, NOW, THURSDAY, URL, served
from tests.assertions import assert_error
from tests.factories import make_appeal, region

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    # Ticking: the cache and broker clients time out by the clock, and a frozen one would wait for ever.
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


# 1. Every write checks the right over the object as it is and as it will be. ----------------------------------


@pytest.mark.parametrize("stored_region", [None, "RU-SVE"])
def test_an_analyst_cannot_take_over_an_override_of_another_scope(api, world, stored_region):
    override = CalendarOverride.objects.create(
        date=dt.date(2026, 11, 26), region=region(stored_region) if stored_region else None, kind="working"
    )
    client = api.as_user(world.analyst_x)
    assert_error(client.patch(f"{URL}{override.pk}/", {"region": "RU-MOW"}), 403)
    moved = {"date": "2026-11-27", "region": "RU-MOW", "kind": "non_working", "reason": "Захват"}
    assert_error(client.put(f"{URL}{override.pk}/", moved), 403)
    assert_error(client.delete(f"{URL}{override.pk}/"), 403)
    override.refresh_from_db()
    assert (override.date, override.region_id, override.kind) == (
        dt.date(2026, 11, 26),
        region(stored_region).pk if stored_region else None,
        "working",
    )


def test_an_analyst_cannot_move_their_override_out_of_their_region(api, world):
    override = CalendarOverride.objects.create(date=dt.date(2026, 11, 26), region=region("RU-MOW"), kind="working")
    assert_error(api.as_user(world.analyst_x).patch(f"{URL}{override.pk}/", {"region": None}), 403)
    assert_error(api.as_user(world.analyst_x).patch(f"{URL}{override.pk}/", {"region": "RU-KGD"}), 403)
    override.refresh_from_db()
    assert override.region_id == region("RU-MOW").pk


def test_an_analyst_cannot_take_over_a_policy_of_another_scope(api, world):
    federal = SlaPolicy.objects.filter(is_current=True, region__isnull=True, organization__isnull=True).first()
    client = api.as_user(world.analyst_x)
    assert_error(client.patch(f"/api/v1/sla-policies/{federal.pk}/", {"region": "RU-MOW"}), 403)
    assert_error(client.delete(f"/api/v1/sla-policies/{federal.pk}/"), 403)
    assert SlaPolicy.objects.get(pk=federal.pk).is_current


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("take", {}),
        ("reply", {"text": "Ответ"}),
        ("note", {"text": "Заметка"}),
        ("wait", {"reason": "Уточнить"}),
        ("reject", {"reason": "spam"}),
        ("assign", {"assignee": 1}),
        ("extend", {"reason": "Продление"}),
        ("convert", {}),
        ("mark-duplicate", {"duplicate_of": 1}),
    ],
)
def test_no_action_reaches_an_appeal_outside_the_callers_scope(api, world, action, body):
    appeal = make_appeal(world.page_b, received_at=NOW)
    before = Appeal.objects.get(pk=appeal.pk).status
    for outsider in (world.operator_a, world.analyst_x, world.stranger):
        assert_error(api.as_user(outsider).post(f"/api/v1/appeals/{appeal.pk}/{action}/", body, format="json"), 404)
    for reader in (world.auditor_federal,):
        response = api.as_user(reader).post(f"/api/v1/appeals/{appeal.pk}/{action}/", body, format="json")
        assert response.status_code in (400, 403), response.content
    assert Appeal.objects.get(pk=appeal.pk).status == before
    assert appeal.events.count() == 1


# 2. A broker and cache outage: reads and writes succeed, queued work waits in the outbox and runs later. -------


@contextmanager
def broker_and_cache_down():
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url
    conf.task_always_eager, conf.broker_url = False, "redis://127.0.0.1:1/0"
    celery_app._pool = celery_app.amqp._producer_pool = None  # connect anew, to the unreachable broker
    unreachable = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    try:
        with override_settings(CACHES=unreachable):
            yield
    finally:
        conf.task_always_eager, conf.broker_url = saved
        celery_app._pool = celery_app.amqp._producer_pool = None


def test_the_api_works_with_the_broker_and_the_cache_unreachable_and_the_work_runs_later(
    api, world, django_capture_on_commit_callbacks
):
    appeal = make_appeal(world.page_a, received_at=NOW)
    with broker_and_cache_down():
        analyst = api.as_user(world.analyst_x)
        assert analyst.get("/api/v1/appeals/").status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            intake = api.as_user(world.integration_a).post(
                "/api/v1/appeals/",
                {
                    "page": world.page_a.pk,
                    "external_id": "outage-1",
                    "kind": "message",
                    "channel": "comment",
                    "text": "Яма на дороге",
                    "received_at": NOW.isoformat(),
                },
                format="json",
            )
            taken = api.as_user(world.operator_a).post(f"/api/v1/appeals/{appeal.pk}/take/")
            override = api.as_user(world.analyst_x).post(
                URL, {"date": THURSDAY, "region": "RU-MOW", "kind": "non_working"}
            )
            moscow = SlaPolicy.objects.filter(is_current=True, region__isnull=True, kind="message").first()
            edited = api.as_user(world.admin).patch(
                f"/api/v1/sla-policies/{moscow.pk}/",
                {"name": "Сообщения (уточнено)", "apply_to_open_appeals": True},
                format="json",
            )
        assert (intake.status_code, taken.status_code, override.status_code, edited.status_code) == (201, 200, 201, 200)
        assert served(api, world, appeal) == MOSCOW_BEFORE  # the recompute has not run: it waits
    waiting = QueuedTask.objects.filter(sent_at__isnull=True)
    # Besides the ratings' re-rolls of the changed appeals (ratings.services), the two recomputes wait.
    assert (
        sorted(row.task for row in waiting if row.task.startswith("appeals."))
        == ["appeals.tasks.recompute_deadlines"] * 2
    )
    assert all(row.attempts == 1 and row.last_error for row in waiting if row.task.startswith("appeals."))
    # The broker is back: the drain sends what waited, once.
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_drain(now=NOW + dt.timedelta(minutes=5)) == len(waiting)
    assert served(api, world, appeal) == MOSCOW_THURSDAY_OFF
    assert not QueuedTask.objects.filter(sent_at__isnull=True).exists()
    assert outbox_drain(now=NOW + dt.timedelta(minutes=10)) == 0


def test_a_rolled_back_change_queues_nothing(world):
    from django.db import transaction

    from appeals import services

    with pytest.raises(RuntimeError), transaction.atomic():
        services.calendar_override_save(
            actor=world.admin, override=CalendarOverride(), data={"date": dt.date(2026, 11, 26), "kind": "working"}
        )
        raise RuntimeError
    assert not QueuedTask.objects.exists() and not CalendarOverride.objects.exists()


# 4. A message converted, reopened and converted again: a clear 409, never a 500, and the link stays one. ---------


def test_converting_a_reopened_message_again_answers_409_and_keeps_the_one_link(api, world):
    appeal = make_appeal(world.page_a, received_at=NOW - dt.timedelta(hours=1))
    client = api.as_user(world.operator_a)
    assert client.post(f"/api/v1/appeals/{appeal.pk}/convert/").status_code == 200
    assert client.post(f"/api/v1/appeals/{appeal.pk}/reopen/", {"reason": "Не решено"}).status_code == 200
    body = assert_error(client.post(f"/api/v1/appeals/{appeal.pk}/convert/"), 409)
    assert "уже преобразовано" in body["message"]
    assert Appeal.objects.filter(converted_from=appeal).count() == 1
    assert Appeal.objects.get(pk=appeal.pk).status == "in_progress"


# 8. Unknown and out-of-scope ids answer alike. -----------------------------------------------------------------


def test_assigning_an_unknown_user_and_one_who_may_not_handle_it_answer_alike(api, world):
    appeal = make_appeal(world.page_a, received_at=NOW - dt.timedelta(hours=1))
    client = api.as_user(world.operator_a)
    unknown = assert_error(client.post(f"/api/v1/appeals/{appeal.pk}/assign/", {"assignee": 999_999}), 400)
    outsider = assert_error(client.post(f"/api/v1/appeals/{appeal.pk}/assign/", {"assignee": world.operator_b.pk}), 400)
    auditor = assert_error(client.post(f"/api/v1/appeals/{appeal.pk}/assign/", {"assignee": world.auditor_x.pk}), 400)
    assert unknown["fields"] == outsider["fields"] == auditor["fields"]
