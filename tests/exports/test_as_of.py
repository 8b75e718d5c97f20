"""The overdue list as of a past moment is reconstructed from what was stored then, not from today's status:
answered late, paused then resumed, extended, reopened, redirected. On PostgreSQL every list here is also held
equal, row by row, to the Python form (appeals.sla.appeal_as_of), by tests/exports/conftest.csv_rows."""

import datetime as dt

import pytest

from appeals import services, sla
from appeals.models import Appeal, AppealEvent
from tests.exports.conftest import csv_rows, overdue_ids
from tests.factories import make_appeal

pytestmark = pytest.mark.django_db

MSK = dt.timezone(dt.timedelta(hours=3))
MONDAY = dt.datetime(2026, 10, 5, 10, 0, tzinfo=MSK)  # a working Monday; messages: 8 working hours, 5 working days


def at(day_offset: int, hour: int, minute: int = 0) -> dt.datetime:
    return (MONDAY + dt.timedelta(days=day_offset)).replace(hour=hour, minute=minute)


def test_an_appeal_answered_late_is_listed_before_its_answer_and_not_after(world):
    appeal = make_appeal(world.page_a, received_at=MONDAY)
    assert appeal.first_response_due_at == at(0, 18)
    services.appeal_reply(actor=world.operator_a, appeal_id=appeal.pk, text="Ответ", now=at(1, 12))
    assert overdue_ids(world.admin, at(0, 17)) == []
    assert overdue_ids(world.admin, at(0, 20)) == [appeal.pk]
    row = csv_rows(world.admin, as_of=at(1, 10).isoformat())[0]
    assert row[9] == "2026-10-05 18:00:00"  # the missed deadline, Moscow time
    assert row[11] == "первый ответ"
    assert (row[12], row[13]) == ("16.00", "1.00")  # 16 calendar hours, 1 office hour (Tuesday 9-10)
    assert row[14] == "новое"
    assert overdue_ids(world.admin, at(1, 13)) == []  # answered; the resolution is not due yet


def test_a_pause_counts_only_once_it_had_begun_and_stops_the_list_while_it_runs(world):
    appeal = make_appeal(world.page_a, received_at=MONDAY)
    services.appeal_wait(actor=world.operator_a, appeal_id=appeal.pk, now=at(0, 11))
    services.appeal_resume(actor=world.operator_a, appeal_id=appeal.pk, now=at(2, 11))
    stored = Appeal.objects.get(pk=appeal.pk)
    assert stored.first_response_due_at == at(2, 18)  # 18 office hours of pause added
    assert overdue_ids(world.admin, at(0, 20)) == []  # waiting for the citizen then
    assert overdue_ids(world.admin, at(2, 12)) == []  # the pause moved the deadline
    rows = csv_rows(world.admin, as_of=at(2, 19).isoformat())
    assert [(int(r[0]), r[9]) for r in rows] == [(appeal.pk, "2026-10-07 18:00:00")]


def test_a_pause_that_began_after_the_moment_does_not_move_the_deadline_of_then(world):
    appeal = make_appeal(world.page_a, received_at=MONDAY)
    services.appeal_wait(actor=world.operator_a, appeal_id=appeal.pk, now=at(1, 10))
    services.appeal_resume(actor=world.operator_a, appeal_id=appeal.pk, now=at(2, 10))
    assert Appeal.objects.get(pk=appeal.pk).first_response_due_at > at(0, 20)
    rows = csv_rows(world.admin, as_of=at(0, 20).isoformat())
    assert [(int(r[0]), r[9], r[12]) for r in rows] == [(appeal.pk, "2026-10-05 18:00:00", "2.00")]


def test_an_extension_counts_from_the_moment_it_was_granted(world):
    received = dt.datetime(2026, 9, 1, 10, 0, tzinfo=MSK)
    early = make_appeal(world.page_a, received_at=received, kind="appeal")
    late = make_appeal(world.page_a, received_at=received, kind="appeal")
    for appeal in (early, late):
        services.appeal_reply(
            actor=world.operator_a, appeal_id=appeal.pk, text="Принято", now=received.replace(hour=11)
        )
    first_due = Appeal.objects.get(pk=early.pk).resolution_due_at
    assert first_due == dt.datetime(2026, 10, 1, 23, 59, 59, tzinfo=MSK)
    services.appeal_extend(
        actor=world.operator_a, appeal_id=early.pk, reason="Запрос", now=dt.datetime(2026, 9, 20, tzinfo=MSK)
    )
    services.appeal_extend(
        actor=world.operator_a, appeal_id=late.pk, reason="Запрос", now=dt.datetime(2026, 10, 3, tzinfo=MSK)
    )
    assert overdue_ids(world.admin, dt.datetime(2026, 10, 2, 12, 0, tzinfo=MSK)) == [late.pk]
    assert overdue_ids(world.admin, dt.datetime(2026, 10, 4, 12, 0, tzinfo=MSK)) == []


def test_a_reopened_appeal_is_judged_by_the_clock_of_each_moment(world):
    appeal = make_appeal(world.page_a, received_at=MONDAY)
    services.appeal_reply(actor=world.operator_a, appeal_id=appeal.pk, text="Ответ", now=at(0, 11))
    services.appeal_close(actor=world.operator_a, appeal_id=appeal.pk, now=at(9, 10))
    services.appeal_reopen(actor=world.operator_a, appeal_id=appeal.pk, reason="Не решено", now=at(15, 10))
    assert Appeal.objects.get(pk=appeal.pk).resolution_due_at == dt.datetime(2026, 10, 27, 23, 59, 59, tzinfo=MSK)
    as_of_answered = csv_rows(world.admin, as_of=at(8, 12).isoformat())
    assert [(int(r[0]), r[9], r[11], r[14]) for r in as_of_answered] == [
        (appeal.pk, "2026-10-12 23:59:59", "решение", "дан ответ")
    ]
    assert overdue_ids(world.admin, at(10, 12)) == []  # closed then
    assert overdue_ids(world.admin, at(16, 12)) == []  # reopened, the new term runs
    assert overdue_ids(world.admin, at(23, 12)) == [appeal.pk]


def test_a_redirected_appeal_leaves_the_list_and_its_copy_enters_on_its_own_term(world):
    appeal = make_appeal(world.page_a, received_at=MONDAY)
    services.appeal_redirect(
        actor=world.admin, appeal_id=appeal.pk, organization=world.org_b, reason="Не наш вопрос", now=at(1, 12)
    )
    target = Appeal.objects.get(pk=appeal.pk).redirected_to
    assert target.organization_id == world.org_b.pk
    assert overdue_ids(world.admin, at(1, 10)) == [appeal.pk]
    assert overdue_ids(world.admin, at(2, 9)) == []  # redirected; the copy's term runs in Kaliningrad
    later = overdue_ids(world.admin, at(2, 13))
    assert later == [target.pk]


def test_the_python_form_follows_the_history_of_statuses():
    moment = dt.datetime(2026, 10, 5, 12, tzinfo=dt.UTC)
    events = [
        (moment - dt.timedelta(hours=2), 1, "new"),
        (moment, 2, "in_progress"),
        (moment, 3, ""),
        (moment + dt.timedelta(seconds=1), 4, "answered"),
    ]
    assert sla.status_as_of(events, moment) == "in_progress"
    assert sla.status_as_of(events, moment - dt.timedelta(hours=3)) is None


def test_an_appeal_taken_in_after_the_moment_is_not_in_its_list(world):
    # Received before the moment but delivered (taken in) after it: the list of then did not know it.
    appeal = make_appeal(world.page_a, received_at=MONDAY, now=at(1, 12))
    assert AppealEvent.objects.filter(appeal=appeal).count() == 1
    assert overdue_ids(world.admin, at(1, 10)) == []
    assert overdue_ids(world.admin, at(1, 13)) == [appeal.pk]
