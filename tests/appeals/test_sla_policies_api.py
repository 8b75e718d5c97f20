"""/api/v1/sla-policies/: who sees and sets which policies, versioning, applying an edit to open appeals.

Federal policies are everyone's reference; a region's analysts set that region's own (domain.md 2, 4, 5, 9).
The clock is frozen at Wednesday 25 November 2026, 12:00 Moscow.
"""

import datetime as dt

import pytest
import time_machine

from appeals import services
from appeals.models import Appeal, SlaPolicy
from tests.assertions import assert_error
from tests.factories import make_appeal

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)  # Wednesday 12:00 Moscow
URL = "/api/v1/sla-policies/"
FEDERAL_DEFAULTS = {"Сообщения: федеральные сроки по умолчанию", "Обращения по 59-ФЗ"}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def policy_payload(**overrides) -> dict:
    body = {
        "name": "Москва: сообщения за 2 рабочих часа",
        "region": "RU-MOW",
        "kind": "message",
        "first_response_amount": 2,
        "first_response_unit": "working_hours",
        "resolution_amount": 2,
        "resolution_unit": "working_days",
        "warn_at": [50, 90],
    }
    body.update(overrides)
    return body


def names(response) -> set[str]:
    assert response.status_code == 200, response.content[:500]
    return {row["name"] for row in response.json()["results"]}


@pytest.fixture
def moscow_policy(api, world) -> dict:
    response = api.as_user(world.analyst_x).post(URL, policy_payload())
    assert response.status_code == 201, response.content
    return response.json()


def local_due(appeal: Appeal) -> str:
    return appeal.first_response_due_at.astimezone(dt.timezone(dt.timedelta(hours=3))).isoformat()


# Reading ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["operator_a", "operator_b", "analyst_x", "auditor_x", "auditor_federal", "admin", "integration_a"]
)
def test_federal_defaults_are_visible_to_every_role(api, world, persona):
    assert names(api.as_user(getattr(world, persona)).get(URL)) >= FEDERAL_DEFAULTS


def test_stranger_sees_no_policy_and_gets_404_on_detail(api, world, moscow_policy):
    client = api.as_user(world.stranger)
    assert client.get(URL).json()["count"] == 0
    federal = SlaPolicy.objects.filter(region__isnull=True).first()
    assert_error(client.get(f"{URL}{federal.pk}/"), 404)
    assert_error(client.get(f"{URL}{moscow_policy['id']}/"), 404)
    assert_error(client.delete(f"{URL}{moscow_policy['id']}/"), 404)


def test_anonymous_caller_gets_401(api, world):
    assert_error(api.get(URL), 401)


@pytest.fixture
def school_policy(world) -> SlaPolicy:
    """An organisation-level policy of organisation A (Moscow), set by an administrator."""
    return services.sla_policy_create(
        actor=world.admin,
        data={
            "name": "Школа №1: ответ за 4 часа",
            "organization": world.org_a,
            "first_response_amount": 4,
            "first_response_unit": "calendar_hours",
            "resolution_amount": 3,
            "resolution_unit": "working_days",
        },
    )


VIEWERS_OF_MOSCOW = ["operator_a", "analyst_x", "auditor_x", "auditor_federal", "admin"]


@pytest.mark.parametrize("persona", VIEWERS_OF_MOSCOW)
def test_a_regional_policy_is_visible_to_everyone_whose_appeals_it_may_govern(api, world, moscow_policy, persona):
    """Operator A's appeals run on the Moscow policy (the appeal serves its id), so they may read it."""
    client = api.as_user(getattr(world, persona))
    assert moscow_policy["name"] in names(client.get(URL))
    assert client.get(f"{URL}{moscow_policy['id']}/").status_code == 200


@pytest.mark.parametrize("persona", VIEWERS_OF_MOSCOW)
def test_an_organisation_policy_is_visible_to_its_operators_and_its_regions_staff(api, world, school_policy, persona):
    client = api.as_user(getattr(world, persona))
    assert school_policy.name in names(client.get(URL))
    assert client.get(f"{URL}{school_policy.pk}/").status_code == 200


def test_policies_of_another_region_are_not_visible(api, world, moscow_policy, school_policy):
    client = api.as_user(world.operator_b)
    assert names(client.get(URL)) == FEDERAL_DEFAULTS
    assert_error(client.get(f"{URL}{moscow_policy['id']}/"), 404)
    assert_error(client.get(f"{URL}{school_policy.pk}/"), 404)


def test_policies_are_served_with_flat_fields(api, world, moscow_policy):
    assert set(moscow_policy) == {
        "id",
        "lineage",
        "version",
        "name",
        "is_active",
        "kind",
        "channel",
        "platform",
        "category",
        "priority",
        "organization_kind",
        "region",
        "organization",
        "first_response_amount",
        "first_response_unit",
        "resolution_amount",
        "resolution_unit",
        "extension_amount",
        "extension_unit",
        "warn_at",
        "created_at",
    }


def test_policy_list_runs_a_constant_number_of_queries(api, world, django_assert_max_num_queries):
    for number in range(20):
        services.sla_policy_create(
            actor=world.admin,
            data={
                "name": f"Политика {number}",
                "region": world.org_a.region if number % 2 else None,
                "organization": world.org_a if number % 3 == 0 else None,
                "first_response_amount": 1 + number,
                "first_response_unit": "calendar_hours",
                "resolution_amount": 5,
                "resolution_unit": "calendar_days",
            },
        )
    client = api.as_user(world.admin)
    client.get("/api/v1/me/")
    with django_assert_max_num_queries(4) as small:
        one = client.get(URL, {"page_size": 1})
    with django_assert_max_num_queries(4) as large:
        many = client.get(URL, {"page_size": 100})
    assert len(one.json()["results"]) == 1 and len(many.json()["results"]) == many.json()["count"] > 1
    assert len(small.captured_queries) == len(large.captured_queries)


@pytest.mark.parametrize(
    ("query", "field"),
    [({"is_active": "maybe"}, "is_active"), ({"kind": "letter"}, "kind"), ({"organization": "school"}, "organization")],
)
def test_invalid_filter_values_are_400(api, world, query, field):
    assert_error(api.as_user(world.admin).get(URL, query), 400, fields=(field,))


def test_filters_by_kind_and_platform(api, world, moscow_policy):
    client = api.as_user(world.admin)
    assert names(client.get(URL, {"kind": "appeal"})) == {"Обращения по 59-ФЗ"}
    assert names(client.get(URL, {"platform": "max"})) == set()


# Creating -----------------------------------------------------------------------------------------------------


def test_analyst_creates_a_policy_for_their_region_and_new_appeals_follow_it(api, world, moscow_policy):
    assert moscow_policy["region"] == "RU-MOW" and moscow_policy["version"] == 1
    assert moscow_policy["lineage"] == moscow_policy["id"] and moscow_policy["is_active"] is True
    moscow = make_appeal(world.page_a, received_at=NOW)
    kaliningrad = make_appeal(world.page_b, received_at=NOW)
    assert moscow.policy_id == moscow_policy["id"]
    assert local_due(moscow) == "2026-11-25T14:00:00+03:00"  # 2 working hours from noon
    assert kaliningrad.policy.name in FEDERAL_DEFAULTS


@pytest.mark.parametrize(
    "overrides",
    [{"region": "RU-KGD"}, {"region": None}, {"organization": "A"}],
    ids=["another region", "federal", "one organisation"],
)
def test_analyst_cannot_create_a_policy_beyond_their_region(api, world, overrides):
    if overrides.get("organization") == "A":
        overrides = {"organization": world.org_a.id}
    count = SlaPolicy.objects.count()
    assert_error(api.as_user(world.analyst_x).post(URL, policy_payload(**overrides)), 403)
    assert SlaPolicy.objects.count() == count


@pytest.mark.parametrize("persona", ["operator_a", "auditor_x", "auditor_federal", "integration_a"])
def test_operators_auditors_and_integrations_cannot_create_policies(api, world, persona):
    assert_error(api.as_user(getattr(world, persona)).post(URL, policy_payload()), 403)


def test_admin_creates_a_federal_policy(api, world):
    response = api.as_user(world.admin).post(
        URL,
        policy_payload(
            name="MAX: ответ за сутки",
            region=None,
            platform="max",
            first_response_amount=24,
            first_response_unit="calendar_hours",
        ),
    )
    assert response.status_code == 201, response.content
    assert response.json()["region"] is None and response.json()["platform"] == "max"
    appeal = make_appeal(world.page_b, received_at=NOW)  # Kaliningrad's page is on MAX
    assert appeal.policy.name == "MAX: ответ за сутки"
    assert appeal.first_response_due_at == NOW + dt.timedelta(hours=24)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"warn_at": [0, 50]}, "warn_at"),
        ({"warn_at": [50, 100]}, "warn_at"),
        ({"warn_at": [50, 50]}, "warn_at"),
        ({"extension_amount": 10}, "extension_unit"),
        ({"extension_unit": "calendar_days"}, "extension_unit"),
        ({"first_response_unit": "fortnights"}, "first_response_unit"),
        ({"resolution_amount": 0}, "resolution_amount"),
        ({"kind": "letter"}, "kind"),
        ({"region": "RU-NOPE"}, "region"),
    ],
    ids=[
        "warn at 0",
        "warn at 100",
        "warn repeated",
        "extension without unit",
        "unit without extension",
        "unknown unit",
        "zero amount",
        "unknown kind",
        "unknown region",
    ],
)
def test_invalid_policy_is_400_with_the_field_named(api, world, overrides, field):
    response = api.as_user(world.admin).post(URL, policy_payload(**overrides))
    body = assert_error(response, 400)
    assert any(name == field or name.startswith(f"{field}.") for name in body["fields"]), body["fields"]


# Editing ------------------------------------------------------------------------------------------------------


def test_an_edit_stores_a_new_version_and_open_appeals_keep_theirs(
    api, world, moscow_policy, django_capture_on_commit_callbacks
):
    open_appeal = make_appeal(world.page_a, received_at=NOW)
    assert local_due(open_appeal) == "2026-11-25T14:00:00+03:00"
    client = api.as_user(world.analyst_x)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(f"{URL}{moscow_policy['id']}/", {"first_response_amount": 4})
    assert response.status_code == 200, response.content
    edited = response.json()
    assert edited["version"] == 2 and edited["lineage"] == moscow_policy["lineage"]
    assert edited["id"] != moscow_policy["id"] and edited["first_response_amount"] == 4
    assert edited["warn_at"] == [50, 90] and edited["region"] == "RU-MOW"  # the rest carried over

    listed = [row for row in client.get(URL).json()["results"] if row["lineage"] == moscow_policy["lineage"]]
    assert [(row["id"], row["version"]) for row in listed] == [(edited["id"], 2)]
    assert_error(client.get(f"{URL}{moscow_policy['id']}/"), 404)
    assert_error(client.patch(f"{URL}{moscow_policy['id']}/", {"first_response_amount": 5}), 404)

    open_appeal.refresh_from_db()
    assert open_appeal.policy_id == moscow_policy["id"]
    assert local_due(open_appeal) == "2026-11-25T14:00:00+03:00"
    shown = api.as_user(world.operator_a).get(f"/api/v1/appeals/{open_appeal.pk}/").json()
    assert shown["policy_version"] == 1 and shown["first_response_due_at"] == "2026-11-25T14:00:00+03:00"
    assert local_due(make_appeal(world.page_a, received_at=NOW)) == "2026-11-25T16:00:00+03:00"


def test_an_edit_applied_to_open_appeals_moves_them_to_the_new_version(
    api, world, moscow_policy, django_capture_on_commit_callbacks
):
    open_appeal = make_appeal(world.page_a, received_at=NOW)
    closed = make_appeal(world.page_a, received_at=NOW - dt.timedelta(minutes=30))
    services.appeal_reply(actor=world.operator_a, appeal_id=closed.pk, text="Ответ", now=NOW)
    services.appeal_close(actor=world.operator_a, appeal_id=closed.pk, now=NOW)
    closed.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(world.analyst_x).patch(
            f"{URL}{moscow_policy['id']}/", {"first_response_amount": 4, "apply_to_open_appeals": True}
        )
    assert response.status_code == 200, response.content
    assert "apply_to_open_appeals" not in response.json()

    open_appeal.refresh_from_db()
    assert open_appeal.policy_id == response.json()["id"] and open_appeal.policy.version == 2
    assert local_due(open_appeal) == "2026-11-25T16:00:00+03:00"
    assert open_appeal.events.filter(action="deadlines_recomputed").count() == 1
    shown = api.as_user(world.operator_a).get(f"/api/v1/appeals/{open_appeal.pk}/").json()
    assert shown["policy_version"] == 2 and shown["due_at"] == "2026-11-25T16:00:00+03:00"
    untouched = Appeal.objects.get(pk=closed.pk)
    assert untouched.policy_id == moscow_policy["id"]
    assert untouched.first_response_due_at == closed.first_response_due_at


def test_analyst_cannot_edit_a_federal_policy_nor_move_theirs_to_another_region(api, world, moscow_policy):
    client = api.as_user(world.analyst_x)
    federal = SlaPolicy.objects.get(name="Сообщения: федеральные сроки по умолчанию")
    assert_error(client.patch(f"{URL}{federal.pk}/", {"first_response_amount": 1}), 403)
    assert_error(client.patch(f"{URL}{moscow_policy['id']}/", {"region": "RU-KGD"}), 403)
    assert_error(client.patch(f"{URL}{moscow_policy['id']}/", {"region": None}), 403)
    assert SlaPolicy.objects.filter(lineage=federal.lineage).count() == 1
    assert SlaPolicy.objects.filter(lineage=moscow_policy["lineage"]).count() == 1


def test_operator_and_auditor_cannot_edit_a_policy_they_can_see(api, world, moscow_policy, school_policy):
    assert_error(api.as_user(world.auditor_x).patch(f"{URL}{moscow_policy['id']}/", {"first_response_amount": 1}), 403)
    assert_error(api.as_user(world.operator_a).patch(f"{URL}{school_policy.pk}/", {"first_response_amount": 1}), 403)
    assert_error(api.as_user(world.analyst_x).patch(f"{URL}{school_policy.pk}/", {"first_response_amount": 1}), 403)
    assert SlaPolicy.objects.filter(lineage=school_policy.lineage).count() == 1


def test_admin_edits_and_deactivates_a_regional_policy(api, world, moscow_policy):
    client = api.as_user(world.admin)
    response = client.patch(f"{URL}{moscow_policy['id']}/", {"name": "Москва: уточнено администратором"})
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert client.delete(f"{URL}{response.json()['id']}/").status_code == 204


def test_an_invalid_edit_is_400_and_stores_nothing(api, world, moscow_policy):
    client = api.as_user(world.analyst_x)
    response = client.patch(f"{URL}{moscow_policy['id']}/", {"extension_amount": 3})
    assert_error(response, 400, fields=("extension_unit",))
    response = client.patch(f"{URL}{moscow_policy['id']}/", {"warn_at": [80, 80]})
    assert_error(response, 400, fields=("warn_at",))
    assert SlaPolicy.objects.filter(lineage=moscow_policy["lineage"]).count() == 1


# Deactivating -------------------------------------------------------------------------------------------------


def test_delete_deactivates_the_policy_and_new_appeals_fall_back(api, world, moscow_policy):
    kept = make_appeal(world.page_a, received_at=NOW)
    client = api.as_user(world.analyst_x)
    response = client.delete(f"{URL}{moscow_policy['id']}/")
    assert response.status_code == 204, response.content
    current = [row for row in client.get(URL).json()["results"] if row["lineage"] == moscow_policy["lineage"]]
    assert [(row["version"], row["is_active"]) for row in current] == [(2, False)]
    assert names(client.get(URL, {"is_active": "true"})) >= FEDERAL_DEFAULTS
    assert moscow_policy["name"] not in names(client.get(URL, {"is_active": "true"}))
    kept.refresh_from_db()
    assert kept.policy_id == moscow_policy["id"]
    assert make_appeal(world.page_a, received_at=NOW).policy.name in FEDERAL_DEFAULTS


def test_analyst_cannot_deactivate_a_federal_policy(api, world):
    federal = SlaPolicy.objects.get(name="Обращения по 59-ФЗ")
    assert_error(api.as_user(world.analyst_x).delete(f"{URL}{federal.pk}/"), 403)
    federal.refresh_from_db()
    assert federal.is_current and federal.is_active
