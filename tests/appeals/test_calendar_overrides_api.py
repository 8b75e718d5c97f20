"""/api/v1/calendar-overrides/: a day made working or not, and the open appeals' deadlines moving with it.

domain.md section 4: "when the calendar changes, the deadlines of open appeals move with it". The clock is frozen
at Wednesday 25 November 2026, 12:00 Moscow; the override under test makes Thursday 26 November a day off.
"""

import datetime as dt

import pytest
import time_machine

from appeals import services
from appeals.models import Appeal, CalendarOverride
from tests.assertions import assert_error
from tests.factories import make_appeal

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)  # Wednesday 12:00 Moscow, 11:00 Kaliningrad
URL = "/api/v1/calendar-overrides/"
THURSDAY = "2026-11-26"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def open_appeals(world) -> dict[str, Appeal]:
    return {
        "moscow": make_appeal(world.page_a, received_at=NOW),
        "kaliningrad": make_appeal(world.page_b, received_at=NOW),
    }


def served(api, world, appeal: Appeal) -> tuple[str, str]:
    body = api.as_user(world.admin).get(f"/api/v1/appeals/{appeal.pk}/").json()
    return body["first_response_due_at"], body["resolution_due_at"]


# Moscow, received Wednesday 12:00: 6 working hours on Wednesday and 2 on Thursday; resolution on the 5th working
# day. Kaliningrad, received 11:00 local: 7 hours on Wednesday, 1 on Thursday.
MOSCOW_BEFORE = ("2026-11-26T11:00:00+03:00", "2026-12-02T23:59:59+03:00")
MOSCOW_THURSDAY_OFF = ("2026-11-27T11:00:00+03:00", "2026-12-03T23:59:59+03:00")
KALININGRAD_BEFORE = ("2026-11-26T10:00:00+02:00", "2026-12-02T23:59:59+02:00")
KALININGRAD_THURSDAY_OFF = ("2026-11-27T10:00:00+02:00", "2026-12-03T23:59:59+02:00")


def test_deadlines_before_any_override(api, world, open_appeals):
    assert served(api, world, open_appeals["moscow"]) == MOSCOW_BEFORE
    assert served(api, world, open_appeals["kaliningrad"]) == KALININGRAD_BEFORE


def test_analyst_adds_a_regional_day_off_and_only_that_regions_appeals_move(
    api, world, open_appeals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(world.analyst_x).post(
            URL, {"date": THURSDAY, "region": "RU-MOW", "kind": "non_working", "reason": "Региональный праздник"}
        )
    assert response.status_code == 201, response.content
    assert response.json()["region"] == "RU-MOW" and response.json()["kind"] == "non_working"
    assert served(api, world, open_appeals["moscow"]) == MOSCOW_THURSDAY_OFF
    assert served(api, world, open_appeals["kaliningrad"]) == KALININGRAD_BEFORE
    assert open_appeals["moscow"].events.filter(action="deadlines_recomputed").count() == 1
    assert not open_appeals["kaliningrad"].events.filter(action="deadlines_recomputed").exists()
    # An appeal received after the change gets the new calendar from the start.
    assert served(api, world, make_appeal(world.page_a, received_at=NOW)) == MOSCOW_THURSDAY_OFF


def test_closed_appeals_keep_their_deadlines(api, world, django_capture_on_commit_callbacks):
    closed = make_appeal(world.page_a, received_at=NOW - dt.timedelta(hours=1))
    services.appeal_reject(actor=world.operator_a, appeal_id=closed.pk, reason="spam")
    before = served(api, world, closed)
    with django_capture_on_commit_callbacks(execute=True):
        api.as_user(world.analyst_x).post(URL, {"date": THURSDAY, "region": "RU-MOW", "kind": "non_working"})
    assert served(api, world, closed) == before


def test_removing_the_override_moves_the_deadlines_back(api, world, open_appeals, django_capture_on_commit_callbacks):
    client = api.as_user(world.analyst_x)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(URL, {"date": THURSDAY, "region": "RU-MOW", "kind": "non_working"}).json()
    assert served(api, world, open_appeals["moscow"]) == MOSCOW_THURSDAY_OFF
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"{URL}{created['id']}/")
    assert response.status_code == 204, response.content
    assert served(api, world, open_appeals["moscow"]) == MOSCOW_BEFORE
    assert not CalendarOverride.objects.exists()


def test_admin_adds_a_federal_day_off_and_every_region_moves(
    api, world, open_appeals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(world.admin).post(URL, {"date": THURSDAY, "kind": "non_working", "reason": "Указ"})
    assert response.status_code == 201, response.content
    assert response.json()["region"] is None
    assert served(api, world, open_appeals["moscow"]) == MOSCOW_THURSDAY_OFF
    assert served(api, world, open_appeals["kaliningrad"]) == KALININGRAD_THURSDAY_OFF


def test_a_regional_working_day_beats_a_federal_day_off(api, world, open_appeals, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.as_user(world.admin).post(URL, {"date": THURSDAY, "kind": "non_working"})
        response = api.as_user(world.analyst_x).post(URL, {"date": THURSDAY, "region": "RU-MOW", "kind": "working"})
    assert response.status_code == 201, response.content
    assert served(api, world, open_appeals["moscow"]) == MOSCOW_BEFORE
    assert served(api, world, open_appeals["kaliningrad"]) == KALININGRAD_THURSDAY_OFF


def test_a_second_override_of_the_same_date_and_region_is_400(api, world):
    client = api.as_user(world.analyst_x)
    assert client.post(URL, {"date": THURSDAY, "region": "RU-MOW", "kind": "non_working"}).status_code == 201
    again = client.post(URL, {"date": THURSDAY, "region": "RU-MOW", "kind": "shortened", "hours": "7"})
    assert_error(again, 400, fields=("date",))
    assert CalendarOverride.objects.count() == 1
    federal = api.as_user(world.admin).post(URL, {"date": THURSDAY, "kind": "non_working"})
    assert federal.status_code == 201, federal.content  # a federal override of the same date is another row
    assert_error(api.as_user(world.admin).post(URL, {"date": THURSDAY, "kind": "working"}), 400, fields=("date",))


def test_moving_an_override_onto_a_taken_date_is_400(api, world):
    client = api.as_user(world.analyst_x)
    client.post(URL, {"date": THURSDAY, "region": "RU-MOW", "kind": "non_working"})
    friday = client.post(URL, {"date": "2026-11-27", "region": "RU-MOW", "kind": "non_working"}).json()
    assert_error(client.patch(f"{URL}{friday['id']}/", {"date": THURSDAY}), 400, fields=("date",))
    assert client.patch(f"{URL}{friday['id']}/", {"reason": "Уточнено"}).status_code == 200


@pytest.mark.parametrize("persona", ["operator_a", "auditor_x", "auditor_federal", "integration_a"])
def test_operators_auditors_and_integrations_cannot_add_overrides(api, world, persona):
    response = api.as_user(getattr(world, persona)).post(URL, {"date": THURSDAY, "region": "RU-MOW", "kind": "working"})
    assert_error(response, 403)
    assert not CalendarOverride.objects.exists()


@pytest.mark.parametrize("region", ["RU-KGD", None], ids=["another region", "federal"])
def test_analyst_cannot_add_an_override_beyond_their_region(api, world, region):
    response = api.as_user(world.analyst_x).post(URL, {"date": THURSDAY, "region": region, "kind": "non_working"})
    assert_error(response, 403)
    assert not CalendarOverride.objects.exists()


def test_analyst_cannot_remove_another_regions_override(api, world):
    override = CalendarOverride.objects.create(date=dt.date(2026, 11, 26), region=world.org_b.region, kind="working")
    assert_error(api.as_user(world.analyst_x).delete(f"{URL}{override.pk}/"), 403)
    assert_error(api.as_user(world.operator_b).delete(f"{URL}{override.pk}/"), 403)
    assert CalendarOverride.objects.filter(pk=override.pk).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date": "26.11.2026", "kind": "non_working"}, "date"),
        ({"date": THURSDAY, "kind": "holiday"}, "kind"),
        ({"date": THURSDAY, "kind": "shortened", "hours": "0.25"}, "hours"),
        ({"date": THURSDAY, "kind": "non_working", "region": "RU-NOPE"}, "region"),
    ],
    ids=["bad date", "unknown kind", "too short", "unknown region"],
)
def test_invalid_override_is_400_with_the_field_named(api, world, body, field):
    assert_error(api.as_user(world.admin).post(URL, body), 400, fields=(field,))


def test_hours_on_a_day_off_are_refused_as_an_error_of_the_whole_object(api, world):
    """The one error shape names errors of the whole object `non_field_errors` (core/errors.py)."""
    response = api.as_user(world.admin).post(URL, {"date": THURSDAY, "kind": "non_working", "hours": "4"})
    assert_error(response, 400, fields=("non_field_errors",))


def test_every_role_reads_the_calendar_and_a_stranger_reads_nothing(api, world):
    override = CalendarOverride.objects.create(date=dt.date(2026, 11, 26), region=world.org_a.region, kind="working")
    for persona in ("operator_a", "operator_b", "analyst_x", "auditor_federal", "integration_a"):
        response = api.as_user(getattr(world, persona)).get(URL)
        assert [row["id"] for row in response.json()["results"]] == [override.pk], persona
    stranger = api.as_user(world.stranger)
    assert stranger.get(URL).json()["count"] == 0
    assert_error(stranger.get(f"{URL}{override.pk}/"), 404)
    assert_error(stranger.delete(f"{URL}{override.pk}/"), 404)


def test_anonymous_caller_gets_401(api, world):
    assert_error(api.get(URL), 401)
    assert_error(api.post(URL, {"date": THURSDAY, "kind": "working"}), 401)


def test_override_list_runs_a_constant_number_of_queries(api, world, django_assert_max_num_queries):
    for day in range(30):
        region = world.org_a.region if day % 2 else None
        CalendarOverride.objects.create(
            date=dt.date(2027, 3, 1) + dt.timedelta(days=day), region=region, kind="working"
        )
    client = api.as_user(world.operator_a)
    client.get("/api/v1/me/")
    with django_assert_max_num_queries(4) as small:
        one = client.get(URL, {"page_size": 1})
    with django_assert_max_num_queries(4) as large:
        many = client.get(URL, {"page_size": 100})
    assert len(one.json()["results"]) == 1 and len(many.json()["results"]) == 30
    assert len(small.captured_queries) == len(large.captured_queries)
