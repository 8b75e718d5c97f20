"""An organisation's rollups follow a change of its zone, region or kind, re-rolled on commit by a Celery task."""

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from core.models import QueuedTask
from publics.imports import registry_import
from publics.services import organization_update
from ratings.models import Rollup, RollupRegionDay, RollupRegionMonth
from ratings.services import REROLL_ORGANIZATIONS_TASK, rollups_catch_up, rollups_rebuild
from tests.factories import make_appeal, region
from tests.ratings.reference import region_day_rows_agree, stored_rows

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
URL = "/api/v1/dashboards/sla/"
PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}
# 00:30 on 11 November in Moscow (UTC+3), 23:30 on 10 November in Kaliningrad (UTC+2).
NEAR_MIDNIGHT = dt.datetime(2026, 11, 10, 21, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rolled(world):
    """Organisation A (a Moscow school with no zone of its own) with an appeal received near midnight, rolled."""
    appeal = make_appeal(world.page_a, received_at=NEAR_MIDNIGHT)
    make_appeal(world.page_b, received_at=dt.datetime(2026, 11, 12, 10, 0, tzinfo=dt.UTC))
    rollups_catch_up()
    return appeal


def update(world, callbacks, **data):
    with callbacks(execute=True) as captured:
        organization_update(actor=world.admin, organization=world.org_a, data=data)
    return captured


def days_of(organization_id):
    return sorted(Rollup.objects.filter(organization_id=organization_id).values_list("day", flat=True))


def by_region(api, world, **query):
    response = api.as_user(world.admin).get(URL, {**PERIOD, "group_by": "region", **query})
    assert response.status_code == 200, response.json()
    return {row["key"]: row["received"] for row in response.json()["results"]}


def test_changing_the_zone_moves_an_appeal_received_near_midnight_to_the_other_local_day(
    world, rolled, django_capture_on_commit_callbacks
):
    moscow = region("RU-MOW")
    assert days_of(world.org_a.pk) == [dt.date(2026, 11, 11)]
    assert list(RollupRegionDay.objects.filter(region=moscow).values_list("day", "received")) == [
        (dt.date(2026, 11, 11), 1)
    ]

    update(world, django_capture_on_commit_callbacks, timezone="Europe/Kaliningrad")

    assert days_of(world.org_a.pk) == [dt.date(2026, 11, 10)]  # the old local day's row is gone
    assert list(RollupRegionDay.objects.filter(region=moscow).values_list("day", "received")) == [
        (dt.date(2026, 11, 10), 1)
    ]
    assert RollupRegionMonth.objects.get(region=moscow, month=dt.date(2026, 11, 1)).received == 1
    assert region_day_rows_agree()
    # Queued through the outbox, and sent.
    (queued,) = QueuedTask.objects.filter(task=REROLL_ORGANIZATIONS_TASK)
    assert queued.kwargs == {"organization_ids": [world.org_a.pk]} and queued.sent_at is not None


def test_the_rows_after_the_reroll_are_those_a_rebuild_writes(world, rolled, django_capture_on_commit_callbacks):
    update(world, django_capture_on_commit_callbacks, timezone="Asia/Vladivostok", kind="hospital")
    rerolled = stored_rows()
    rollups_rebuild(date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30), now=NOW)
    assert stored_rows() == rerolled


def test_moving_to_another_region_moves_its_figures_between_the_region_groups(
    api, world, rolled, django_capture_on_commit_callbacks
):
    assert by_region(api, world) == {"RU-MOW": 1, "RU-KGD": 1}

    update(world, django_capture_on_commit_callbacks, region=region("RU-KGD"))

    assert by_region(api, world) == {"RU-KGD": 2}
    # The appeal went with its organisation, and so did its rows (the region's own dashboards and the finer ones).
    rolled.refresh_from_db()
    assert rolled.region_id == region("RU-KGD").pk
    assert by_region(api, world, organization=world.org_a.pk) == {"RU-KGD": 1}
    assert not RollupRegionDay.objects.filter(region=region("RU-MOW")).exists()
    assert region_day_rows_agree()


def test_a_change_of_kind_moves_its_figures_between_the_kind_filters(
    api, world, rolled, django_capture_on_commit_callbacks
):
    assert by_region(api, world, organization_kind="school") == {"RU-MOW": 1}

    update(world, django_capture_on_commit_callbacks, kind="library")

    assert by_region(api, world, organization_kind="school") == {}
    assert by_region(api, world, organization_kind="library") == {"RU-MOW": 1}


def test_a_save_that_changes_none_of_those_fields_queues_nothing(world, rolled, django_capture_on_commit_callbacks):
    before = stored_rows()

    captured = update(world, django_capture_on_commit_callbacks, name="Школа №1 имени Пушкина", timezone="")

    assert captured == [] and not QueuedTask.objects.filter(task=REROLL_ORGANIZATIONS_TASK).exists()
    assert stored_rows() == before


def test_a_rolled_back_change_queues_nothing(world, rolled, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as captured,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        organization_update(actor=world.admin, organization=world.org_a, data={"timezone": "Asia/Omsk"})
        raise RuntimeError
    assert captured == [] and not QueuedTask.objects.filter(task=REROLL_ORGANIZATIONS_TASK).exists()
    assert days_of(world.org_a.pk) == [dt.date(2026, 11, 11)]


def test_the_registry_import_queues_the_reroll_of_the_organisations_it_changes(
    world, rolled, django_capture_on_commit_callbacks
):
    org = world.org_a
    cells = {
        "org_name": org.name,
        "org_short_name": org.short_name,
        "org_kind": org.kind,
        "region": "RU-MOW",
        "ogrn": org.ogrn,
        "inn": org.inn,
        "org_timezone": "Europe/Kaliningrad",
    }
    source = ",".join(cells) + "\n" + ",".join(f'"{value}"' for value in cells.values()) + "\n"
    with django_capture_on_commit_callbacks(execute=True):
        result = registry_import(actor=world.admin, source=source.encode())
    assert not result.errors, result.errors
    assert days_of(org.pk) == [dt.date(2026, 11, 10)]


def test_the_appeals_change_region_with_their_organisation_before_any_task_runs(
    world, rolled, django_capture_on_commit_callbacks
):
    """Who may see an appeal follows its organisation in the same transaction, not when the re-roll runs."""
    from appeals.selectors import appeals_visible_to

    assert appeals_visible_to(world.analyst_x).filter(pk=rolled.pk).exists()  # the Moscow analyst
    with django_capture_on_commit_callbacks(execute=False) as queued:
        organization_update(actor=world.admin, organization=world.org_a, data={"region": region("RU-KGD")})
        rolled.refresh_from_db()
        assert rolled.region_id == region("RU-KGD").pk
    assert queued  # the re-roll is queued on commit, and has not run
    assert not appeals_visible_to(world.analyst_x).filter(pk=rolled.pk).exists()
    assert Rollup.objects.filter(organization_id=world.org_a.pk, region=region("RU-MOW")).exists()  # not re-rolled yet
