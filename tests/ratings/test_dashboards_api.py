"""The dashboards API: scopes, grouping, series, worst lists, CSV, bad input and query counts."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command

from appeals import services
from core.access import SYSTEM
from core.models import QueuedTask
from ratings.models import Rollup, RollupState
from ratings.services import rollups_catch_up
from tests.factories import OrganizationFactory, PageFactory, make_appeal, region

MSK = dt.timezone(dt.timedelta(hours=3))
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=MSK)
URL = "/api/v1/dashboards/sla/"
PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def data(world):
    """Moscow (org A): one on time, one breached; Kaliningrad (org B): one breached."""
    on_time = make_appeal(world.page_a, received_at=dt.datetime(2026, 11, 23, 10, 0, tzinfo=MSK))
    services.appeal_reply(
        actor=SYSTEM, appeal_id=on_time.pk, text="Ответ", now=on_time.received_at + dt.timedelta(hours=1)
    )
    make_appeal(world.page_a, received_at=dt.datetime(2026, 11, 16, 10, 0, tzinfo=MSK))
    make_appeal(world.page_b, received_at=dt.datetime(2026, 11, 23, 10, 0, tzinfo=MSK))
    rollups_catch_up()
    return world


def get(api, user, url=URL, **query):
    return api.as_user(user).get(url, {**PERIOD, **query})


def test_a_total_row_for_the_federation(api, data):
    body = get(api, data.admin).json()
    (row,) = body["results"]
    assert (row["key"], row["received"], row["answered_on_time"], row["breached"]) == (None, 3, 1, 2)
    assert row["compliance"] == pytest.approx(1 / 3, abs=1e-4)
    assert body["computed_at"] is not None and body["from"] == "2026-11-01" and body["group_by"] is None


def test_grouped_by_region_rows_carry_code_and_name(api, data):
    rows = {row["key"]: row for row in get(api, data.admin, group_by="region").json()["results"]}
    assert set(rows) == {"RU-MOW", "RU-KGD"}
    assert rows["RU-MOW"]["name"] == region("RU-MOW").name
    assert (rows["RU-MOW"]["received"], rows["RU-KGD"]["breached"]) == (2, 1)


@pytest.mark.parametrize(
    ("group", "keys"),
    [
        ("organization", "orgs"),
        ("page", "pages"),
        ("platform", {"vk", "max"}),
        ("category", {None}),
        ("day", {"2026-11-16", "2026-11-23"}),
        ("week", {"2026-11-16", "2026-11-23"}),
        ("month", {"2026-11-01"}),
    ],
)
def test_every_grouping(api, data, group, keys):
    expected = (
        {
            "orgs": {data.org_a.pk, data.org_b.pk},
            "pages": {data.page_a.pk, data.page_b.pk},
        }.get(keys, keys)
        if isinstance(keys, str)
        else keys
    )
    rows = get(api, data.admin, group_by=group).json()["results"]
    assert {row["key"] for row in rows} == expected
    assert sum(row["received"] for row in rows) == 3


def test_filters_narrow_the_rows(api, data):
    def received(**query):
        return get(api, data.admin, **query).json()["results"][0]["received"]

    assert received(region="RU-KGD") == 1
    assert received(organization=data.org_a.pk) == 2
    assert received(organization_kind="hospital") == 1
    assert received(page_id=data.page_b.pk) == 1
    assert received(platform="vk") == 2
    assert received(kind="appeal") == 0
    assert received(**{"from": "2026-11-20"}) == 2


def test_an_operator_sees_only_their_organisation(api, data):
    rows = get(api, data.operator_a, group_by="organization").json()["results"]
    assert [row["key"] for row in rows] == [data.org_a.pk]


def test_an_analyst_sees_their_region_and_an_auditor_their_scope(api, data):
    assert [r["key"] for r in get(api, data.analyst_x, group_by="region").json()["results"]] == ["RU-MOW"]
    assert [r["key"] for r in get(api, data.auditor_x, group_by="region").json()["results"]] == ["RU-MOW"]
    federal = get(api, data.auditor_federal, group_by="region").json()["results"]
    assert {r["key"] for r in federal} == {"RU-MOW", "RU-KGD"}


def test_a_user_outside_the_scope_gets_nothing(api, data):
    assert get(api, data.stranger, group_by="region").json()["results"] == []
    (total,) = get(api, data.stranger).json()["results"]
    assert (total["received"], total["breached"], total["compliance"]) == (0, 0, None)
    # Naming an organisation or page outside the scope reveals nothing either.
    rows = get(api, data.operator_a, organization=data.org_b.pk, group_by="organization").json()["results"]
    assert rows == []
    assert get(api, data.operator_b, page_id=data.page_a.pk).json()["results"][0]["received"] == 0
    worst = get(api, data.stranger, url=URL + "worst/", min_volume=1).json()["results"]
    series = get(api, data.stranger, url=URL + "series/").json()["results"]
    assert worst == [] and all(row["received"] == 0 for row in series)


def test_anonymous_callers_are_refused(api, data):
    assert api.get(URL).status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-13-01"},
        {"from": "2026-11-30", "to": "2026-11-01"},
        {"from": "2023-01-01", "to": "2026-11-30"},
        {"group_by": "planet"},
        {"region": "RU-XXX"},
        {"organization": "abc"},
        {"page_id": str(2**64)},
        {"platform": "myspace"},
    ],
)
def test_bad_input_answers_400_in_the_one_error_shape(api, data, query):
    response = api.as_user(data.admin).get(URL, query)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and response.json()["fields"]


def test_an_unknown_format_answers_400(api, data):
    response = api.as_user(data.admin).get(URL, {"format": "xml"})
    assert response.status_code == 400 and "format" in response.json()["fields"]


def test_bad_input_with_csv_still_answers_json(api, data):
    response = api.as_user(data.admin).get(URL, {"format": "csv", "group_by": "planet"})
    assert response.status_code == 400 and response["Content-Type"].startswith("application/json")


def test_csv_has_a_bom_a_header_and_every_row(api, data):
    response = get(api, data.admin, group_by="region", format="csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffkey,name,received,answered,answered_on_time,breached,compliance,")
    lines = text.strip().split("\r\n")
    assert len(lines) == 3 and any(line.startswith("RU-MOW,") for line in lines)
    assert "attachment" in response["Content-Disposition"]


def test_series_fills_every_period_for_charts(api, data):
    body = get(api, data.admin, url=URL + "series/", interval="week").json()
    periods = [row["period"] for row in body["results"]]
    assert periods == ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]
    assert [row["received"] for row in body["results"]] == [0, 0, 0, 1, 2, 0]
    days = get(api, data.admin, url=URL + "series/").json()["results"]
    assert len(days) == 30
    csv = get(api, data.admin, url=URL + "series/", interval="month", format="csv").content.decode()
    assert csv.startswith("\ufeffperiod,received,")


def test_worst_lists_lowest_compliance_first_and_only_with_enough_volume(api, world):
    other = OrganizationFactory(region=world.org_a.region)
    other_page = PageFactory(organization=other)
    for _ in range(3):
        make_appeal(other_page, received_at=dt.datetime(2026, 11, 16, 10, 0, tzinfo=MSK))  # breached
    for n in range(3):
        appeal = make_appeal(world.page_a, received_at=dt.datetime(2026, 11, 16, 10, 0, tzinfo=MSK))
        if n:
            services.appeal_reply(actor=SYSTEM, appeal_id=appeal.pk, text="Ответ", now=appeal.received_at)
    lonely = make_appeal(world.page_b, received_at=dt.datetime(2026, 11, 16, 10, 0, tzinfo=MSK))
    assert lonely.pk
    rollups_catch_up()
    body = get(api, world.admin, url=URL + "worst/", min_volume=2).json()
    assert [(row["key"], row["compliance"]) for row in body["results"]] == [(other.pk, 0.0), (world.org_a.pk, 0.6667)]
    assert body["min_volume"] == 2
    assert get(api, world.admin, url=URL + "worst/").json()["results"] == []  # default minimum: 20
    by_region = get(api, world.admin, url=URL + "worst/", min_volume=1, group_by="region").json()["results"]
    assert [row["key"] for row in by_region] == ["RU-KGD", "RU-MOW"]


@pytest.mark.parametrize(
    ("url", "query"),
    [
        (URL, {"group_by": "organization"}),
        (URL, {}),
        (URL + "worst/", {"min_volume": 1}),
        (URL + "series/", {"interval": "week"}),
        (URL, {"group_by": "organization", "format": "csv"}),
    ],
)
def test_dashboards_run_a_constant_number_of_queries(api, world, django_assert_max_num_queries, url, query):
    def organisations(count):
        for _ in range(count):
            page = PageFactory(organization=OrganizationFactory(region=world.org_a.region))
            make_appeal(page, received_at=dt.datetime(2026, 11, 16, 10, 0, tzinfo=MSK))
        rollups_catch_up()

    client = api.as_user(world.analyst_x)
    organisations(2)
    client.get(url, {**PERIOD, **query})  # the memberships are cached from here on
    with django_assert_max_num_queries(6) as few:
        assert client.get(url, {**PERIOD, **query}).status_code == 200
    organisations(20)
    with django_assert_max_num_queries(6) as many:
        assert client.get(url, {**PERIOD, **query}).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_pages_of_groups(api, data):
    body = get(api, data.admin, group_by="organization", page_size=1).json()
    assert body["count"] == 2 and len(body["results"]) == 1 and body["next"]


def test_a_change_queues_the_reroll_of_its_page_and_day_on_commit(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        appeal = make_appeal(world.page_a, received_at=dt.datetime(2026, 11, 23, 10, 0, tzinfo=MSK))
    # Sent on commit without an outbox row (the history's watermark is the durable record).
    assert not QueuedTask.objects.filter(task="ratings.tasks.reroll_appeals").exists()
    row = Rollup.objects.get()
    assert (row.page_id, row.day, row.received, row.answered) == (world.page_a.pk, dt.date(2026, 11, 23), 1, 0)
    with django_capture_on_commit_callbacks(execute=True):
        services.appeal_reply(actor=SYSTEM, appeal_id=appeal.pk, text="Ответ", now=appeal.received_at)
    row = Rollup.objects.get()
    assert (row.received, row.answered, row.first_response_on_time) == (1, 1, 1)


def test_a_rolled_back_change_queues_no_reroll(world, django_capture_on_commit_callbacks):
    from django.db import transaction

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        make_appeal(world.page_a, received_at=dt.datetime(2026, 11, 23, 10, 0, tzinfo=MSK))
        raise RuntimeError
    assert callbacks == [] and not Rollup.objects.exists()


def test_the_catch_up_rolls_what_the_on_commit_path_missed_and_advances_its_watermark(world):
    appeal = make_appeal(world.page_a, received_at=dt.datetime(2026, 11, 23, 10, 0, tzinfo=MSK))  # callbacks lost
    assert not Rollup.objects.exists()
    assert rollups_catch_up() >= 1
    assert Rollup.objects.get().received == 1
    state = RollupState.objects.get()
    assert state.watermark == appeal.events.get().pk and state.caught_up_at == NOW
    services.appeal_reply(actor=SYSTEM, appeal_id=appeal.pk, text="Ответ", now=appeal.received_at)
    rollups_catch_up()
    assert Rollup.objects.get().answered == 1


def test_rebuild_command_is_idempotent_and_shows_progress(world, capsys):
    make_appeal(world.page_a, received_at=dt.datetime(2026, 11, 23, 10, 0, tzinfo=MSK))
    make_appeal(world.page_b, received_at=dt.datetime(2026, 11, 2, 10, 0, tzinfo=MSK))
    call_command("rebuild_rollups", "--from", "2026-11-01", "--to", "2026-11-30")
    first = list(Rollup.objects.order_by("day").values())
    call_command("rebuild_rollups", "--from", "2026-11-01", "--to", "2026-11-30", "--days-per-step", "3")
    second = list(Rollup.objects.order_by("day").values())
    assert [{k: v for k, v in row.items() if k != "id"} for row in first] == [
        {k: v for k, v in row.items() if k != "id"} for row in second
    ]
    assert len(first) == 2
    captured = capsys.readouterr()
    assert "30/30" in captured.err and "2" in captured.out


def test_rebuild_command_refuses_a_reversed_period(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("rebuild_rollups", "--from", "2026-11-30", "--to", "2026-11-01")
    with pytest.raises(CommandError):
        call_command("rebuild_rollups", "--from", "30.11.2026")


@pytest.mark.parametrize(
    "period",
    [
        {"from": "2026-11-01", "to": "2026-11-30"},
        {"from": "2026-10-15", "to": "2026-11-20"},
        {"from": "2026-11-17", "to": "2026-11-23"},
        {"from": "2025-12-01", "to": "2026-11-30"},
    ],
)
def test_region_sums_by_month_and_by_day_agree_with_the_finest_rows(api, data, period):
    """Whole months come from the month sums, the cut days from the day sums, organisations from the rows."""
    fine = get(api, data.admin, group_by="organization", **period).json()["results"]
    (total,) = get(api, data.admin, **period).json()["results"]
    by_region = get(api, data.admin, group_by="region", **period).json()["results"]
    by_month = get(api, data.admin, group_by="month", **period).json()["results"]
    for measure in ("received", "answered_on_time", "breached", "open", "overdue", "resolution_on_time"):
        expected = sum(row[measure] for row in fine)
        assert total[measure] == expected
        assert sum(row[measure] for row in by_region) == expected
        assert sum(row[measure] for row in by_month) == expected
