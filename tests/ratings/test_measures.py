"""Every measure on small cases computed by hand (domain.md section 7), read through the dashboard API.

Moscow (UTC+3), office 09:00-18:00, the federal defaults: messages 8 working hours to a first response and
5 working days to resolution; formal appeals 3 calendar days, 30 days to answer, extendable once by 30.
The clock is frozen at Wednesday 25 November 2026, 12:00 Moscow time.
"""

import datetime as dt

import pytest
import time_machine

from appeals import services
from appeals.models import CalendarOverride
from core.access import SYSTEM
from ratings import histogram
from ratings.services import rollups_catch_up
from tests.factories import PageFactory, make_appeal
from tests.ratings.reference import expected_rows, stored_rows

MSK = dt.timezone(dt.timedelta(hours=3))
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=MSK)
MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=MSK)
URL = "/api/v1/dashboards/sla/"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def msk(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=MSK)


def measures(api, user, page, **query):
    rollups_catch_up()
    response = api.as_user(user).get(URL, {"from": "2026-09-01", "to": "2026-11-30", "page_id": page.pk, **query})
    assert response.status_code == 200, response.json()
    (row,) = response.json()["results"]
    return row


def close_to(value: float | None, exact: float) -> bool:
    """Within the histogram's stated error of the exact value."""
    assert value is not None
    return abs(value - exact) <= max(histogram.MAX_RELATIVE_ERROR * exact, 0.5)


@pytest.fixture
def page(world):
    return PageFactory(organization=world.org_a, platform="vk")


def test_answered_on_time(api, world, page):
    appeal = make_appeal(page, received_at=MONDAY_10)
    services.appeal_reply(actor=SYSTEM, appeal_id=appeal.pk, text="Ответ", now=msk(23, 12))
    row = measures(api, world.admin, page)
    assert (row["received"], row["answered"], row["answered_on_time"], row["breached"]) == (1, 1, 1, 0)
    assert row["compliance"] == 1.0
    assert close_to(row["first_response_p50_minutes"], 120) and close_to(row["first_response_p50_working_minutes"], 120)
    assert (row["open"], row["overdue"]) == (1, 0)  # answered is still open until closed


def test_answered_late_is_breached_with_its_times(api, world, page):
    # 8 working hours from Monday 10:00 end at Monday 18:00; the answer came on Tuesday at 10:00.
    appeal = make_appeal(page, received_at=MONDAY_10)
    services.appeal_reply(actor=SYSTEM, appeal_id=appeal.pk, text="Ответ", now=msk(24, 10))
    row = measures(api, world.admin, page)
    assert (row["answered"], row["answered_on_time"], row["breached"], row["compliance"]) == (1, 0, 1, 0.0)
    assert close_to(row["first_response_p50_minutes"], 24 * 60)
    assert close_to(row["first_response_p50_working_minutes"], 8 * 60 + 60)


def test_unanswered_past_the_deadline_is_breached_and_overdue(api, world, page):
    make_appeal(page, received_at=MONDAY_10)
    row = measures(api, world.admin, page)
    assert (row["answered"], row["answered_on_time"], row["breached"], row["compliance"]) == (0, 0, 1, 0.0)
    assert (row["open"], row["overdue"]) == (1, 1)
    assert row["first_response_p50_minutes"] is None


def test_not_yet_due_is_not_judged(api, world, page):
    make_appeal(page, received_at=msk(25, 11))
    row = measures(api, world.admin, page)
    assert (row["received"], row["answered_on_time"], row["breached"], row["compliance"]) == (1, 0, 0, None)
    assert (row["open"], row["overdue"]) == (1, 0)


def test_paused_is_not_judged_while_waiting(api, world, page):
    appeal = make_appeal(page, received_at=MONDAY_10)
    services.appeal_wait(actor=SYSTEM, appeal_id=appeal.pk, reason="Уточните адрес", now=msk(23, 11))
    row = measures(api, world.admin, page)
    assert (row["answered_on_time"], row["breached"], row["compliance"], row["open"], row["overdue"]) == (
        0,
        0,
        None,
        1,
        0,
    )


def test_a_pause_moves_the_deadline_so_a_later_answer_is_on_time(api, world, page):
    # Paused Monday 11:00-15:00 (4 office hours): due Tuesday 13:00 instead of Monday 18:00.
    appeal = make_appeal(page, received_at=MONDAY_10)
    services.appeal_wait(actor=SYSTEM, appeal_id=appeal.pk, reason="Уточните адрес", now=msk(23, 11))
    services.appeal_resume(actor=SYSTEM, appeal_id=appeal.pk, now=msk(23, 15))
    services.appeal_reply(actor=SYSTEM, appeal_id=appeal.pk, text="Ответ", now=msk(24, 12))
    row = measures(api, world.admin, page)
    assert (row["answered_on_time"], row["breached"]) == (1, 0)
    # Response times are what the citizen waited, pauses included: Monday 10:00 to Tuesday 12:00.
    assert close_to(row["first_response_p50_minutes"], 26 * 60)
    assert close_to(row["first_response_p50_working_minutes"], 8 * 60 + 3 * 60)


def test_an_extended_formal_appeal_resolved_within_the_extension_is_on_time(api, world, page):
    appeal = make_appeal(page, kind="appeal", received_at=msk(1, 10, month=10), now=msk(1, 10, month=10))
    services.appeal_reply(actor=SYSTEM, appeal_id=appeal.pk, text="Ответ", now=msk(2, 10, month=10))
    services.appeal_extend(actor=SYSTEM, appeal_id=appeal.pk, reason="Нужна проверка", now=msk(20, 10, month=10))
    services.appeal_close(actor=SYSTEM, appeal_id=appeal.pk, now=msk(5, 10))
    row = measures(api, world.admin, page)
    assert (row["answered_on_time"], row["resolution_on_time"], row["resolution_breached"]) == (1, 1, 0)
    assert row["resolution_compliance"] == 1.0
    assert close_to(row["resolution_p50_minutes"], 35 * 24 * 60)
    assert (row["open"], row["overdue"]) == (0, 0)


def test_a_formal_appeal_closed_after_30_days_without_extension_breaches_resolution(api, world, page):
    appeal = make_appeal(page, kind="appeal", received_at=msk(1, 10, month=10), now=msk(1, 10, month=10))
    services.appeal_reply(actor=SYSTEM, appeal_id=appeal.pk, text="Ответ", now=msk(2, 10, month=10))
    services.appeal_close(actor=SYSTEM, appeal_id=appeal.pk, now=msk(5, 10))
    row = measures(api, world.admin, page)
    assert (row["resolution_on_time"], row["resolution_breached"], row["resolution_compliance"]) == (0, 1, 0.0)


def test_redirected_resolves_the_source_and_counts_the_target_where_it_arrived(api, world, page):
    appeal = make_appeal(page, received_at=MONDAY_10)
    services.appeal_redirect(
        actor=SYSTEM, appeal_id=appeal.pk, organization=world.org_b, reason="Не наш вопрос", now=msk(23, 11)
    )
    row = measures(api, world.admin, page)
    # The source: first response not judged (never answered, no longer running), resolved on time in an hour.
    assert (row["received"], row["answered_on_time"], row["breached"]) == (1, 0, 0)
    assert (row["resolution_on_time"], row["open"]) == (1, 0)
    assert close_to(row["resolution_p50_minutes"], 60)
    # The target in Kaliningrad has no VK page: it is counted for its organisation without a page.
    response = api.as_user(world.admin).get(
        URL, {"from": "2026-11-23", "to": "2026-11-23", "organization": world.org_b.pk, "group_by": "page"}
    )
    (target,) = response.json()["results"]
    assert (target["key"], target["name"], target["received"], target["open"]) == (None, "Без страницы", 1, 1)


def test_rejected_before_the_deadline_is_resolved_on_time_and_not_judged_for_first_response(api, world, page):
    appeal = make_appeal(page, received_at=MONDAY_10)
    services.appeal_reject(actor=SYSTEM, appeal_id=appeal.pk, reason="spam", now=msk(23, 10, 30))
    row = measures(api, world.admin, page)
    assert (row["answered_on_time"], row["breached"], row["compliance"]) == (0, 0, None)
    assert (row["resolution_on_time"], row["resolution_breached"], row["open"], row["overdue"]) == (1, 0, 0, 0)


def test_reopened_keeps_its_first_response_and_restarts_resolution(api, world, page):
    appeal = make_appeal(page, received_at=MONDAY_10)
    services.appeal_reply(actor=SYSTEM, appeal_id=appeal.pk, text="Ответ", now=msk(23, 11))
    services.appeal_close(actor=SYSTEM, appeal_id=appeal.pk, now=msk(23, 12))
    services.appeal_reopen(actor=SYSTEM, appeal_id=appeal.pk, reason="Не помогло", now=msk(24, 10))
    row = measures(api, world.admin, page)
    assert (row["answered_on_time"], row["breached"]) == (1, 0)
    assert (row["resolution_on_time"], row["resolution_breached"]) == (0, 0)  # running again, due in 5 working days
    assert (row["open"], row["overdue"]) == (1, 0)
    assert row["resolution_p50_minutes"] is None


def test_working_minutes_skip_the_weekend(api, world, page):
    # Friday 17:30 to Monday 10:00: 30 office minutes on Friday, 60 on Monday.
    appeal = make_appeal(page, received_at=msk(20, 17, 30))
    services.appeal_reply(actor=SYSTEM, appeal_id=appeal.pk, text="Ответ", now=msk(23, 10))
    row = measures(api, world.admin, page)
    assert close_to(row["first_response_p50_working_minutes"], 90)
    assert close_to(row["first_response_p50_minutes"], 2 * 24 * 60 + 16 * 60 + 30)


def test_working_minutes_skip_a_holiday_and_count_its_short_eve(api, world, page):
    # Tuesday 3 November 2026 is shortened (closes 17:00), Wednesday 4 November a holiday.
    appeal = make_appeal(page, received_at=msk(3, 16))
    services.appeal_reply(actor=SYSTEM, appeal_id=appeal.pk, text="Ответ", now=msk(5, 10))
    row = measures(api, world.admin, page)
    assert close_to(row["first_response_p50_working_minutes"], 60 + 60)


def test_a_holiday_added_later_moves_the_working_minutes_of_closed_appeals(api, world, page):
    appeal = make_appeal(page, received_at=msk(19, 17))
    services.appeal_reply(actor=SYSTEM, appeal_id=appeal.pk, text="Ответ", now=msk(23, 10))
    assert close_to(measures(api, world.admin, page)["first_response_p50_working_minutes"], 60 + 9 * 60 + 60)
    services.calendar_override_save(
        actor=world.admin,
        override=CalendarOverride(),
        data={"date": dt.date(2026, 11, 20), "kind": "non_working", "region": world.org_a.region},
    )
    assert close_to(measures(api, world.admin, page)["first_response_p50_working_minutes"], 60 + 60)


def test_a_calendar_change_rerolls_closed_appeals_on_commit_when_no_open_deadline_moves(
    world, page, django_capture_on_commit_callbacks
):
    """The calendar's change itself re-rolls: with no open appeal whose deadline it moves, its deadline recompute
    writes no history event, and the rows waited for beat's next catch-up (found by the property test)."""
    appeal = make_appeal(page, received_at=msk(19, 17))
    with django_capture_on_commit_callbacks(execute=True):
        services.appeal_reply(actor=SYSTEM, appeal_id=appeal.pk, text="Ответ", now=msk(23, 10))
        services.appeal_close(actor=SYSTEM, appeal_id=appeal.pk, now=msk(23, 11))
    assert stored_rows() == expected_rows(now=NOW)

    with django_capture_on_commit_callbacks(execute=True):
        override = services.calendar_override_save(
            actor=world.admin,
            override=CalendarOverride(),
            data={"date": dt.date(2026, 11, 20), "kind": "non_working", "region": None},
        )
    assert stored_rows() == expected_rows(now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        services.calendar_override_delete(actor=world.admin, override=override)
    assert stored_rows() == expected_rows(now=NOW)


def test_percentiles_are_nearest_rank_over_several_appeals(api, world, page):
    minutes = [5, 10, 20, 40, 80, 160, 320, 400, 450, 470]
    for spent in minutes:
        appeal = make_appeal(page, received_at=MONDAY_10 - dt.timedelta(days=7))
        services.appeal_reply(
            actor=SYSTEM, appeal_id=appeal.pk, text="Ответ", now=appeal.received_at + dt.timedelta(minutes=spent)
        )
    row = measures(api, world.admin, page)
    assert close_to(row["first_response_p50_minutes"], 80)  # the 5th of 10
    assert close_to(row["first_response_p90_minutes"], 450)  # the 9th of 10
    assert row["received"] == 10
