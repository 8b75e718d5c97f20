"""/api/v1/appeals/: intake, scoping, personal data, filters, every action and the history (domain.md 2, 5, 6, 9).

The clock is frozen at NOW (Wednesday 25 November 2026, 12:00 in Moscow) for every test, so SLA states, the
time left and the deadlines are facts, not races. The deadline arithmetic itself is core/worktime.py's business
(tests/core/test_worktime.py); here a few known answers show that the API serves it right.
"""

import datetime as dt

import pytest
import time_machine

from appeals import services
from appeals.models import Appeal, Category, Reply, Status
from tests.assertions import assert_error
from tests.factories import OrganizationFactory, PageFactory, UserFactory, make_appeal, member, region

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)  # Wednesday 12:00 Moscow, 11:00 Kaliningrad
MOSCOW = dt.timedelta(hours=3)
KALININGRAD = dt.timedelta(hours=2)
URL = "/api/v1/appeals/"
DATETIME_FIELDS = (
    "received_at",
    "registered_at",
    "first_responded_at",
    "resolved_at",
    "closed_at",
    "first_response_due_at",
    "resolution_due_at",
    "due_at",
    "paused_at",
    "extended_at",
    "created_at",
    "updated_at",
)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def msk(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of November 2026 given in Moscow time."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=dt.timezone(MOSCOW))


def ago(**delta) -> dt.datetime:
    return NOW - dt.timedelta(**delta)


def detail(appeal: Appeal, action: str = "") -> str:
    return f"{URL}{appeal.pk}/{action + '/' if action else ''}"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content[:500]
    return {row["id"] for row in response.json()["results"]}


def offset(value: str) -> dt.timedelta:
    return dt.datetime.fromisoformat(value).utcoffset()


def payload(world, **overrides) -> dict:
    body = {
        "page": world.page_a.id,
        "external_id": "wall-1-comment-77",
        "kind": "message",
        "channel": "comment",
        "text": "Когда уберут снег во дворе школы?",
        "author": {"platform_user_id": "100500", "name": "Иван Петров"},
        "received_at": (NOW - dt.timedelta(minutes=10)).isoformat(),
    }
    body.update(overrides)
    return body


# Intake -------------------------------------------------------------------------------------------------------


def test_integration_creates_an_appeal_and_the_same_event_again_returns_it(api, world):
    client = api.as_user(world.integration_a)
    first = client.post(URL, payload(world))
    assert first.status_code == 201, first.content
    again = client.post(URL, payload(world, text="Повторная доставка того же события"))
    assert again.status_code == 200, again.content
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["text"] == "Когда уберут снег во дворе школы?"
    assert Appeal.objects.filter(page=world.page_a, external_id="wall-1-comment-77").count() == 1


def test_created_appeal_has_its_deadlines_and_a_running_clock(api, world):
    body = api.as_user(world.integration_a).post(URL, payload(world)).json()
    assert body["status"] == "new" and body["page_id"] == world.page_a.id and body["platform"] == "vk"
    assert body["organization"] == world.org_a.id and body["region"] == "RU-MOW"
    assert body["author"] == {"platform_user_id": "100500", "name": "Иван Петров"}
    # Received Wednesday 11:50: 6 h 10 min of office time today, 1 h 50 min on Thursday.
    assert body["first_response_due_at"] == "2026-11-26T10:50:00+03:00"
    assert body["resolution_due_at"] == "2026-12-02T23:59:59+03:00"  # the 5th working day after Wednesday
    assert body["due_at"] == body["first_response_due_at"]
    assert body["sla_state"] == "on_track" and body["is_overdue"] is False
    assert body["time_left_seconds"] == (msk(26, 10, 50) - NOW).total_seconds()
    assert body["policy_version"] == 1


def test_friday_evening_message_is_due_on_monday_afternoon_and_is_overdue_by_wednesday(api, world):
    """Friday 17:30 Moscow + 8 working hours = Monday 16:30 (30 minutes on Friday, 7.5 hours on Monday)."""
    response = api.as_user(world.integration_a).post(URL, payload(world, received_at="2026-11-20T17:30:00+03:00"))
    body = response.json()
    assert body["first_response_due_at"] == "2026-11-23T16:30:00+03:00"
    assert body["sla_state"] == "breached" and body["is_overdue"] is True
    assert body["time_left_seconds"] == -(NOW - msk(23, 16, 30)).total_seconds()


def test_every_datetime_is_served_with_the_organisations_own_offset(api, world, clock):
    kaliningrad = api.as_user(world.admin).post(
        URL, payload(world, page=world.page_b.id, received_at="2026-11-25T10:30:00+02:00")
    )
    assert kaliningrad.status_code == 201, kaliningrad.content
    body = kaliningrad.json()
    assert body["received_at"] == "2026-11-25T10:30:00+02:00"
    assert body["first_response_due_at"] == "2026-11-26T09:30:00+02:00"  # office hours are Kaliningrad's
    present = [name for name in DATETIME_FIELDS if body[name] is not None]
    assert {"received_at", "registered_at", "due_at", "created_at", "updated_at"} <= set(present)
    assert {name: offset(body[name]) for name in present} == dict.fromkeys(present, KALININGRAD)

    moscow = api.as_user(world.integration_a).post(URL, payload(world)).json()
    assert {offset(moscow[name]) for name in DATETIME_FIELDS if moscow[name] is not None} == {MOSCOW}


def test_integration_cannot_push_to_a_page_outside_its_scope(api, world):
    response = api.as_user(world.integration_a).post(URL, payload(world, page=world.page_b.id))
    assert_error(response, 400, fields=("page",))
    assert not Appeal.objects.exists()


def test_unknown_page_and_a_stranger_push_are_both_400_on_page(api, world):
    assert_error(api.as_user(world.integration_a).post(URL, payload(world, page=999_999)), 400, fields=("page",))
    assert_error(api.as_user(world.stranger).post(URL, payload(world)), 400, fields=("page",))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"kind": "letter"}, "kind"),
        ({"received_at": "вчера вечером"}, "received_at"),
        ({"received_at": (NOW + dt.timedelta(hours=1)).isoformat()}, "received_at"),
        ({"text": ""}, "text"),
        ({"priority": "asap"}, "priority"),
        ({"category": 999_999}, "category"),
    ],
    ids=["unknown channel", "unknown kind", "bad time", "time in future", "empty text", "priority", "category"],
)
def test_bad_input_gets_field_errors_in_the_one_shape(api, world, overrides, field):
    body = assert_error(api.as_user(world.integration_a).post(URL, payload(world, **overrides)), 400, fields=(field,))
    assert body["code"] == "invalid"
    assert not Appeal.objects.exists()


def test_missing_required_fields_are_each_named(api, world):
    body = {"page": world.page_a.id, "author": {"name": "Иван"}}
    assert_error(
        api.as_user(world.integration_a).post(URL, body), 400, fields=("external_id", "channel", "text", "received_at")
    )


def test_a_small_clock_skew_of_the_platform_is_tolerated(api, world):
    response = api.as_user(world.integration_a).post(URL, payload(world, received_at=(NOW + dt.timedelta(minutes=2))))
    assert response.status_code == 201, response.content


# Scope --------------------------------------------------------------------------------------------------------


@pytest.fixture
def spread(world):
    """One appeal of organisation A, one of B (Kaliningrad), one of another Moscow organisation C."""
    page_c = PageFactory(organization=OrganizationFactory(region=region("RU-MOW")), platform="ok")
    return {
        "a": make_appeal(world.page_a, received_at=ago(minutes=10)),
        "b": make_appeal(world.page_b, received_at=ago(minutes=20)),
        "c": make_appeal(page_c, received_at=ago(minutes=30)),
    }


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("operator_a", {"a"}),
        ("operator_b", {"b"}),
        ("analyst_x", {"a", "c"}),
        ("auditor_x", {"a", "c"}),
        ("auditor_federal", {"a", "b", "c"}),
        ("admin", {"a", "b", "c"}),
        ("integration_a", {"a"}),
        ("stranger", set()),
    ],
)
def test_each_persona_lists_exactly_the_appeals_of_its_scope(api, world, spread, persona, visible):
    response = api.as_user(getattr(world, persona)).get(URL)
    assert ids(response) == {spread[key].pk for key in visible}
    assert response.json()["count"] == len(visible)


@pytest.mark.parametrize("persona", ["stranger", "operator_b"])
def test_appeal_outside_the_scope_is_404_with_its_history_and_replies(api, world, spread, persona):
    client = api.as_user(getattr(world, persona))
    for suffix in ("", "events", "replies"):
        assert_error(client.get(detail(spread["a"], suffix)), 404)


def test_anonymous_caller_gets_401(api, world, spread):
    assert_error(api.get(URL), 401)
    assert_error(api.get(detail(spread["a"])), 401)


def action_bodies(world, other: Appeal) -> dict[str, dict]:
    """A valid body for each action endpoint."""
    return {
        "take": {},
        "assign": {"assignee": world.operator_a.id},
        "reply": {"text": "Снег уберут сегодня до 18:00."},
        "note": {"text": "Позвонить в управу"},
        "wait": {"reason": "Уточните адрес"},
        "resume": {},
        "extend": {"reason": "Нужен запрос в другой орган"},
        "redirect": {"organization": world.org_b.id, "reason": "Вопрос в ведении больницы"},
        "reject": {"reason": "spam"},
        "close": {},
        "reopen": {"reason": "Житель недоволен ответом"},
        "convert": {"reason": "Житель просит официальный ответ"},
        "mark-duplicate": {"duplicate_of": other.pk, "reason": "Тот же вопрос"},
    }


ACTIONS = [
    "take",
    "assign",
    "reply",
    "note",
    "wait",
    "resume",
    "extend",
    "redirect",
    "reject",
    "close",
    "reopen",
    "convert",
    "mark-duplicate",
]


@pytest.mark.parametrize("action", ACTIONS)
def test_stranger_gets_404_from_every_action_and_nothing_changes(api, world, spread, action):
    appeal = spread["a"]
    body = action_bodies(world, spread["c"])[action]
    assert_error(api.as_user(world.stranger).post(detail(appeal, action), body), 404)
    assert_error(api.as_user(world.operator_b).post(detail(appeal, action), body), 404)
    appeal.refresh_from_db()
    assert appeal.status == Status.NEW and not appeal.events.exclude(action="created").exists()


def test_stranger_learns_nothing_about_users_or_other_appeals_from_an_action(api, world, spread):
    client = api.as_user(world.stranger)
    assert_error(client.post(detail(spread["a"], "assign"), {"assignee": 999_999}), 404)
    assert_error(client.post(detail(spread["a"], "mark-duplicate"), {"duplicate_of": 999_999}), 404)
    assert_error(client.post(detail(spread["a"], "reject"), {"reason": "boring"}), 404)


@pytest.mark.parametrize("action", ACTIONS)
def test_auditor_sees_the_appeal_but_every_action_is_403(api, world, spread, action):
    appeal = spread["a"]
    body = action_bodies(world, spread["c"])[action]
    for auditor in (world.auditor_x, world.auditor_federal):
        assert api.as_user(auditor).get(detail(appeal)).status_code == 200
        assert_error(api.as_user(auditor).post(detail(appeal, action), body), 403)
    appeal.refresh_from_db()
    assert appeal.status == Status.NEW and not appeal.events.exclude(action="created").exists()


def test_analyst_of_the_region_acts_on_its_appeals(api, world, spread):
    response = api.as_user(world.analyst_x).post(detail(spread["c"], "take"))
    assert response.status_code == 200, response.content
    assert response.json()["assignee"] == world.analyst_x.id


# Personal data ------------------------------------------------------------------------------------------------


def test_auditor_sees_the_authors_name_masked_and_no_platform_id(api, world, spread):
    client = api.as_user(world.auditor_federal)
    assert client.get(detail(spread["a"])).json()["author"] == {"platform_user_id": "", "name": "И*** П***"}
    authors = [row["author"] for row in client.get(URL).json()["results"]]
    assert authors == [{"platform_user_id": "", "name": "И*** П***"}] * 3


def test_operators_and_analysts_see_the_author(api, world, spread):
    author = {"platform_user_id": "100500", "name": "Иван Петров"}
    assert api.as_user(world.operator_a).get(detail(spread["a"])).json()["author"] == author
    assert api.as_user(world.operator_b).get(detail(spread["b"])).json()["author"] == author
    assert api.as_user(world.analyst_x).get(detail(spread["a"])).json()["author"] == author


def test_auditor_granted_personal_data_sees_the_author(api, world, spread):
    auditor = UserFactory(username="auditor_with_grant")
    member(auditor, "auditor", region=region("RU-MOW"), can_view_personal_data=True)
    assert api.as_user(auditor).get(detail(spread["a"])).json()["author"]["name"] == "Иван Петров"


# Filters and ordering -----------------------------------------------------------------------------------------


@pytest.fixture
def desk(world):
    """Appeals in every SLA state as of NOW, with different attributes to filter on."""
    roads = Category.objects.get(code="roads")
    potholes = Category.objects.get(code="roads-potholes")
    on_track = make_appeal(world.page_a, received_at=msk(25, 11, 50), category=roads, text="Не горит фонарь у школы")
    # Tuesday 16:00 + 8 working hours = Wednesday 15:00; half the time has passed at 11:00: at risk by noon.
    at_risk = make_appeal(world.page_a, received_at=msk(24, 16), author_name="Пётр Сидоров")
    breached = make_appeal(world.page_a, received_at=msk(23, 10), external_id="vk-wall-42")
    paused = make_appeal(world.page_a, received_at=msk(25, 11))
    services.appeal_wait(actor=world.operator_a, appeal_id=paused.pk, reason="Адрес?", now=msk(25, 11, 30))
    met = make_appeal(world.page_a, received_at=msk(25, 10))
    services.appeal_reply(actor=world.operator_a, appeal_id=met.pk, text="Ответ", now=msk(25, 10, 30))
    services.appeal_close(actor=world.operator_a, appeal_id=met.pk, now=msk(25, 10, 40))
    kaliningrad = make_appeal(world.page_b, received_at=msk(25, 11, 30), channel="direct_message")
    formal = make_appeal(
        world.page_a, received_at=msk(25, 9), kind="appeal", channel="api", category=potholes, priority="high"
    )
    services.appeal_take(actor=world.operator_a, appeal_id=formal.pk, now=msk(25, 9, 30))
    return {
        "on_track": on_track,
        "at_risk": at_risk,
        "breached": breached,
        "paused": paused,
        "met": met,
        "kaliningrad": kaliningrad,
        "formal": formal,
    }


def test_sla_state_overdue_flag_and_time_left_as_of_now(api, world, desk):
    rows = {row["id"]: row for row in api.as_user(world.admin).get(URL).json()["results"]}
    state = {name: rows[appeal.pk]["sla_state"] for name, appeal in desk.items()}
    assert state == {
        "on_track": "on_track",
        "at_risk": "at_risk",
        "breached": "breached",
        "paused": "paused",
        "met": "met",
        "kaliningrad": "on_track",
        "formal": "on_track",
    }
    assert {name for name, appeal in desk.items() if rows[appeal.pk]["is_overdue"]} == {"breached"}
    assert rows[desk["breached"].pk]["time_left_seconds"] == -(NOW - msk(23, 18)).total_seconds()
    assert rows[desk["at_risk"].pk]["time_left_seconds"] == 3 * 3600
    assert rows[desk["paused"].pk]["time_left_seconds"] is None  # the clock is stopped
    assert rows[desk["met"].pk]["due_at"] is None and rows[desk["met"].pk]["time_left_seconds"] is None


def names(response, desk) -> set[str]:
    found = ids(response)
    return {name for name, appeal in desk.items() if appeal.pk in found}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "waiting"}, {"paused"}),
        ({"status": ["closed", "in_progress"]}, {"met", "formal"}),
        ({"sla_state": "at_risk"}, {"at_risk"}),
        ({"sla_state": "breached"}, {"breached"}),
        ({"sla_state": ["paused", "met"]}, {"paused", "met"}),
        ({"sla_state": "on_track"}, {"on_track", "kaliningrad", "formal"}),
        ({"is_overdue": "true"}, {"breached"}),
        ({"is_overdue": "false"}, {"on_track", "at_risk", "paused", "met", "kaliningrad", "formal"}),
        ({"region": "RU-KGD"}, {"kaliningrad"}),
        ({"platform": "max"}, {"kaliningrad"}),
        ({"kind": "appeal"}, {"formal"}),
        ({"channel": "direct_message"}, {"kaliningrad"}),
        ({"channel": ["api", "direct_message"]}, {"kaliningrad", "formal"}),
        ({"priority": "high"}, {"formal"}),
        ({"received_at_before": "2026-11-24T23:59:59+03:00"}, {"breached", "at_risk"}),
        ({"received_at_after": "2026-11-25T11:45:00+03:00"}, {"on_track"}),
        (
            {"received_at_after": "2026-11-25T10:00:00+03:00", "received_at_before": "2026-11-25T10:00:00+03:00"},
            {"met"},
        ),
        ({"due_at_before": NOW.isoformat()}, {"breached"}),
        (
            {"due_at_after": "2026-11-26T00:00:00+03:00", "due_at_before": "2026-11-26T23:59:59+03:00"},
            {"on_track", "paused", "kaliningrad"},
        ),
        ({"search": "фонарь"}, {"on_track"}),
        ({"search": "Сидоров"}, {"at_risk"}),
        ({"search": "vk-wall-42"}, {"breached"}),
    ],
)
def test_filters(api, world, desk, query, expected):
    assert names(api.as_user(world.admin).get(URL, query), desk) == expected


def test_filters_by_organisation_page_and_assignee(api, world, desk):
    client = api.as_user(world.admin)
    assert names(client.get(URL, {"organization": world.org_b.id}), desk) == {"kaliningrad"}
    assert names(client.get(URL, {"page_id": world.page_b.id}), desk) == {"kaliningrad"}
    # Taking assigns the appeal; so does a first reply when nobody was assigned.
    assert names(client.get(URL, {"assignee": world.operator_a.id}), desk) == {"formal", "met"}
    assert names(client.get(URL, {"assignee": world.operator_b.id}), desk) == set()


def test_top_level_category_includes_its_subcategories(api, world, desk):
    client = api.as_user(world.admin)
    roads = Category.objects.get(code="roads")
    potholes = Category.objects.get(code="roads-potholes")
    assert names(client.get(URL, {"category": roads.id}), desk) == {"on_track", "formal"}
    assert names(client.get(URL, {"category": potholes.id}), desk) == {"formal"}
    assert names(client.get(URL, {"category": Category.objects.get(code="health").id}), desk) == set()


def test_filters_never_widen_the_scope(api, world, desk):
    assert names(api.as_user(world.operator_a).get(URL, {"region": "RU-KGD"}), desk) == set()
    assert names(api.as_user(world.analyst_x).get(URL, {"organization": world.org_b.id}), desk) == set()


def test_ordering_by_due_at_puts_the_most_urgent_first_and_no_deadline_last(api, world, desk):
    client = api.as_user(world.admin)
    ascending = [row["id"] for row in client.get(URL, {"ordering": "due_at"}).json()["results"]]
    order = ["breached", "at_risk", "paused", "kaliningrad", "on_track", "formal", "met"]
    assert ascending == [desk[name].pk for name in order]
    descending = [row["id"] for row in client.get(URL, {"ordering": "-due_at"}).json()["results"]]
    assert descending == [desk[name].pk for name in [*reversed(order[:-1]), "met"]]


def test_ordering_by_priority_follows_urgency_not_the_alphabet(api, world):
    for priority in ("normal", "urgent", "low", "high"):
        make_appeal(world.page_a, priority=priority, received_at=ago(hours=1), now=ago(hours=1))
    client = api.as_user(world.operator_a)
    ascending = [row["priority"] for row in client.get(URL, {"ordering": "priority"}).json()["results"]]
    assert ascending == ["low", "normal", "high", "urgent"]
    descending = [row["priority"] for row in client.get(URL, {"ordering": "-priority"}).json()["results"]]
    assert descending == ["urgent", "high", "normal", "low"]


def test_default_order_is_newest_first(api, world, desk):
    received = [row["received_at"] for row in api.as_user(world.admin).get(URL).json()["results"]]
    moments = [dt.datetime.fromisoformat(value) for value in received]
    assert moments == sorted(moments, reverse=True)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"sla_state": "late"}, "sla_state"),
        ({"is_overdue": "maybe"}, "is_overdue"),
        ({"region": "RU-NOPE"}, "region"),
        ({"organization": "school"}, "organization"),
        ({"page_id": "vk"}, "page_id"),
        ({"platform": "myspace"}, "platform"),
        ({"kind": "letter"}, "kind"),
        ({"channel": "fax"}, "channel"),
        ({"category": "roads"}, "category"),
        ({"priority": "asap"}, "priority"),
        ({"assignee": "me"}, "assignee"),
        ({"received_at_after": "yesterday"}, "received_at"),
        ({"due_at_before": "soon"}, "due_at"),
        # Values that parse but cannot reach the database were 500s: an id beyond bigint, a moment beyond year 9999.
        ({"page_id": "99999999999999999999"}, "page_id"),
        ({"assignee": "1.5"}, "assignee"),
        ({"category": "-1"}, "category"),
        ({"received_at_after": "9999-12-31T23:59:59-12:00"}, "received_at"),
        ({"due_at_before": "0001-01-01T00:00:00+14:00"}, "due_at"),
    ],
)
def test_invalid_filter_values_are_400_with_the_field_named(api, world, query, field):
    assert_error(api.as_user(world.admin).get(URL, query), 400, fields=(field,))


def test_list_runs_a_constant_number_of_queries(api, world, django_assert_max_num_queries):
    roads = Category.objects.get(code="roads-snow")
    for number in range(40):
        page = world.page_a if number % 2 else world.page_b
        appeal = make_appeal(page, received_at=ago(hours=number), category=roads if number % 3 else None)
        if number % 5 == 0:
            services.appeal_take(actor=world.admin, appeal_id=appeal.pk)
    source = make_appeal(world.page_a, received_at=ago(hours=50))
    services.appeal_redirect(actor=world.admin, appeal_id=source.pk, organization=world.org_b, reason="Компетенция")
    message = make_appeal(world.page_a, received_at=ago(hours=51))
    services.appeal_convert(actor=world.admin, appeal_id=message.pk)
    client = api.as_user(world.admin)
    client.get("/api/v1/me/")
    with django_assert_max_num_queries(5) as small:
        one = client.get(URL, {"page_size": 1})
    with django_assert_max_num_queries(5) as large:
        many = client.get(URL, {"page_size": 100})
    assert len(one.json()["results"]) == 1 and len(many.json()["results"]) == 44
    assert len(small.captured_queries) == len(large.captured_queries)


# Actions ------------------------------------------------------------------------------------------------------


def bring(world, status: str, *, kind: str = "message") -> Appeal:
    """An appeal of organisation A, received an hour ago, brought to `status` through the services."""
    appeal = make_appeal(world.page_a, received_at=ago(hours=2), kind=kind)
    actor, pk = world.operator_a, appeal.pk
    moment = ago(hours=1)
    if status in (Status.IN_PROGRESS, Status.WAITING):
        services.appeal_take(actor=actor, appeal_id=pk, now=moment)
    if status == Status.WAITING:
        services.appeal_wait(actor=actor, appeal_id=pk, reason="Уточните адрес", now=moment)
    if status in (Status.ANSWERED, Status.CLOSED):
        services.appeal_reply(actor=actor, appeal_id=pk, text="Ответ", now=moment)
    if status == Status.CLOSED:
        services.appeal_close(actor=actor, appeal_id=pk, now=moment)
    appeal.refresh_from_db()
    assert appeal.status == status
    return appeal


# action: (status before, kind, status after)
HAPPY = {
    "take": (Status.NEW, "message", Status.IN_PROGRESS),
    "assign": (Status.NEW, "message", Status.IN_PROGRESS),
    "reply": (Status.IN_PROGRESS, "message", Status.ANSWERED),
    "note": (Status.IN_PROGRESS, "message", Status.IN_PROGRESS),
    "wait": (Status.IN_PROGRESS, "message", Status.WAITING),
    "resume": (Status.WAITING, "message", Status.IN_PROGRESS),
    "extend": (Status.NEW, "appeal", Status.NEW),
    "redirect": (Status.NEW, "message", Status.REDIRECTED),
    "reject": (Status.NEW, "message", Status.REJECTED),
    "close": (Status.ANSWERED, "message", Status.CLOSED),
    "reopen": (Status.CLOSED, "message", Status.IN_PROGRESS),
    "convert": (Status.NEW, "message", Status.CLOSED),
    "mark-duplicate": (Status.NEW, "message", Status.CLOSED),
}
assert list(HAPPY) == ACTIONS


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_answers_200_with_the_new_status(api, world, action):
    before, kind, after = HAPPY[action]
    appeal = bring(world, before, kind=kind)
    other = make_appeal(world.page_a, received_at=ago(days=1))
    response = api.as_user(world.operator_a).post(detail(appeal, action), action_bodies(world, other)[action])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == appeal.pk and body["status"] == after
    appeal.refresh_from_db()
    assert appeal.status == after
    assert appeal.events.order_by("-created_at", "-id").first().actor == world.operator_a


def test_take_and_assign_set_the_assignee(api, world):
    client = api.as_user(world.operator_a)
    taken = bring(world, Status.NEW)
    assert client.post(detail(taken, "take")).json()["assignee"] == world.operator_a.id
    assigned = bring(world, Status.NEW)
    response = client.post(detail(assigned, "assign"), {"assignee": world.analyst_x.id})
    assert response.json()["assignee"] == world.analyst_x.id


def test_assigning_a_user_who_cannot_handle_the_appeal_is_400(api, world):
    appeal = bring(world, Status.NEW)
    client = api.as_user(world.operator_a)
    assert_error(client.post(detail(appeal, "assign"), {"assignee": world.operator_b.id}), 400, fields=("assignee",))
    assert_error(client.post(detail(appeal, "assign"), {"assignee": 999_999}), 400, fields=("assignee",))


def test_first_reply_meets_the_first_response_and_the_clock_runs_for_resolution(api, world):
    appeal = bring(world, Status.IN_PROGRESS)
    body = api.as_user(world.operator_a).post(detail(appeal, "reply"), {"text": "Уберём сегодня"}).json()
    assert body["first_responded_at"] == "2026-11-25T12:00:00+03:00"
    assert body["due_at"] == body["resolution_due_at"] and body["sla_state"] == "on_track"


def test_waiting_stops_the_clock_and_resuming_moves_the_deadline_by_the_pause(api, world, clock):
    appeal = bring(world, Status.IN_PROGRESS)  # received 10:00, due 18:00 Moscow
    client = api.as_user(world.operator_a)
    waiting = client.post(detail(appeal, "wait"), {"reason": "Уточните адрес"}).json()
    assert waiting["sla_state"] == "paused" and waiting["time_left_seconds"] is None
    assert waiting["paused_at"] == "2026-11-25T12:00:00+03:00"
    clock.shift(dt.timedelta(hours=1))
    resumed = client.post(detail(appeal, "resume")).json()
    assert resumed["status"] == "in_progress" and resumed["paused_seconds"] == 3600
    assert resumed["first_response_due_at"] == "2026-11-26T10:00:00+03:00"  # one working hour later


def test_extension_moves_the_resolution_deadline_once(api, world):
    appeal = bring(world, Status.NEW, kind="appeal")
    before = dt.datetime.fromisoformat(api.as_user(world.operator_a).get(detail(appeal)).json()["resolution_due_at"])
    body = api.as_user(world.operator_a).post(detail(appeal, "extend"), {"reason": "Запрос в другой орган"}).json()
    after = dt.datetime.fromisoformat(body["resolution_due_at"])
    assert after - before >= dt.timedelta(days=30)
    assert body["extended_at"] == "2026-11-25T12:00:00+03:00" and body["extension_reason"] == "Запрос в другой орган"


def test_redirect_links_a_new_appeal_of_the_competent_organisation(api, world):
    appeal = bring(world, Status.NEW)
    body = api.as_user(world.operator_a).post(detail(appeal, "redirect"), action_bodies(world, appeal)["redirect"])
    target = body.json()["redirected_to"]
    received = api.as_user(world.operator_b).get(f"{URL}{target}/").json()
    assert received["organization"] == world.org_b.id and received["status"] == "new"
    assert received["redirected_from"] == appeal.pk and received["region"] == "RU-KGD"


def test_conversion_links_a_formal_appeal_and_a_duplicate_links_its_case(api, world):
    client = api.as_user(world.operator_a)
    message = bring(world, Status.NEW)
    converted = client.post(detail(message, "convert")).json()
    formal = client.get(f"{URL}{converted['converted_to']}/").json()
    assert formal["kind"] == "appeal" and formal["converted_from"] == message.pk and formal["status"] == "new"

    case, repeat = bring(world, Status.NEW), bring(world, Status.NEW)
    body = client.post(detail(repeat, "mark-duplicate"), {"duplicate_of": case.pk}).json()
    assert body["duplicate_of"] == case.pk and body["status"] == "closed"


def test_reject_records_the_ground(api, world):
    appeal = bring(world, Status.NEW)
    body = api.as_user(world.operator_a).post(detail(appeal, "reject"), {"reason": "obscene_or_threatening"}).json()
    assert body["status"] == "rejected" and body["reject_reason"] == "obscene_or_threatening"
    assert body["sla_state"] == "met" and body["due_at"] is None


@pytest.mark.parametrize(
    ("action", "status", "kind", "body"),
    [
        ("close", Status.NEW, "message", {}),
        ("take", Status.IN_PROGRESS, "message", {}),
        ("resume", Status.IN_PROGRESS, "message", {}),
        ("extend", Status.NEW, "message", {"reason": "Нужно время"}),
        ("reopen", Status.NEW, "message", {"reason": "Не решено"}),
        ("convert", Status.NEW, "appeal", {}),
        ("reply", Status.CLOSED, "message", {"text": "Ещё ответ"}),
        ("wait", Status.WAITING, "message", {}),
        ("redirect", Status.CLOSED, "message", {"organization": None, "reason": "Не наше"}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_forbidden_transition_is_409_in_the_one_shape(api, world, action, status, kind, body):
    appeal = bring(world, status, kind=kind)
    if "organization" in body:
        body = {**body, "organization": world.org_b.id}
    events = appeal.events.count()
    response = api.as_user(world.operator_a).post(detail(appeal, action), body)
    assert assert_error(response, 409)["fields"] == {}
    appeal.refresh_from_db()
    assert appeal.status == status and appeal.events.count() == events


def test_a_formal_appeal_is_extended_only_once(api, world):
    appeal = bring(world, Status.NEW, kind="appeal")
    client = api.as_user(world.operator_a)
    first = client.post(detail(appeal, "extend"), {"reason": "Запрос в другой орган"})
    assert first.status_code == 200, first.content
    body = assert_error(client.post(detail(appeal, "extend"), {"reason": "Ещё раз"}), 409)
    assert body["code"] == "invalid_transition"
    appeal.refresh_from_db()
    assert appeal.resolution_due_at == dt.datetime.fromisoformat(first.json()["resolution_due_at"])


@pytest.mark.parametrize(
    ("action", "status", "kind", "body", "field"),
    [
        ("extend", Status.NEW, "appeal", {}, "reason"),
        ("extend", Status.NEW, "appeal", {"reason": "   "}, "reason"),
        ("reopen", Status.CLOSED, "message", {}, "reason"),
        ("redirect", Status.NEW, "message", {"organization": "B"}, "reason"),
        ("reject", Status.NEW, "message", {}, "reason"),
        ("reject", Status.NEW, "message", {"reason": "boring"}, "reason"),
        ("reply", Status.NEW, "message", {"text": ""}, "text"),
        ("note", Status.NEW, "message", {}, "text"),
        ("assign", Status.NEW, "message", {}, "assignee"),
        ("redirect", Status.NEW, "message", {"reason": "Не наше"}, "organization"),
        ("mark-duplicate", Status.NEW, "message", {}, "duplicate_of"),
        ("mark-duplicate", Status.NEW, "message", {"duplicate_of": 999_999}, "duplicate_of"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_missing_or_bad_input_of_an_action_is_400(api, world, action, status, kind, body, field):
    appeal = bring(world, status, kind=kind)
    if body.get("organization") == "B":
        body = {**body, "organization": world.org_b.id}
    assert_error(api.as_user(world.operator_a).post(detail(appeal, action), body), 400, fields=(field,))
    appeal.refresh_from_db()
    assert appeal.status == status


def test_an_appeal_cannot_be_its_own_duplicate_nor_one_outside_the_scope(api, world):
    appeal = bring(world, Status.NEW)
    foreign = make_appeal(world.page_b, received_at=ago(hours=1))
    client = api.as_user(world.operator_a)
    assert_error(
        client.post(detail(appeal, "mark-duplicate"), {"duplicate_of": appeal.pk}), 400, fields=("duplicate_of",)
    )
    assert_error(
        client.post(detail(appeal, "mark-duplicate"), {"duplicate_of": foreign.pk}), 400, fields=("duplicate_of",)
    )


# History and replies ------------------------------------------------------------------------------------------


def test_events_and_replies_tell_the_story_in_local_time(api, world):
    appeal = make_appeal(world.page_b, received_at=ago(hours=1))
    client = api.as_user(world.operator_b)
    client.post(detail(appeal, "take"))
    client.post(detail(appeal, "note"), {"text": "Передать в регистратуру"})
    client.post(detail(appeal, "reply"), {"text": "Запись открыта"})
    events = client.get(detail(appeal, "events")).json()["results"]
    assert [(event["action"], event["from_status"], event["to_status"]) for event in events] == [
        ("created", "", "new"),
        ("taken", "new", "in_progress"),
        ("noted", "in_progress", "in_progress"),
        ("replied", "in_progress", "answered"),
    ]
    assert [event["actor"] for event in events] == [None, "operator_b", "operator_b", "operator_b"]
    assert events[1]["created_at"] == "2026-11-25T11:00:00+02:00"
    replies = client.get(detail(appeal, "replies")).json()["results"]
    assert [(reply["kind"], reply["author"], reply["text"]) for reply in replies] == [
        ("note", "operator_b", "Передать в регистратуру"),
        ("public", "operator_b", "Запись открыта"),
    ]
    assert {offset(reply["created_at"]) for reply in replies} == {KALININGRAD}


def test_auditor_reads_the_history(api, world):
    appeal = bring(world, Status.ANSWERED)
    response = api.as_user(world.auditor_federal).get(detail(appeal, "events"))
    assert [event["action"] for event in response.json()["results"]] == ["created", "replied"]


def test_history_and_replies_run_a_constant_number_of_queries(api, world, django_assert_max_num_queries):
    appeal = bring(world, Status.IN_PROGRESS)
    for number in range(30):
        services.appeal_note(actor=world.operator_a if number % 2 else world.admin, appeal_id=appeal.pk, text="…")
    assert Reply.objects.filter(appeal=appeal).count() == 30
    client = api.as_user(world.operator_a)
    client.get("/api/v1/me/")
    for suffix in ("events", "replies"):
        with django_assert_max_num_queries(6) as small:
            one = client.get(detail(appeal, suffix), {"page_size": 1})
        with django_assert_max_num_queries(6) as large:
            many = client.get(detail(appeal, suffix), {"page_size": 100})
        assert len(one.json()["results"]) == 1 and len(many.json()["results"]) >= 30
        assert len(small.captured_queries) == len(large.captured_queries)
