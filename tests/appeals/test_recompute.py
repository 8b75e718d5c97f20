"""Recomputing open appeals' deadlines after a calendar change: correct, scoped to the region, idempotent."""

import datetime as dt

import pytest

from appeals import services
from appeals.models import AppealEvent, CalendarOverride
from tests.factories import make_appeal

pytestmark = pytest.mark.django_db

MONDAY_10_MSK = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)


def test_a_holiday_added_later_moves_running_deadlines_once(world, django_capture_on_commit_callbacks):
    moscow = make_appeal(world.page_a, received_at=MONDAY_10_MSK)  # 5 working days: due Monday 30 November
    kaliningrad = make_appeal(world.page_b, received_at=MONDAY_10_MSK)
    before_kaliningrad = kaliningrad.resolution_due_at
    with django_capture_on_commit_callbacks(execute=True):
        services.calendar_override_save(
            actor=world.analyst_x,
            override=CalendarOverride(),
            data={"date": dt.date(2026, 11, 25), "region": world.org_a.region, "kind": "non_working"},
        )
    moscow.refresh_from_db()
    kaliningrad.refresh_from_db()
    assert moscow.resolution_due_at.date() == dt.date(2026, 12, 1)
    assert kaliningrad.resolution_due_at == before_kaliningrad
    events = AppealEvent.objects.filter(action="deadlines_recomputed")
    assert list(events.values_list("appeal_id", flat=True)) == [moscow.pk]

    # Running the task again (a retry, a duplicate delivery) changes nothing and writes no event.
    assert services.appeals_recompute_deadlines(region_id=world.org_a.region_id) == 0
    assert events.count() == 1


def test_a_breach_undone_by_a_new_holiday_is_lifted(world, django_capture_on_commit_callbacks):
    appeal = make_appeal(world.page_a, received_at=MONDAY_10_MSK)  # first response due Monday 18:00
    services.sla_sweep(now=dt.datetime(2026, 11, 23, 15, 30, tzinfo=dt.UTC))
    appeal.refresh_from_db()
    assert appeal.first_response_breached
    CalendarOverride.objects.create(date=dt.date(2026, 11, 23), region=world.org_a.region, kind="non_working")
    services.appeals_recompute_deadlines(
        region_id=world.org_a.region_id, now=dt.datetime(2026, 11, 23, 16, tzinfo=dt.UTC)
    )
    appeal.refresh_from_db()
    assert appeal.first_response_due_at > dt.datetime(2026, 11, 23, 16, tzinfo=dt.UTC)
    assert not appeal.first_response_breached
