"""The appeal lists of issue 8 (API and admin) at 50,000 and at 5,000,000 appeals, in the same run.

    .venv/bin/python -m bench.lists [--small 50000] [--large 5000000] [--requests 30] [--rebuild]

Every request of the issue's table, each against two gunicorn servers at once, one on a database of `--small`
appeals and one on a database of `--large` appeals, with the same registry and the same kinds of rows; the
client alternates between them request by request, so drift on the shared machine hits both sizes alike:
- `GET /api/v1/appeals/` as the federal administrator in the default order, with `ordering=due_at`,
  `sla_state=breached`, `region=RU-MOW`, `is_overdue=true` and `search=мусор`; a Moscow analyst's and an
  operator's default list;
- the admin's appeal changelist (`/admin/appeals/appeal/`, logged in through the admin login form): page 1,
  sorted by deadline (the column header's link) and a search for «мусор»;
- the reference: one appeal's detail, `GET /api/v1/appeals/{id}/`, on the same servers.
Each is requested `--requests` times per size after a warm-up; it prints the median and the 95th percentile,
each list's p95(large)/p95(small) against the target 1.5, and the federation's default list p95 against five
times the detail's. In-process (Django's test client on the same databases) it counts each request's SQL
queries at both sizes and prints the EXPLAIN (ANALYZE, BUFFERS) of the two slowest statements of the three
slowest requests at the large size.

The data (databases otklik_lists_bench_50k and otklik_lists_bench_5m, kept between runs; `--rebuild` makes them
afresh, which takes a while on two cores): 89 regions, 2,000 organisations spread over them by population, with
weights by kind (a regional government gets far more appeals than a library), one to four pages each and an
operator each; a year of appeals, Moscow about 9%, the busiest organisation well under 1%. 12,000 template
appeals are computed by the application's own code (`appeals.services.intake.appeal_build` for policy and
deadlines, the sweep's own step `_sweep_one` before each transition, the transition table for each status,
`sla.refresh_tracking` after it): 6,000 of the last six weeks, whose status follows their age at build time (a
few % of all appeals open, some of them overdue), and 6,000 of the week before, all finished (answered and
closed, some late, or rejected). PostgreSQL repeats them (INSERT ... SELECT generate_series): the finished ones
moved back by whole weeks over the year, the recent ones kept in place; every copy moved back by up to an hour
more, so copies do not share a timestamp. Ids grow with time as in production.
Benchmarks are not tests: this prints its figures and targets and never fails on timing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import http.client
import json
import math
import random
import re
import secrets
import statistics
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench._appeals import (
    Progress,
    admin_execute,
    bench_database_url,
    bulk_loading,
    configure_django,
    copy_rows,
    database_name,
    execute,
)
from bench._common import machine_load

META_VERSION = 1
TARGET_RATIO = 1.5  # p95 at the large size / p95 at the small size, per list
DETAIL_FACTOR = 5  # the federation's default list: p95 at most this many times the detail GET's
SPAN_WEEKS = 52  # a year of appeals
RECENT_WEEKS = 6  # computed as of the build: their status follows their age
RECENT_TEMPLATES = 6_000
OLD_TEMPLATES = 6_000  # finished appeals of the week before the recent ones, moved back by whole weeks
ORGANIZATIONS = 2_000
CHUNK_ROWS = 500_000
WARM_UP = 3
PASSWORD = "bench-lists-password"  # the admin login form's; the bench databases only
SEARCH = "мусор"

# Appeals a body of each kind gets, relative to a school: a regional government or its governor collect far
# more than a library.
VOLUME = {
    "regional_government": 40,
    "governor": 25,
    "regional_executive_body": 8,
    "local_government": 6,
    "hospital": 5,
    "clinic": 4,
    "social_service": 3,
    "school": 1.5,
    "kindergarten": 1,
}
# The kinds of the organisations of a region after its government and governor, as a cycle of shares.
KIND_MIX = (
    ("local_government", 18),
    ("school", 25),
    ("kindergarten", 12),
    ("regional_executive_body", 12),
    ("clinic", 10),
    ("hospital", 8),
    ("social_service", 5),
    ("library", 4),
    ("youth_centre", 2),
    ("sports", 2),
    ("theatre", 1),
    ("museum", 1),
)
KIND_NAMES = {
    "regional_government": "Правительство региона",
    "governor": "Губернатор",
    "regional_executive_body": "Министерство",
    "local_government": "Администрация муниципального образования",
    "school": "Школа",
    "kindergarten": "Детский сад",
    "hospital": "Больница",
    "clinic": "Поликлиника",
    "social_service": "Центр социального обслуживания",
    "library": "Библиотека",
    "youth_centre": "Молодёжный центр",
    "sports": "Спортивная школа",
    "theatre": "Театр",
    "museum": "Музей",
}
PLATFORM_CHANCE = (("vk", 1.0), ("ok", 0.5), ("max", 0.6), ("telegram", 0.25))
PLATFORM_WEIGHT = {"vk": 70, "ok": 10, "max": 14, "telegram": 6}
MESSAGE_CHANNELS = (("comment", 55), ("direct_message", 30), ("wall_post", 10), ("mention", 5))
APPEAL_CHANNELS = (("direct_message", 70), ("wall_post", 20), ("api", 10))
# (text, weight): about 4% mention rubbish («мусор», «мусора»), what the search looks for.
TEXTS = (
    ("Во дворе дома 12 по улице Строителей неделю не вывозят мусор, контейнеры переполнены.", 2),
    ("У подъезда горы мусора, управляющая компания не отвечает. Когда уберут?", 2),
    ("Когда отремонтируют дорогу на улице Ленина? Ямы по колено, машины ломаются.", 8),
    ("Прошу разъяснить порядок записи ребёнка в детский сад после переезда.", 6),
    ("На остановке «Школа» третью неделю не работает освещение.", 6),
    ("Не могу записаться к терапевту через портал, нет талонов на две недели вперёд.", 8),
    ("Спасибо за быстро убранный снег! И вопрос: когда уберут сосульки с крыши?", 5),
    ("Автобус № 45 не приходит по расписанию, утром люди ждут по сорок минут.", 7),
    ("В доме нет горячей воды с понедельника, аварийная служба не берёт трубку.", 7),
    ("Почему не работает лифт в доме 8? Пожилые жильцы не могут выйти на улицу.", 5),
    ("Когда откроют отремонтированную поликлинику в нашем микрорайоне?", 4),
    ("Прошу установить пешеходный переход у школы, дети перебегают дорогу.", 5),
    ("Как получить компенсацию за капитальный ремонт пенсионеру?", 4),
    ("Во дворе сломаны качели на детской площадке, это опасно.", 5),
    ("Не начислено пособие на ребёнка за прошлый месяц, куда обращаться?", 5),
    ("Спасибо врачам больницы за внимательное отношение к моей маме.", 3),
    ("Когда восстановят уличное освещение в частном секторе?", 4),
    ("Прошу проверить качество питания в школьной столовой.", 4),
    ("На дороге к деревне размыло мост, проезда нет.", 3),
    ("Подскажите, где можно пройти диспансеризацию в выходные дни?", 3),
)
NAMES = (
    "Иван Петров",
    "Мария Смирнова",
    "Алексей Кузнецов",
    "Ольга Иванова",
    "Дмитрий Соколов",
    "Елена Попова",
    "Сергей Лебедев",
    "Анна Козлова",
    "Николай Новиков",
    "Татьяна Морозова",
    "Андрей Волков",
    "Наталья Соловьёва",
    "",
)

# The appeal columns a template carries; the row's id, external id, pauses and search vector are set apart.
PLAIN_COLUMNS = (
    "page_id",
    "organization_id",
    "region_id",
    "kind",
    "channel",
    "author_platform_id",
    "author_name",
    "text",
    "category_id",
    "priority",
    "status",
    "assignee_id",
    "policy_id",
    "extension_reason",
    "reject_reason",
    "sla_warned_percent",
    "first_response_breached",
    "resolution_breached",
    "sla_state",
)
# Moments: a copy moves them all back by the same interval.
TIME_COLUMNS = (
    "received_at",
    "registered_at",
    "first_responded_at",
    "resolved_at",
    "closed_at",
    "resolution_started_at",
    "first_response_due_at",
    "resolution_due_at",
    "paused_at",
    "extended_at",
    "sla_warn_from",
    "sla_next_check_at",
    "due_at",
    "updated_at",
)
TEMPLATE_COLUMNS = PLAIN_COLUMNS + TIME_COLUMNS


def size_label(size: int) -> str:
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size % 1_000 == 0:
        return f"{size // 1_000}k"
    return str(size)


def token_for(username: str) -> str:
    """The same DRF token in both databases and on every build (bench databases only)."""
    return hashlib.sha1(f"bench-lists:{username}".encode()).hexdigest()


# The registry ------------------------------------------------------------------------------------------------


@dataclass
class Registry:
    region_weights: list[tuple[Any, float]]
    organizations: dict[int, list[tuple[Any, float]]]  # region id -> (organisation, weight)
    pages: dict[int, list[Any]]
    operators: dict[int, int]  # organisation id -> its operator's user id
    categories: list[Any]
    schedules: dict[int, Any] = field(default_factory=dict)


def create_registry(rng: random.Random, progress: Progress) -> Registry:
    """Organisations in every region by population, their pages, an operator each, and the three personas."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from appeals.models import Category
    from publics.models import Membership, Organization, Page, Region, Role

    regions = list(Region.objects.order_by("code"))
    populations = {region.pk: region.population or 100_000 for region in regions}
    scale = sum(population**0.7 for population in populations.values())
    organizations: list[Organization] = []
    for region in regions:
        count = max(8, round(ORGANIZATIONS * populations[region.pk] ** 0.7 / scale))
        kinds = ["regional_government", "governor"]
        pool = [kind for kind, share in KIND_MIX for _ in range(share)]
        kinds += [pool[(index * 37) % len(pool)] for index in range(count - 2)]
        for number, kind in enumerate(kinds, start=1):
            early = kind in ("school", "kindergarten", "hospital", "clinic")
            organizations.append(
                Organization(
                    name=f"{KIND_NAMES.get(kind, 'Организация')} № {number} ({region.name})"[:500],
                    kind=kind,
                    region=region,
                    office_opens_at=dt.time(8 if early else 9),
                    office_closes_at=dt.time(17 if early else 18),
                )
            )
    Organization.objects.bulk_create(organizations, batch_size=1000)
    pages = []
    for organization in organizations:
        for platform, chance in PLATFORM_CHANCE:
            if rng.random() < chance:
                pages.append(
                    Page(
                        organization=organization,
                        platform=platform,
                        platform_id=f"bench-lists-{organization.pk}",
                        title=organization.name[:300],
                        verified=True,
                        is_primary=True,
                    )
                )
    Page.objects.bulk_create(pages, batch_size=1000)
    User = get_user_model()
    users = [User(username=f"bench-operator-{organization.pk}") for organization in organizations]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users, batch_size=1000)
    Membership.objects.bulk_create(
        [
            Membership(user=user, role=Role.OPERATOR, organization=organization)
            for user, organization in zip(users, organizations, strict=True)
        ],
        batch_size=1000,
    )
    admin = User.objects.create_superuser("bench-admin", password=PASSWORD)
    Membership.objects.create(user=admin, role=Role.FEDERAL_ADMIN)
    analyst = User.objects.create_user("bench-analyst-moscow", is_staff=True)
    Membership.objects.create(user=analyst, role=Role.ANALYST, region=Region.objects.get(code="RU-MOW"))
    for user in (admin, analyst):
        Token.objects.create(user=user, key=token_for(user.username))
    progress(f"registry: {len(organizations):,} organisations in {len(regions)} regions, {len(pages):,} pages")

    by_region: dict[int, list[tuple[Organization, float]]] = {}
    loaded = Organization.objects.select_related("region").in_bulk([o.pk for o in organizations])
    for organization in organizations:
        weight = VOLUME.get(organization.kind, 0.6) * rng.lognormvariate(0, 0.5)
        by_region.setdefault(organization.region_id, []).append((loaded[organization.pk], weight))
    pages_of: dict[int, list[Page]] = {}
    for page in Page.objects.filter(organization__in=loaded).order_by("pk"):
        pages_of.setdefault(page.organization_id, []).append(page)
    return Registry(
        region_weights=[(region, float(populations[region.pk])) for region in regions],
        organizations=by_region,
        pages=pages_of,
        operators={organization.pk: user.pk for user, organization in zip(users, organizations, strict=True)},
        categories=list(Category.objects.filter(parent__isnull=False).select_related("parent")),
    )


def add_operator_persona(organization_id: int) -> None:
    """The operator whose default list is measured: a real user with a token, of the chosen organisation."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from publics.models import Membership, Role

    user = get_user_model().objects.create_user("bench-operator", is_staff=True)
    Membership.objects.create(user=user, role=Role.OPERATOR, organization_id=organization_id)
    Token.objects.create(user=user, key=token_for(user.username))


# Templates ---------------------------------------------------------------------------------------------------


def _pick(rng: random.Random, weighted: list[tuple[Any, float]]) -> Any:
    return rng.choices([item for item, _ in weighted], weights=[weight for _, weight in weighted])[0]


def _received_in(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    """A moment in [start, end), three times likelier in the Moscow daytime than at night."""
    while True:
        moment = start + (end - start) * rng.random()
        if 7 <= (moment.hour + 3) % 24 < 23 or rng.random() < 1 / 3:
            return moment.replace(microsecond=0)


def _hours(value: float) -> dt.timedelta:
    return dt.timedelta(hours=value)


def plan_lifecycle(rng: random.Random, appeal, *, recent: bool) -> list[tuple[dt.datetime, str, dict]]:
    """What happens to the appeal after registration: (moment, transition, fields the service sets), in order.

    Messages: most are taken within hours and answered the same day or the next (some late), then closed within
    days; some are spam and rejected; a few are stuck for days to weeks before their answer; a few recent ones
    wait for the citizen. Formal appeals: taken within hours, a first reply within days, closed with the answer
    on the merits within their 30 days (some late); a few rejected as repeated.
    """
    from appeals.models import AppealKind, RejectReason, Transition

    start = appeal.registered_at
    steps: list[tuple[dt.datetime, str, dict]] = []
    formal = appeal.kind == AppealKind.APPEAL
    if not formal and rng.random() < 0.07:
        reason = rng.choice((RejectReason.SPAM, RejectReason.OBSCENE_OR_THREATENING, RejectReason.NO_QUESTION))
        return [(start + _hours(rng.expovariate(1 / 3)), Transition.REJECT, {"reject_reason": reason})]
    take = start + _hours(rng.expovariate(1 / (8 if formal else 1.5)))
    steps.append((take, Transition.TAKE, {}))
    if formal and rng.random() < 0.04:
        reason = RejectReason.REPEATED_NO_NEW_ARGUMENTS
        return [*steps, (take + dt.timedelta(days=rng.uniform(1, 10)), Transition.REJECT, {"reject_reason": reason})]
    if recent and not formal and rng.random() < 0.04:
        return [*steps, (take + _hours(rng.expovariate(1 / 2)), Transition.WAIT, {})]
    if formal:  # a first reply within days, the answer on the merits (the closing) within the 30 days
        reply = take + _hours(rng.uniform(1, 30))
        late = rng.random() < 0.08
        close = start + dt.timedelta(days=rng.uniform(31, 45) if late else rng.uniform(4, 29))
    else:
        reply = take + _hours(rng.expovariate(1 / 3))
        if rng.random() < 0.05:  # stuck: nobody answers for days or weeks
            reply += dt.timedelta(days=rng.uniform(3, 35))
        close = reply + dt.timedelta(days=rng.expovariate(1 / 1.5))
    return [*steps, (reply, Transition.REPLY, {}), (close, Transition.CLOSE, {})]


def template_appeal(
    rng: random.Random, registry: Registry, received_at: dt.datetime, *, now: dt.datetime, recent: bool
):
    """One appeal as the system holds it at `now` (recent) or once finished (old), by the application's code."""
    from appeals import sla
    from appeals.models import TRANSITIONS, AppealKind, Transition
    from appeals.services.intake import AppealInput, appeal_build
    from appeals.services.sweep import _sweep_one

    region = _pick(rng, registry.region_weights)
    organization = _pick(rng, registry.organizations[region.pk])
    pages = registry.pages[organization.pk]
    page = _pick(rng, [(page, PLATFORM_WEIGHT[page.platform]) for page in pages])
    formal = rng.random() < 0.2
    channels = APPEAL_CHANNELS if formal else MESSAGE_CHANNELS
    data = AppealInput(
        kind=AppealKind.APPEAL if formal else AppealKind.MESSAGE,
        channel=_pick(rng, list(channels)),
        text=_pick(rng, list(TEXTS)),
        received_at=received_at,
        author_platform_id=str(rng.randrange(10**8, 10**9)),
        author_name=rng.choice(NAMES),
        category=rng.choice(registry.categories) if rng.random() < 0.7 else None,
        priority=rng.choices(("normal", "high", "urgent", "low"), weights=(90, 6, 1, 3))[0],
    )
    # A formal appeal is registered within three days (59-FZ), a message as it arrives.
    delay = dt.timedelta(hours=rng.uniform(0, 24)) if formal else dt.timedelta(seconds=rng.randrange(5, 600))
    registered_at = received_at + delay
    appeal = appeal_build(
        organization=organization, page=page, data=data, now=registered_at, registered_at=registered_at
    )
    schedule = registry.schedules.get(organization.pk)
    if schedule is None:
        schedule = registry.schedules[organization.pk] = sla.schedule_for(organization)
    operator = registry.operators[organization.pk]
    last = registered_at
    steps = plan_lifecycle(rng, appeal, recent=recent)
    for index, (moment, transition, fields) in enumerate(steps):
        if recent and moment > now:
            break  # not happened yet
        if not recent:  # an old template is finished before `now` whatever its plan
            moment = min(moment, now - dt.timedelta(minutes=10 * (len(steps) - index)))
        moment = max(moment, last + dt.timedelta(minutes=1))
        _sweep_one(appeal, schedule, moment)  # the sweep's own step: the lines crossed before this one
        appeal.status = TRANSITIONS[transition][appeal.status]  # KeyError: the table refuses the move
        for name, value in fields.items():
            setattr(appeal, name, value)
        # What each service sets (appeals.services.lifecycle): take, reply, close, reject, wait.
        if transition in (Transition.TAKE, Transition.REPLY) and appeal.assignee_id is None:
            appeal.assignee_id = operator
        if transition == Transition.REPLY and appeal.first_responded_at is None:
            appeal.first_responded_at = moment
            appeal.sla_warned_percent = 0
        if transition in (Transition.CLOSE, Transition.REJECT):
            appeal.resolved_at = moment
        if transition == Transition.CLOSE:
            appeal.closed_at = moment
        if transition == Transition.WAIT:
            appeal.paused_at = moment
        sla.refresh_tracking(appeal, schedule, now=moment)
        last = moment
    if recent:
        _sweep_one(appeal, schedule, now)
    assert not appeal.pauses  # a copy moves its moments, never the ones inside `pauses`
    appeal.updated_at = last
    return appeal


def compute_templates(rng: random.Random, registry: Registry, now: dt.datetime) -> list[tuple]:
    """Numbered template rows: 0.. the recent ones in order of receipt, then the old ones."""
    recent_start = now - dt.timedelta(weeks=RECENT_WEEKS)
    old_start = recent_start - dt.timedelta(weeks=1)
    recent = [
        template_appeal(rng, registry, _received_in(rng, recent_start, now), now=now, recent=True)
        for _ in range(RECENT_TEMPLATES)
    ]
    recent.sort(key=lambda appeal: appeal.received_at)
    old = [
        template_appeal(rng, registry, _received_in(rng, old_start, recent_start), now=now, recent=False)
        for _ in range(OLD_TEMPLATES)
    ]
    return [
        (number, *(getattr(appeal, column) for column in TEMPLATE_COLUMNS))
        for number, appeal in enumerate([*recent, *old])
    ]


def store_templates(rows: list[tuple]) -> None:
    """The templates into bench_template, each with the search vector the table's trigger computes for it.

    The rows are loaded later with the triggers off, so each template goes once through the real table first
    (trigger, constraints, foreign keys) and keeps the vector the trigger made; then the table is emptied.
    """
    columns = ", ".join(TEMPLATE_COLUMNS)
    execute(
        f"CREATE UNLOGGED TABLE bench_template AS SELECT 0 AS number, {columns}, search_vector "
        "FROM appeals_appeal WITH NO DATA"
    )
    copy_rows("bench_template", ("number", *TEMPLATE_COLUMNS), rows)
    execute("ALTER TABLE bench_template ADD PRIMARY KEY (number)")
    execute(
        f"""
        INSERT INTO appeals_appeal (external_id, pauses, created_at, {columns})
        SELECT 'bench-template-' || number, '[]'::jsonb, registered_at, {columns} FROM bench_template
        """
    )
    execute(
        """
        UPDATE bench_template t SET search_vector = a.search_vector
        FROM appeals_appeal a WHERE a.external_id = 'bench-template-' || t.number
        """
    )
    execute("DELETE FROM appeals_appeal")
    missing = execute("SELECT count(*) FROM bench_template WHERE search_vector IS NULL")[0][0]
    if missing:
        raise RuntimeError(f"{missing} templates without a search vector: is the trigger of migration 0012 there?")


def generate_rows(size: int, progress: Progress) -> None:
    """Rows 1..size from the templates: the old ones over the year (ids in time order), then the recent ones."""
    recent_rows = round(size * RECENT_WEEKS / SPAN_WEEKS)
    old_rows = size - recent_rows
    old_weeks = SPAN_WEEKS - RECENT_WEEKS
    plain = ", ".join(f"t.{column}" for column in PLAIN_COLUMNS)
    moved = ", ".join(f"t.{column} - m.shift" for column in TIME_COLUMNS)
    with bulk_loading(progress):
        for low in range(1, size + 1, CHUNK_ROWS):
            high = min(low + CHUNK_ROWS - 1, size)
            execute(
                f"""
                INSERT INTO appeals_appeal (id, external_id, pauses, created_at, search_vector,
                                            {", ".join(PLAIN_COLUMNS)}, {", ".join(TIME_COLUMNS)})
                SELECT m.g, 'b' || m.g, '[]'::jsonb, t.registered_at - m.shift, t.search_vector, {plain}, {moved}
                FROM (
                    SELECT g,
                           CASE WHEN g <= %(old_rows)s
                                THEN %(recent)s + (g * 7919) %% %(old)s
                                ELSE ((g - %(old_rows)s - 1) * %(recent)s) / %(recent_rows)s
                           END AS number,
                           make_interval(
                               weeks => CASE WHEN g <= %(old_rows)s
                                             THEN (%(weeks)s - 1 - ((g - 1) * %(weeks)s) / %(old_rows)s)::int
                                             ELSE 0 END,
                               mins => ((g * 37) %% 60)::int
                           ) AS shift
                    FROM generate_series(%(low)s::bigint, %(high)s::bigint) AS g
                ) m
                JOIN bench_template t ON t.number = m.number
                """,
                {
                    "old_rows": old_rows,
                    "recent_rows": recent_rows,
                    "recent": RECENT_TEMPLATES,
                    "old": OLD_TEMPLATES,
                    "weeks": old_weeks,
                    "low": low,
                    "high": high,
                },
            )
            progress(f"  rows {low:,} .. {high:,} inserted")


# Databases ---------------------------------------------------------------------------------------------------


def use_database(url: str) -> None:
    """Point Django's connection at another bench database on the same server."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = database_name(url)


def read_meta(url: str) -> dict | None:
    import psycopg

    try:
        with psycopg.connect(url) as connection:
            row = connection.execute("SELECT value FROM bench_meta WHERE key = 'state'").fetchone()
    except psycopg.Error:
        return None
    return json.loads(row[0]) if row else None


def write_meta(meta: dict) -> None:
    execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL)")
    execute(
        "INSERT INTO bench_meta VALUES ('state', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        [json.dumps(meta, sort_keys=True)],
    )


def build_small(url: str, size: int, progress: Progress) -> dict:
    """A fresh database: migrated, the registry, the templates, `size` rows; its meta describes the build."""
    from django.core.management import call_command

    name = database_name(url)
    use_database(url)
    admin_execute(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0, interactive=False)
    progress(f"database {name} created and migrated")
    rng = random.Random(2026)
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    registry = create_registry(rng, progress)
    rows = compute_templates(rng, registry, now)
    store_templates(rows)
    progress(f"{len(rows):,} templates computed by the application's code and stored with their search vectors")
    operator_org = choose_operator_organization()
    add_operator_persona(operator_org)
    meta = {"version": META_VERSION, "build": secrets.token_hex(8), "now": now.isoformat(), "operator": operator_org}
    fill(url, size, meta, progress)
    return meta


def choose_operator_organization() -> int:
    """The Moscow organisation with the most templates: busy, but with well under 1% of all appeals."""
    (organization_id, _share) = execute(
        """
        SELECT t.organization_id, count(*)::float / (SELECT count(*) FROM bench_template)
        FROM bench_template t JOIN publics_region r ON r.id = t.region_id
        WHERE r.code = 'RU-MOW'
        GROUP BY t.organization_id
        HAVING count(*)::float / (SELECT count(*) FROM bench_template) < 0.01
        ORDER BY count(*) DESC, t.organization_id
        LIMIT 1
        """
    )[0]
    return organization_id


def fill(url: str, size: int, meta: dict, progress: Progress) -> None:
    progress(f"loading {size:,} appeals into {database_name(url)}")
    execute("TRUNCATE appeals_appealevent, appeals_reply, appeals_appeal CASCADE")
    generate_rows(size, progress)
    write_meta({**meta, "size": size})
    progress(f"{database_name(url)} ready")


def build_large(small_url: str, large_url: str, size: int, meta: dict, progress: Progress) -> None:
    """A copy of the small database (same registry, templates and personas), refilled with `size` rows."""
    from django.db import connection

    connection.close()
    name, template = database_name(large_url), database_name(small_url)
    admin_execute(
        large_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}" TEMPLATE "{template}"'
    )
    use_database(large_url)
    fill(large_url, size, meta, progress)


def prepare(args, small_url: str, large_url: str, progress: Progress) -> dict:
    """Reuse the kept databases when they match the arguments and each other, else build them."""
    small, large = read_meta(small_url), read_meta(large_url)
    fits = small is not None and small.get("version") == META_VERSION and small.get("size") == args.small
    if args.rebuild or not fits:
        small = build_small(small_url, args.small, progress)
        large = None
    else:
        progress(f"reusing {database_name(small_url)} (built {small['now']}; --rebuild to build afresh)")
        migrate_kept(small_url, progress)
    assert small is not None
    if large is None or large.get("build") != small["build"] or large.get("size") != args.large:
        build_large(small_url, large_url, args.large, {k: v for k, v in small.items() if k != "size"}, progress)
    else:
        progress(f"reusing {database_name(large_url)}")
        migrate_kept(large_url, progress)
    return small


def migrate_kept(url: str, progress: Progress) -> None:
    """A kept database gets the migrations added since its build (a new index is built on the kept rows)."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    use_database(url)
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        call_command("migrate", verbosity=0, interactive=False)
        execute("ANALYZE appeals_appeal")
        names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in pending)
        progress(f"  {database_name(url)}: applied {names}")


def describe(url: str) -> dict[str, Any]:
    """What the database holds, as of now."""
    use_database(url)
    (total, open_, overdue, breached, moscow, size) = execute(
        """
        SELECT count(*),
               count(*) FILTER (WHERE status IN ('new', 'in_progress', 'waiting', 'answered')),
               count(*) FILTER (WHERE status IN ('new', 'in_progress', 'answered') AND due_at < now()),
               count(*) FILTER (WHERE sla_state = 'breached'
                                   OR (sla_state IN ('on_track', 'at_risk') AND due_at < now())),
               count(*) FILTER (WHERE region_id = (SELECT id FROM publics_region WHERE code = 'RU-MOW')),
               pg_size_pretty(pg_total_relation_size('appeals_appeal'))
        FROM appeals_appeal
        """
    )[0]
    operator_org = execute(
        "SELECT organization_id FROM publics_membership m JOIN auth_user u ON u.id = m.user_id "
        "WHERE u.username = 'bench-operator'"
    )[0][0]
    operator = execute("SELECT count(*) FROM appeals_appeal WHERE organization_id = %s", [operator_org])[0][0]
    return {
        "total": total,
        "open": open_,
        "overdue": overdue,
        "breached": breached,
        "moscow": moscow,
        "operator": operator,
        "size": size,
    }


# Requests ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    key: str
    label: str
    persona: str  # admin, analyst, operator (token), session (the admin logged in through the form)
    path: str
    is_list: bool = True


API = "/api/v1/appeals/"
CHANGELIST = "/admin/appeals/appeal/"


def specs(admin_sort: str, detail_ids: dict[str, int]) -> list[Spec]:
    search = urlencode({"search": SEARCH})
    return [
        Spec("federal", "API: federation, default order", "admin", API),
        Spec("federal_due", "API: federation, ordering=due_at", "admin", f"{API}?ordering=due_at"),
        Spec("breached", "API: ?sla_state=breached", "admin", f"{API}?sla_state=breached"),
        Spec("region", "API: ?region=RU-MOW", "admin", f"{API}?region=RU-MOW"),
        Spec("analyst", "API: Moscow analyst, default", "analyst", API),
        Spec("operator", "API: operator, default", "operator", API),
        Spec("overdue", "API: ?is_overdue=true", "admin", f"{API}?is_overdue=true"),
        Spec("search", f"API: ?search={SEARCH}", "admin", f"{API}?{search}"),
        Spec("admin", "admin: page 1", "session", CHANGELIST),
        Spec("admin_due", "admin: sorted by deadline", "session", f"{CHANGELIST}?{admin_sort}"),
        Spec("admin_search", f"admin: search «{SEARCH}»", "session", f"{CHANGELIST}?{urlencode({'q': SEARCH})}"),
        Spec("detail", "reference: one appeal's detail", "admin", f"{API}{{id}}/", is_list=False),
    ]


class Client:
    """One keep-alive connection to one server (reopened by http.client when a sync worker closes it)."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
        self.headers = headers

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        for attempt in (1, 2):
            try:
                began = time.perf_counter()
                self.connection.request(method, path, body=body, headers={**self.headers, **(headers or {})})
                response = self.connection.getresponse()
                payload = response.read()
                return response, payload, time.perf_counter() - began
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()  # an idle connection the server closed: send again, timed afresh
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str) -> tuple[int, bytes, float]:
        response, payload, elapsed = self.request("GET", path)
        return response.status, payload, elapsed


def _cookies(response) -> dict[str, str]:
    found = {}
    for header in response.msg.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def admin_session(base_url: str) -> Client:
    """Log in as the federal administrator through the admin's login form; a client carrying the session."""
    client = Client(base_url, {})
    response, page, _ = client.request("GET", "/admin/login/?next=/admin/")
    cookies = _cookies(response)
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if response.status != 200 or match is None or "csrftoken" not in cookies:
        raise RuntimeError(f"admin login form: HTTP {response.status}")
    form = urlencode(
        {
            "csrfmiddlewaretoken": match.group(1).decode(),
            "username": "bench-admin",
            "password": PASSWORD,
            "next": "/admin/",
        }
    ).encode()
    response, _, _ = client.request(
        "POST",
        "/admin/login/?next=/admin/",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookies['csrftoken']}",
            "Referer": f"{base_url}/admin/login/",
        },
    )
    cookies |= _cookies(response)
    if response.status != 302 or "sessionid" not in cookies:
        raise RuntimeError(f"admin login refused: HTTP {response.status}")
    client.headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
    return client


def clients_for(base_url: str) -> dict[str, Client]:
    tokens = {
        "admin": "bench-admin",
        "analyst": "bench-analyst-moscow",
        "operator": "bench-operator",
    }
    clients = {
        persona: Client(base_url, {"Authorization": f"Token {token_for(username)}", "Accept": "application/json"})
        for persona, username in tokens.items()
    }
    clients["session"] = admin_session(base_url)
    return clients


def deadline_sort_query(client: Client) -> str:
    """The query string of the changelist's "due at" column header: what a click on it requests."""
    status, page, _ = client.get(CHANGELIST)
    match = re.search(rb'class="sortable column-due[^"]*">.*?<a href="\?([^"]+)"', page, re.S)
    if status != 200 or match is None:
        raise RuntimeError(f"changelist: HTTP {status}, no sortable «due at» column")
    return match.group(1).decode().replace("&amp;", "&")


def check(spec: Spec, status: int, payload: bytes) -> dict[str, Any]:
    """The answer is what a user gets: 200 and a page of rows. Returns what the API says about the count."""
    if status != 200:
        raise RuntimeError(f"{spec.label}: HTTP {status}: {payload[:300]!r}")
    if spec.persona == "session":
        if b'id="changelist"' not in payload:
            raise RuntimeError(f"{spec.label}: not the changelist")
        return {"rows": payload.count(b'class="field-id"')}
    body = json.loads(payload)
    if not spec.is_list:
        return {"rows": 1}
    return {"rows": len(body["results"]), "count": body["count"], "exact": body["count_is_exact"]}


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    rank = fraction * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# In-process: query counts and plans -------------------------------------------------------------------------


def run_in_process(spec: Spec, path: str) -> list[tuple[str, Any, float]]:
    """The request through Django's test client on the current database: its statements with their times."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client as DjangoClient

    username = {"admin": "bench-admin", "analyst": "bench-analyst-moscow", "operator": "bench-operator"}
    if spec.persona == "session":
        client = DjangoClient(HTTP_HOST="127.0.0.1")
        client.force_login(get_user_model().objects.get(username="bench-admin"))
    else:
        token = token_for(username[spec.persona])
        client = DjangoClient(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
    client.get(path)  # warm: memberships cached, as on a server that has served this user before
    statements: list[tuple[str, Any, float]] = []

    def timed(execute_sql, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute_sql(sql, params, many, context)
        finally:
            statements.append((sql, params, time.perf_counter() - began))

    with connection.execute_wrapper(timed):
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{spec.label} in-process: HTTP {response.status_code}")
    return statements


def explain(sql: str, params: Any) -> list[str]:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    return plan


def _short(sql: str, width: int = 110) -> str:
    flat = " ".join(sql.replace('"', "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


# Main --------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=50_000, help="appeals in the smaller database (default 50,000)")
    parser.add_argument("--large", type=int, default=5_000_000, help="appeals in the larger one (default 5,000,000)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per list and size (default 30)")
    parser.add_argument(
        "--rebuild", action="store_true", help="build both databases afresh (else kept ones are reused)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server (default 2)")
    args = parser.parse_args()
    if args.large <= args.small:
        parser.error("--large must be larger than --small")

    progress = Progress()
    progress(f"machine: {machine_load()}")
    small_url = bench_database_url(f"otklik_lists_bench_{size_label(args.small)}")
    large_url = bench_database_url(f"otklik_lists_bench_{size_label(args.large)}")
    import os

    os.environ["SECURE_SSL_REDIRECT"] = "false"  # the in-process requests are plain HTTP, as on loopback
    configure_django(small_url)
    import logging
    import warnings

    import django

    django.setup()
    logging.getLogger("axes").setLevel(logging.WARNING)  # a login line per in-process admin request
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
    from config.celery_app import app as celery_app

    celery_app.conf.broker_url = "memory://localhost/"  # nothing here queues a task; if it did, never a worker's
    meta = prepare(args, small_url, large_url, progress)
    sizes = {"small": (small_url, args.small), "large": (large_url, args.large)}
    names = {"small": f"{args.small:,}", "large": f"{args.large:,}"}
    built = dt.datetime.fromisoformat(meta["now"])
    print(f"\ndata built {built:%Y-%m-%d %H:%M} UTC ({(dt.datetime.now(dt.UTC) - built).days} days ago):")
    for key, (url, _size) in sizes.items():
        facts = describe(url)
        total = facts["total"]
        print(
            f"  {names[key]:>10} appeals ({facts['size']}): open {facts['open'] / total:.1%}, overdue "
            f"{facts['overdue']:,}, breached {facts['breached'] / total:.1%}, Moscow {facts['moscow'] / total:.1%}, "
            f"the operator's organisation {facts['operator']:,} ({facts['operator'] / total:.2%})"
        )
    from django.db import connection

    connection.close()

    from bench._server import gunicorn_server

    samples: dict[tuple[str, str], list[float]] = {}
    answers: dict[tuple[str, str], dict[str, Any]] = {}
    with (
        gunicorn_server(database_url=small_url, workers=args.workers) as small_server,
        gunicorn_server(database_url=large_url, workers=args.workers) as large_server,
    ):
        servers = {"small": small_server, "large": large_server}
        clients = {key: clients_for(server.base_url) for key, server in servers.items()}
        sort = deadline_sort_query(clients["small"]["session"])
        detail_ids = {}
        for key in servers:
            status, payload, _ = clients[key]["admin"].get(API)
            detail_ids[key] = json.loads(payload)["results"][0]["id"]
        requests = specs(sort, detail_ids)
        print(
            f"\ngunicorn: two servers ({args.workers} sync workers each), one per database; one client, "
            f"alternating between them; {WARM_UP} warm-up and {args.requests} timed requests per list and size"
        )
        print(f"machine before: {machine_load()}")

        def path_of(spec: Spec, key: str) -> str:
            return spec.path.format(id=detail_ids[key])

        for spec in requests:
            for key in servers:
                for _ in range(WARM_UP):
                    status, payload, _ = clients[key][spec.persona].get(path_of(spec, key))
                    answers[(spec.key, key)] = check(spec, status, payload)
        for round_number in range(args.requests):
            for spec in requests:
                order = list(servers) if round_number % 2 == 0 else list(reversed(servers))
                for key in order:
                    status, payload, elapsed = clients[key][spec.persona].get(path_of(spec, key))
                    check(spec, status, payload)
                    samples.setdefault((spec.key, key), []).append(elapsed * 1000)
        print(f"machine after:  {machine_load()}")

    # Query counts at both sizes, and the statements of each request at the large one, in-process.
    statements: dict[tuple[str, str], list[tuple[str, Any, float]]] = {}
    for key, (url, _size) in sizes.items():
        use_database(url)
        for spec in requests:
            statements[(spec.key, key)] = run_in_process(spec, spec.path.format(id=detail_ids[key]))

    p95 = {k: percentile(v, 0.95) for k, v in samples.items()}
    median = {k: statistics.median(v) for k, v in samples.items()}
    print()
    header = (
        f"{'request':<36} | {names['small'] + ' median':>15} {'p95':>8} | {names['large'] + ' median':>17} "
        f"{'p95':>8} | {'p95 ratio':>9} {'verdict':>8} | {'median ratio':>12} | {'queries':>9} | rows shown / count"
    )
    print(header)
    print("-" * len(header))
    for spec in requests:
        small_key, large_key = (spec.key, "small"), (spec.key, "large")
        ratio = p95[large_key] / p95[small_key]
        verdict = ("met" if ratio <= TARGET_RATIO else "NOT met") if spec.is_list else "(ref.)"
        queries = f"{len(statements[small_key])} / {len(statements[large_key])}"
        shown = []
        for key in ("small", "large"):
            answer = answers[(spec.key, key)]
            if "count" in answer:
                shown.append(f"{answer['rows']}/{answer['count']:,}{'' if answer['exact'] else '~'}")
            else:
                shown.append(str(answer["rows"]))
        print(
            f"{spec.label:<36} | {median[small_key]:>12.1f} ms {p95[small_key]:>5.1f} ms | "
            f"{median[large_key]:>14.1f} ms {p95[large_key]:>5.1f} ms | {ratio:>9.2f} {verdict:>8} | "
            f"{median[large_key] / median[small_key]:>12.2f} | {queries:>9} | {' ; '.join(shown)}"
        )
    lists = [spec for spec in requests if spec.is_list]
    met = sum(1 for spec in lists if p95[(spec.key, "large")] / p95[(spec.key, "small")] <= TARGET_RATIO)
    print(
        f"target: p95({names['large']}) / p95({names['small']}) <= {TARGET_RATIO} for each list: {met} of {len(lists)} met"
    )
    print(
        "(~ after a count: the planner's estimate, above the exact-count cap; rows shown: on the page; the median "
        "ratio is for reading the noise: on a loaded machine one stall moves a p95 of 30 requests)"
    )
    for key in ("small", "large"):
        federal, detail = p95[("federal", key)], p95[("detail", key)]
        verdict = "met" if federal <= DETAIL_FACTOR * detail else "NOT met"
        print(
            f"federation's default list at {names[key]}: p95 {federal:.1f} ms vs the detail GET's p95 {detail:.1f} ms "
            f"= {federal / detail:.1f}x; target at most {DETAIL_FACTOR}x: {verdict}"
        )

    slowest = sorted(lists, key=lambda spec: -p95[(spec.key, "large")])[:3]
    use_database(large_url)
    for spec in slowest:
        rows = statements[(spec.key, "large")]
        total = sum(duration for _, _, duration in rows) * 1000
        print(
            f"\n=== {spec.label} at {names['large']}: p95 {p95[(spec.key, 'large')]:.1f} ms; in-process "
            f"{len(rows)} queries, {total:.1f} ms of SQL ==="
        )
        for sql, _, duration in rows:
            print(f"  {duration * 1000:8.2f} ms  {_short(sql)}")
        # The count's planner estimate (EXPLAIN of the list's query) costs its planning: its plan is that query's.
        measured = [row for row in rows if not row[0].lstrip().upper().startswith("EXPLAIN")]
        for sql, params, duration in sorted(measured, key=lambda row: -row[2])[:2]:
            print(f"\n  EXPLAIN (ANALYZE, BUFFERS) of the {duration * 1000:.1f} ms statement: {_short(sql, 90)}")
            for line in explain(sql, params):
                print(f"    {line}")
    print(f"\nmachine: {machine_load()}")
    print(
        f"command: .venv/bin/python -m bench.lists --small {args.small} --large {args.large} --requests {args.requests}"
    )


if __name__ == "__main__":
    main()
