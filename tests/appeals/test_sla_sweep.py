"""The periodic SLA sweep: warnings once per threshold, breaches once, e-mail to operators, idempotence."""

import datetime as dt

import pytest
from django.core import mail

from appeals import services
from appeals.models import Appeal, AppealEvent
from tests.factories import make_appeal

pytestmark = pytest.mark.django_db

MONDAY_10_MSK = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)  # 8 working hours: due Monday 18:00 MSK


def msk(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour - 3, minute, tzinfo=dt.UTC)


def sla_events(appeal: Appeal) -> list[tuple[str, dict]]:
    return list(
        AppealEvent.objects.filter(appeal=appeal, action__in=["sla_warning", "sla_breached"])
        .order_by("id")
        .values_list("action", "data")
    )


def sweep(now: dt.datetime, django_capture_on_commit_callbacks) -> services.SweepResult:
    with django_capture_on_commit_callbacks(execute=True):
        return services.sla_sweep(now=now)


def test_the_sweep_warns_at_each_threshold_once_then_marks_the_breach_once(world, django_capture_on_commit_callbacks):
    appeal = make_appeal(world.page_a, received_at=MONDAY_10_MSK)
    world.operator_a.email = "operator-a@example.ru"
    world.operator_a.save()

    assert sweep(msk(23, 13), django_capture_on_commit_callbacks).warnings == 0  # 3 of 8 hours: 37%
    sweep(msk(23, 14, 1), django_capture_on_commit_callbacks)  # past 50%
    sweep(msk(23, 14, 30), django_capture_on_commit_callbacks)  # nothing new
    sweep(msk(23, 16, 30), django_capture_on_commit_callbacks)  # past 80%
    sweep(msk(23, 18, 1), django_capture_on_commit_callbacks)  # past the deadline
    sweep(msk(23, 19), django_capture_on_commit_callbacks)  # nothing new

    assert sla_events(appeal) == [
        ("sla_warning", {"target": "first_response", "percent": 50}),
        ("sla_warning", {"target": "first_response", "percent": 80}),
        ("sla_breached", {"target": "first_response", "due_at": "2026-11-23T15:00:00+00:00"}),
    ]
    appeal.refresh_from_db()
    assert appeal.first_response_breached and not appeal.resolution_breached
    # Next line: the resolution deadline (5 working days), not another look at the first response.
    assert appeal.sla_next_check_at == appeal.resolution_due_at
    assert [message.to for message in mail.outbox] == [["operator-a@example.ru"]] * 3
    assert f"Обращение № {appeal.pk}, " in mail.outbox[-1].body
    assert "истёк срок первого ответа" in mail.outbox[-1].body
    assert "80%" in mail.outbox[1].body


def test_a_sweep_that_jumps_past_everything_writes_one_breach_and_no_stale_warnings(
    world, django_capture_on_commit_callbacks
):
    appeal = make_appeal(world.page_a, received_at=MONDAY_10_MSK)
    sweep(msk(24, 12), django_capture_on_commit_callbacks)
    assert [action for action, _ in sla_events(appeal)] == ["sla_breached"]


def test_running_the_sweep_twice_changes_nothing(world, django_capture_on_commit_callbacks):
    appeals = [make_appeal(world.page_a, received_at=MONDAY_10_MSK) for _ in range(3)]
    first = sweep(msk(23, 18, 30), django_capture_on_commit_callbacks)
    rows_after_first = list(Appeal.objects.order_by("id").values())
    events_after_first = AppealEvent.objects.count()
    second = sweep(msk(23, 18, 30), django_capture_on_commit_callbacks)
    assert first.breaches == 3 and second.checked == 0
    assert list(Appeal.objects.order_by("id").values()) == rows_after_first
    assert AppealEvent.objects.count() == events_after_first
    assert len(appeals) == 3


def test_the_sweep_does_not_touch_appeals_far_from_their_deadline(
    world, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    far = [make_appeal(world.page_a, received_at=MONDAY_10_MSK) for _ in range(20)]
    untouched = {appeal.pk: appeal.updated_at for appeal in far}
    with django_assert_max_num_queries(3):  # a savepoint, one SELECT of the due rows (none), its release
        result = services.sla_sweep(now=msk(23, 11))
    assert result.checked == 0
    assert dict(Appeal.objects.values_list("pk", "updated_at")) == untouched
    assert not AppealEvent.objects.filter(action__in=["sla_warning", "sla_breached"]).exists()


def test_paused_and_answered_appeals_are_not_breached_for_first_response(world, django_capture_on_commit_callbacks):
    waiting = make_appeal(world.page_a, received_at=MONDAY_10_MSK)
    services.appeal_wait(actor=world.operator_a, appeal_id=waiting.pk, now=msk(23, 11))
    answered = make_appeal(world.page_a, received_at=MONDAY_10_MSK)
    services.appeal_reply(actor=world.operator_a, appeal_id=answered.pk, text="Ответ", now=msk(23, 11))
    sweep(msk(23, 19), django_capture_on_commit_callbacks)
    assert sla_events(waiting) == []
    assert sla_events(answered) == []


def test_the_sla_state_follows_the_clock(api, world):
    appeal = make_appeal(world.page_a, received_at=MONDAY_10_MSK)
    from appeals import sla
    from appeals.selectors import appeals_visible_to

    def state(now: dt.datetime) -> str:
        return sla.current_facts(appeals_visible_to(world.admin).get(pk=appeal.pk), now=now).sla_state

    assert state(msk(23, 12)) == "on_track"
    assert state(msk(23, 15)) == "at_risk"
    assert state(msk(23, 18, 1)) == "breached"
    services.appeal_reply(actor=world.operator_a, appeal_id=appeal.pk, text="Ответ", now=msk(23, 17))
    assert state(msk(23, 18, 1)) == "on_track"  # first response met; resolution clock runs
    services.appeal_close(actor=world.operator_a, appeal_id=appeal.pk, now=msk(23, 17, 30))
    assert state(msk(30, 12)) == "met"


def test_the_sweep_task_runs_the_service(world, django_capture_on_commit_callbacks):
    from appeals.tasks import sla_sweep

    make_appeal(
        world.page_a, received_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = sla_sweep.delay().get()
    assert result["breaches"] >= 1
