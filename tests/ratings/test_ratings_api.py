"""Reach and responsiveness ratings, snapshots and open data."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command

from appeals import services
from core.access import SYSTEM
from publics.models import AudienceSnapshot, Organization, Page, Region
from ratings.models import RatingSnapshot
from ratings.services import rating_snapshots_store_defaults, rollups_catch_up
from tests.factories import OrganizationFactory, PageFactory, make_appeal, region

REACH = "/api/v1/ratings/reach/"
RESPONSIVENESS = "/api/v1/ratings/responsiveness/"
SNAPSHOTS = "/api/v1/ratings/snapshots/"
MSK = dt.timezone(dt.timedelta(hours=3))
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=MSK)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def government_page(code: str, *, kind: str = "regional_government", platform: str = "max", **page) -> Page:
    organization = OrganizationFactory(region=region(code), kind=kind)
    return PageFactory(organization=organization, platform=platform, **page)


def audience(page: Page, day: dt.date, subscribers: int) -> None:
    AudienceSnapshot.objects.create(page=page, date=day, subscribers=subscribers)


def reach_rows(api, user, **query) -> dict[str, dict]:
    response = api.as_user(user).get(REACH, {"platform": "max", "date": "2025-12-01", **query})
    assert response.status_code == 200, response.json()
    return {row["region"]: row for row in response.json()["results"]}


# The seed's five regions ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_reproduces_the_published_top_five_with_penetration_and_ranks(api):
    call_command("seed_demo", stdout=io.StringIO())
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.get(username="admin")
    rows = reach_rows(api, admin)
    published = {"RU-MOW": 50_000, "RU-AST": 13_000, "RU-KRS": 8_000, "RU-KO": 7_800, "RU-CHU": 1_200}
    assert {code: rows[code]["subscribers"] for code in published} == published
    by_subscribers = sorted(
        (row for row in rows.values() if row["rank_subscribers"]), key=lambda r: r["rank_subscribers"]
    )
    assert [row["region"] for row in by_subscribers[:5]] == list(published)
    assert [row["rank_subscribers"] for row in by_subscribers[:5]] == [1, 2, 3, 4, 5]
    for code, subscribers in published.items():
        population = Region.objects.get(code=code).population
        assert rows[code]["penetration"] == pytest.approx(subscribers / population, rel=1e-6)
    # Chukotka: small in number, first per head; then Astrakhan, Komi, Kursk, Moscow.
    by_penetration = sorted((r for r in rows.values() if r["rank_penetration"]), key=lambda r: r["rank_penetration"])
    assert [row["region"] for row in by_penetration[:5]] == ["RU-CHU", "RU-AST", "RU-KO", "RU-KRS", "RU-MOW"]
    assert rows["RU-MOW"]["rank_composite"] == 1 and rows["RU-CHU"]["rank_composite"] == 2
    # Regions without a channel in the demo have no value and no rank.
    assert rows["RU-TA"]["subscribers"] is None and rows["RU-TA"]["rank_subscribers"] is None
    assert rows["RU-MOW"]["growth_7d"] == 50_000 - round(50_000 * (1 - 0.004 * 7))
    assert rows["RU-MOW"]["growth_30d"] == 50_000 - round(50_000 * (1 - 0.004 * 30))


# Measures by hand ---------------------------------------------------------------------------------------------


def test_latest_snapshot_on_or_before_the_date_and_growth(api, world):
    page = government_page("RU-KRS")
    audience(page, dt.date(2025, 10, 31), 700)
    audience(page, dt.date(2025, 11, 24), 900)
    audience(page, dt.date(2025, 11, 30), 1000)
    audience(page, dt.date(2025, 12, 2), 5000)  # after the date: ignored
    row = reach_rows(api, world.admin)["RU-KRS"]
    assert (row["subscribers"], row["growth_7d"], row["growth_30d"], row["pages"]) == (1000, 100, 300, 1)
    assert row["penetration"] == pytest.approx(1000 / Region.objects.get(code="RU-KRS").population, rel=1e-6)


def test_unknown_population_gives_no_penetration_and_is_flagged(api, world):
    Region.objects.filter(code="RU-KRS").update(population=None)
    audience(government_page("RU-KRS"), dt.date(2025, 12, 1), 1000)
    row = reach_rows(api, world.admin)["RU-KRS"]
    assert (row["penetration"], row["population_known"], row["rank_penetration"], row["composite"]) == (
        None,
        False,
        None,
        None,
    )
    assert row["rank_subscribers"] == 1


def test_ties_share_a_rank_and_the_next_rank_is_skipped(api, world):
    for code, subscribers in (("RU-KRS", 500), ("RU-KO", 500), ("RU-AST", 900), ("RU-KGD", 100)):
        audience(government_page(code), dt.date(2025, 12, 1), subscribers)
    rows = reach_rows(api, world.admin)
    assert [rows[code]["rank_subscribers"] for code in ("RU-AST", "RU-KRS", "RU-KO", "RU-KGD")] == [1, 2, 2, 4]


def test_page_sets_and_the_primary_page(api, world):
    government = government_page("RU-KRS")
    audience(government, dt.date(2025, 12, 1), 1000)
    primary = PageFactory(organization=government.organization, platform="max", is_primary=True)
    audience(primary, dt.date(2025, 12, 1), 3000)
    audience(government_page("RU-KRS", kind="governor"), dt.date(2025, 12, 1), 200)
    audience(government_page("RU-KRS", kind="school"), dt.date(2025, 12, 1), 20)
    audience(government_page("RU-KRS", platform="vk"), dt.date(2025, 12, 1), 99_999)
    assert reach_rows(api, world.admin)["RU-KRS"]["subscribers"] == 3000  # the primary page only
    assert reach_rows(api, world.admin, page_set="governor")["RU-KRS"]["subscribers"] == 200
    assert reach_rows(api, world.admin, page_set="all")["RU-KRS"]["subscribers"] == 1000 + 3000 + 200 + 20


def test_composite_weights_follow_the_query(api, world):
    audience(government_page("RU-MOW"), dt.date(2025, 12, 1), 10_000)
    audience(government_page("RU-CHU"), dt.date(2025, 12, 1), 1_000)
    by_subscribers = reach_rows(api, world.admin, weight_subscribers=1, weight_penetration=0, weight_growth=0)
    assert (by_subscribers["RU-MOW"]["composite"], by_subscribers["RU-MOW"]["rank_composite"]) == (1.0, 1)
    by_penetration = reach_rows(api, world.admin, weight_subscribers=0, weight_penetration=1, weight_growth=0)
    assert (by_penetration["RU-CHU"]["composite"], by_penetration["RU-CHU"]["rank_composite"]) == (1.0, 1)
    assert (
        api.as_user(world.admin)
        .get(REACH, {"platform": "max", "weight_subscribers": 0, "weight_penetration": 0, "weight_growth": 0})
        .status_code
        == 400
    )


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"platform": "myspace"},
        {"platform": "max", "date": "2025-02-30"},
        {"platform": "max", "page_set": "friends"},
        {"platform": "max", "weight_growth": -1},
    ],
)
def test_reach_bad_input_answers_400(api, world, query):
    response = api.as_user(world.admin).get(REACH, query)
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_reach_rows_are_narrowed_to_the_scope_and_a_stranger_gets_nothing(api, world):
    audience(government_page("RU-MOW"), dt.date(2025, 12, 1), 100)
    audience(government_page("RU-KGD"), dt.date(2025, 12, 1), 200)
    assert set(reach_rows(api, world.analyst_x)) == {"RU-MOW"}
    mine = reach_rows(api, world.operator_b)
    assert set(mine) == {"RU-KGD"} and mine["RU-KGD"]["rank_subscribers"] == 1
    assert reach_rows(api, world.stranger) == {}
    assert len(reach_rows(api, world.auditor_federal)) == 89


def test_reach_as_csv(api, world):
    audience(government_page("RU-MOW"), dt.date(2025, 12, 1), 100)
    text = api.as_user(world.admin).get(REACH, {"platform": "max", "date": "2025-12-01", "format": "csv"}).content
    lines = text.decode("utf-8").split("\r\n")
    assert lines[0].startswith("\ufeffregion,name,pages,subscribers,population,")
    assert any(line.startswith("RU-MOW,Москва,1,100,") for line in lines)


def test_reach_runs_a_constant_number_of_queries(api, world, django_assert_max_num_queries):
    client = api.as_user(world.admin)
    client.get(REACH, {"platform": "max"})
    audience(government_page("RU-MOW"), dt.date(2025, 12, 1), 100)
    with django_assert_max_num_queries(4) as few:
        client.get(REACH, {"platform": "max", "date": "2025-12-01"})
    for code in ("RU-KRS", "RU-KO", "RU-AST", "RU-KGD", "RU-SVE"):
        audience(government_page(code), dt.date(2025, 12, 1), 100)
    with django_assert_max_num_queries(4) as many:
        client.get(REACH, {"platform": "max", "date": "2025-12-01"})
    assert len(many.captured_queries) == len(few.captured_queries)


# Responsiveness -----------------------------------------------------------------------------------------------


def test_responsiveness_ranks_only_bodies_with_enough_volume(api, world):
    fast = OrganizationFactory(region=world.org_a.region)
    fast_page = PageFactory(organization=fast)
    single = make_appeal(fast_page, received_at=dt.datetime(2026, 11, 16, 10, 0, tzinfo=MSK))
    services.appeal_reply(actor=SYSTEM, appeal_id=single.pk, text="Ответ", now=single.received_at)
    for n in range(4):
        appeal = make_appeal(world.page_a, received_at=dt.datetime(2026, 11, 16, 10, 0, tzinfo=MSK))
        if n < 3:
            services.appeal_reply(actor=SYSTEM, appeal_id=appeal.pk, text="Ответ", now=appeal.received_at)
    rollups_catch_up()
    response = api.as_user(world.analyst_x).get(
        RESPONSIVENESS, {"by": "organization", "from": "2026-11-01", "to": "2026-11-30", "min_volume": 2}
    )
    rows = response.json()["results"]
    assert [(row["key"], row["ranked"], row["rank_compliance"]) for row in rows] == [
        (world.org_a.pk, True, 1),
        (fast.pk, False, None),  # one fast answer: listed, not ranked
    ]
    assert rows[0]["compliance"] == 0.75 and rows[0]["volume"] == 4
    stranger = api.as_user(world.stranger).get(RESPONSIVENESS, {"by": "region"})
    assert stranger.status_code == 200 and stranger.json()["results"] == []


# Snapshots and open data ---------------------------------------------------------------------------------------


def test_an_analyst_stores_and_publishes_a_snapshot_which_becomes_open_data(api, world, client):
    audience(government_page("RU-MOW"), dt.date(2025, 12, 1), 100)
    analyst = api.as_user(world.analyst_x)
    created = analyst.post(
        SNAPSHOTS, {"kind": "reach", "parameters": {"platform": "max", "date": "2025-12-01"}}, format="json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["as_of"] == "2025-12-01" and len(body["rows"]) == 89 and body["published_at"] is None
    assert client.get("/open-data/ratings/").json()["results"] == []
    assert client.get(f"/open-data/ratings/{body['id']}.json").status_code == 404  # unpublished: not served
    published = analyst.post(f"{SNAPSHOTS}{body['id']}/publish/")
    assert published.status_code == 200 and published.json()["published_at"]
    listing = client.get("/open-data/ratings/").json()["results"]
    assert [entry["id"] for entry in listing] == [body["id"]]
    assert listing[0]["json_url"].endswith(f"/open-data/ratings/{body['id']}.json")
    data = client.get(listing[0]["json_url"]).json()
    assert data["kind"] == "reach" and "created_by" not in data
    assert {row["region"] for row in data["results"]} >= {"RU-MOW"}
    csv = client.get(listing[0]["csv_url"])
    assert csv["Content-Type"].startswith("text/csv") and csv.content.decode("utf-8").startswith("\ufeffregion,")


def test_operators_and_auditors_may_not_store_or_publish(api, world):
    for user in (world.operator_a, world.auditor_federal):
        response = api.as_user(user).post(
            SNAPSHOTS, {"kind": "reach", "parameters": {"platform": "max"}}, format="json"
        )
        assert response.status_code == 403
    snapshot = rating_snapshots_store_defaults()[0]
    assert api.as_user(world.auditor_federal).post(f"{SNAPSHOTS}{snapshot.pk}/publish/").status_code == 403
    assert api.as_user(world.operator_a).post(f"{SNAPSHOTS}{snapshot.pk}/publish/").status_code == 403
    assert RatingSnapshot.objects.filter(published_at__isnull=False).count() == 0


def test_a_responsiveness_snapshot_stays_with_its_author_and_the_federation(api, world):
    snapshot = (
        api.as_user(world.analyst_x)
        .post(SNAPSHOTS, {"kind": "responsiveness", "parameters": {"by": "organization"}}, format="json")
        .json()
    )
    assert api.as_user(world.admin).get(f"{SNAPSHOTS}{snapshot['id']}/").status_code == 200
    assert api.as_user(world.operator_b).get(f"{SNAPSHOTS}{snapshot['id']}/").status_code == 404
    assert api.as_user(world.stranger).get(SNAPSHOTS).json()["results"] == []
    assert api.as_user(world.operator_b).post(f"{SNAPSHOTS}{snapshot['id']}/publish/").status_code == 404


def test_bad_snapshot_parameters_answer_400(api, world):
    response = api.as_user(world.admin).post(
        SNAPSHOTS, {"kind": "reach", "parameters": {"platform": "myspace"}}, format="json"
    )
    assert response.status_code == 400 and "parameters.platform" in response.json()["fields"]


def test_beat_stores_the_default_snapshots_unpublished(world):
    reach, responsiveness = rating_snapshots_store_defaults()
    assert (reach.kind, reach.parameters["platform"], reach.published_at) == ("reach", "max", None)
    assert responsiveness.parameters["by"] == "region" and reach.created_by is None


def test_open_data_lists_run_a_constant_number_of_queries(client, world, django_assert_max_num_queries):
    from ratings.services import rating_snapshot_publish

    for snapshot in rating_snapshots_store_defaults():
        rating_snapshot_publish(actor=world.admin, snapshot_id=snapshot.pk)
    # 3: the page, the planner's estimate asked before the capped count (core/pagination.py), the count.
    with django_assert_max_num_queries(3) as few:
        client.get("/open-data/ratings/")
    for snapshot in rating_snapshots_store_defaults():
        rating_snapshot_publish(actor=world.admin, snapshot_id=snapshot.pk)
    with django_assert_max_num_queries(3) as many:
        assert len(client.get("/open-data/ratings/").json()["results"]) == 4
    assert len(many.captured_queries) == len(few.captured_queries)
    assert Organization.objects.exists()


def test_the_snapshot_list_runs_a_constant_number_of_queries(api, world, django_assert_max_num_queries):
    client = api.as_user(world.admin)
    rating_snapshots_store_defaults()
    client.get(SNAPSHOTS)
    with django_assert_max_num_queries(4) as few:
        assert client.get(SNAPSHOTS).status_code == 200
    for _ in range(3):
        rating_snapshots_store_defaults()
    with django_assert_max_num_queries(4) as many:
        assert len(client.get(SNAPSHOTS).json()["results"]) == 8
    assert len(many.captured_queries) == len(few.captured_queries)
