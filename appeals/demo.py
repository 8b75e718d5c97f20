"""Demo appeals for `make run`: every status and SLA state, and a few lines the sweep crosses while you watch.

Appeals are taken in and moved through their lifecycle by the real services, so their deadlines, history and
SLA bookkeeping are what production would store. Keyed on (page, external id «demo-N»): a second run adds
nothing. Texts are typical of what citizens write under official pages.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TextIO

from django.utils import timezone

from appeals import services
from appeals.models import Appeal, Category, SlaPolicy
from core.access import SYSTEM
from publics.demo import DemoRegistry
from publics.models import Page

DEMO_SEED = 59
TEXTS = [
    ("roads-potholes", "На улице Ленина у дома 12 огромная яма, машины объезжают по встречке. Когда отремонтируют?"),
    ("roads-snow", "Третий день не чистят тротуар у остановки «Школа», пожилые люди падают."),
    ("housing-heating", "В квартире +16, батареи еле тёплые. Управляющая компания не отвечает."),
    ("housing-waste", "Контейнерную площадку не вывозили неделю, мусор разносит ветром."),
    ("amenities-lighting", "Во дворе не горит ни один фонарь, вечером страшно идти с ребёнком."),
    ("amenities-playgrounds", "Сломаны качели на детской площадке, торчат болты."),
    ("health-appointments", "Невозможно записаться к эндокринологу, в Госуслугах нет талонов на месяц вперёд."),
    ("health-medicines", "Льготные лекарства не выдают уже второй месяц, аптека говорит — нет поставки."),
    ("education-kindergartens", "Сколько ещё ждать места в детском саду? Стоим в очереди с рождения."),
    ("education-meals", "Дети жалуются на качество питания в школьной столовой."),
    ("transport-schedule", "Автобус 25 ходит раз в час вместо 15 минут, люди опаздывают на работу."),
    ("transport-stops", "Снесли павильон остановки и не поставили новый."),
    ("social-benefits", "Подала документы на единое пособие месяц назад, ответа нет."),
    ("social-large-families", "Как многодетной семье получить бесплатную парковку?"),
    ("ecology-dumps", "За гаражами образовалась свалка строительного мусора."),
    ("safety-stray-animals", "Стая собак у школы, дети боятся ходить."),
]
NAMES = [
    "Анна Смирнова",
    "Сергей Иванов",
    "Ольга Кузнецова",
    "Дмитрий Попов",
    "Елена Соколова",
    "Игорь Лебедев",
    "Мария Новикова",
    "Алексей Морозов",
    "Наталья Волкова",
    "Павел Зайцев",
]
CHANNEL_BY_PLATFORM = {"vk": "comment", "ok": "comment", "max": "direct_message", "telegram": "direct_message"}

# Lifecycle scripts: steps applied after intake, each at a number of minutes after receipt.
SCRIPTS: list[list[tuple[str, int]]] = [
    [],
    [],
    [("take", 20)],
    [("take", 15), ("reply", 90)],
    [("reply", 45), ("close", 200)],
    [("take", 30), ("wait", 60)],
    [("reject", 10)],
    [("take", 25), ("redirect", 40)],
    [("convert", 30)],
    [("reply", 600), ("close", 900), ("reopen", 1500)],
]


def _demo_policy(admin) -> None:
    """A fast regional rule, so that a demo viewer sees the sweep warn and breach within minutes."""
    from publics.models import Region

    if SlaPolicy.objects.filter(name="Москва: личные сообщения (демо)").exists():
        return
    services.sla_policy_create(
        actor=admin,
        data={
            "name": "Москва: личные сообщения (демо)",
            "kind": "message",
            "channel": "direct_message",
            "region": Region.objects.get(code="RU-MOW"),
            "first_response_amount": 2,
            "first_response_unit": "calendar_hours",
            "resolution_amount": 1,
            "resolution_unit": "calendar_days",
            "warn_at": [50, 80],
        },
    )


def seed_appeals(registry: DemoRegistry, *, stdout: TextIO, count: int = 160) -> int:
    """Create the demo appeals if they are not there yet; returns how many were created."""
    created = seed_school_desk(registry, stdout=stdout)
    if Appeal.objects.filter(external_id__startswith="demo-").exists():
        stdout.write("Demo appeals: already there.\n")
    else:
        created += _seed_spread(registry, stdout=stdout, count=count)
    # Bring the stored SLA states up to now (what beat's sweep does within a minute): the queue's badges and
    # filters read them. A second seed at the same moment finds nothing left to announce.
    services.sla_sweep()
    return created


def _seed_spread(registry: DemoRegistry, *, stdout: TextIO, count: int) -> int:
    """`count` appeals over all the demo's pages, in the lifecycle SCRIPTS."""
    created = 0
    admin = registry.users["admin"]
    _demo_policy(admin)
    rng = random.Random(DEMO_SEED)
    now = timezone.now()
    pages = sorted(registry.pages.values(), key=lambda page: page.pk)
    pages = list(Page.objects.filter(pk__in=[page.pk for page in pages]).select_related("organization__region"))
    operators = {
        membership.organization_id: membership.user
        for user in registry.users.values()
        for membership in user.memberships.filter(role="operator")
    }
    categories = {category.code: category for category in Category.objects.all()}
    for number in range(count):
        page = pages[number % len(pages)]
        code, text = TEXTS[number % len(TEXTS)]
        # Most arrived over the last ten days; untouched ones (scripts 0 and 1) partly in the last hour, so that
        # the sweep crosses their lines while the demo runs.
        live = number % len(SCRIPTS) in (0, 1) and number % 3 == 0
        age = dt.timedelta(minutes=rng.randint(50, 65)) if live else dt.timedelta(hours=rng.randint(2, 240))
        received_at = now - age
        kind = "appeal" if number % 7 == 0 else "message"
        appeal, _ = services.appeal_create(
            actor=SYSTEM,
            page=page,
            data=services.AppealInput(
                kind=kind,
                channel=CHANNEL_BY_PLATFORM[page.platform],
                text=text,
                received_at=received_at,
                external_id=f"demo-{number}",
                author_platform_id=str(100000 + number),
                author_name=NAMES[number % len(NAMES)],
                category=categories.get(code),
                priority="high" if number % 11 == 0 else "normal",
            ),
            now=received_at,
        )
        created += 1
        actor = operators.get(page.organization_id) or admin
        script = SCRIPTS[number % len(SCRIPTS)]
        if kind == "appeal":
            script = [(step, minutes) for step, minutes in script if step != "convert"]
        _play(appeal, script, actor=actor, received_at=received_at, now=now, registry=registry)
    stdout.write(f"Demo appeals: {count} created across {len(pages)} pages.\n")
    return created


def _play(appeal: Appeal, script, *, actor, received_at: dt.datetime, now: dt.datetime, registry: DemoRegistry) -> None:
    other = next(org for org in registry.organizations.values() if org.pk != appeal.organization_id)
    steps = {
        "take": (services.appeal_take, {}),
        "reply": (services.appeal_reply, {"text": "Здравствуйте! Передали вопрос в ответственную службу."}),
        "close": (services.appeal_close, {}),
        "wait": (services.appeal_wait, {"reason": "Уточните, пожалуйста, адрес."}),
        "reject": (services.appeal_reject, {"reason": "spam"}),
        "redirect": (
            services.appeal_redirect,
            {"organization": other, "reason": "Вопрос в компетенции другого органа"},
        ),
        "convert": (services.appeal_convert, {"reason": "Заявитель просит официальный ответ"}),
        "reopen": (services.appeal_reopen, {"reason": "Заявитель сообщил, что проблема не решена"}),
    }
    for step, minutes in script:
        service, arguments = steps[step]
        moment = min(received_at + dt.timedelta(minutes=minutes), now)
        service(actor=actor, appeal_id=appeal.pk, now=moment, **arguments)


# The school's desk (operator_school): one appeal or more in every state an operator meets, so the whole
# workflow can be tried. Direct messages to a Moscow page fall under the demo's fast rule (first answer in 2
# calendar hours, resolution in 1 calendar day), so the states do not depend on the weekday the seed runs on.
# Each entry: external id, platform, kind, minutes since receipt, text, author, the steps (name, minutes after
# receipt). Keyed on (page, external id «desk-…»), each created once.
SchoolStep = tuple[str, int]
SCHOOL_DESK: list[tuple[str, str, str, int, str, str, list[SchoolStep]]] = [
    ("desk-new", "vk", "message", 10, "Здравствуйте! Когда начнётся запись в первый класс на следующий год?",
     "Ирина Белова", []),
    ("desk-new-2", "max", "message", 25, "Можно ли забрать ребёнка после третьего урока по заявлению родителей?",
     "Олег Тихонов", []),
    ("desk-at-risk", "vk", "message", 100, "В кабинете 204 третью неделю не работает отопление, дети сидят в куртках.",
     "Светлана Гусева", []),
    ("desk-overdue", "vk", "message", 300, "Почему в столовой снова подают холодный обед? Ответьте, пожалуйста.",
     "Максим Орлов", []),
    ("desk-in-progress", "max", "message", 40, "Не приходит код для входа в электронный дневник.",
     "Татьяна Ершова", [("take", 5), ("note", 10)]),
    ("desk-in-progress-late", "vk", "message", 200, "Куда обращаться, если у ребёнка пропал телефон в раздевалке?",
     "Артём Лазарев", [("take", 30)]),
    ("desk-waiting", "vk", "message", 60, "Хочу перевести сына в вашу школу. Какие документы нужны?",
     "Юлия Крылова", [("take", 10), ("wait", 20)]),
    ("desk-answered", "vk", "message", 90, "Будет ли продлёнка в каникулы?",
     "Виктор Панов", [("take", 5), ("reply", 40)]),
    ("desk-answered-late", "max", "message", 420, "Когда выдадут учебники для 7 «Б»? Прошёл уже месяц учёбы.",
     "Лариса Фомина", [("take", 60), ("reply", 240)]),
    ("desk-closed", "vk", "message", 3 * 24 * 60, "Спасибо учителям за праздник 1 сентября! Будут ли фотографии?",
     "Галина Сорокина", [("reply", 30), ("close", 24 * 60)]),
    ("desk-rejected", "vk", "message", 5 * 60, "Продаю недорого репетиторские услуги, пишите в личку!!!",
     "Реклама", [("reject", 15)]),
    ("desk-redirected", "vk", "message", 8 * 60, "У школы на переходе не работает светофор.",
     "Кирилл Мельников", [("take", 10), ("redirect", 45)]),
    ("desk-duplicate-of", "vk", "message", 26 * 60, "Во дворе школы сломаны ворота, закрыть территорию нельзя.",
     "Роман Жуков", [("take", 20), ("reply", 60)]),
    ("desk-duplicate", "max", "message", 25 * 60, "Сломаны ворота у школы, кто будет чинить?",
     "Роман Жуков", [("duplicate", 30)]),
    ("desk-reopened", "vk", "message", 2 * 24 * 60, "Обещали починить раковину на 2 этаже — так и не починили.",
     "Наталья Кравец", [("reply", 50), ("close", 8 * 60), ("reopen", 24 * 60)]),
    ("desk-formal", "vk", "appeal", 4 * 24 * 60, "Прошу официально разъяснить порядок зачисления в 10 класс.",
     "Евгений Баранов", [("take", 60), ("extend", 2 * 24 * 60)]),
    ("desk-converted", "vk", "message", 6 * 60, "Прошу дать официальный ответ: почему отменили кружок робототехники?",
     "Дарья Никитина", [("take", 15), ("convert", 30)]),
    ("desk-mine", "vk", "message", 70, "Подскажите расписание консультаций перед ОГЭ.",
     "Михаил Ковалёв", [("assign", 5)]),
]  # fmt: skip


def seed_school_desk(registry: DemoRegistry, *, stdout: TextIO, now: dt.datetime | None = None) -> int:
    """Create the school's desk appeals that are missing (each by its external id); returns how many were created."""
    operator = registry.users["operator_school"]
    admin = registry.users["admin"]
    _demo_policy(admin)
    now = now or timezone.now()
    pages = {
        platform: Page.objects.select_related("organization__region").get(
            pk=registry.pages[("mow_school", platform)].pk
        )
        for platform in ("vk", "max")
    }
    existing = set(
        Appeal.objects.filter(page__in=pages.values(), external_id__startswith="desk-").values_list(
            "external_id", flat=True
        )
    )
    by_key: dict[str, Appeal] = {
        appeal.external_id: appeal
        for appeal in Appeal.objects.filter(page__in=pages.values(), external_id__in=existing)
    }
    other = registry.organizations["mow_edu"]
    created = 0
    for key, platform, kind, age, text, author, steps in SCHOOL_DESK:
        if key in existing:
            continue
        received_at = now - dt.timedelta(minutes=age)
        appeal, _ = services.appeal_create(
            actor=SYSTEM,
            page=pages[platform],
            data=services.AppealInput(
                kind=kind,
                channel="direct_message",
                text=text,
                received_at=received_at,
                external_id=key,
                author_platform_id=f"7{age:06d}",
                author_name=author,
                category=None,
                priority="normal",
            ),
            now=received_at,
        )
        by_key[key] = appeal
        created += 1
        for step, minutes in steps:
            moment = min(received_at + dt.timedelta(minutes=minutes), now)
            _school_step(step, appeal, actor=operator, admin=admin, other=other, by_key=by_key, now=moment)
    stdout.write(f"Demo desk of operator_school: {created} appeals created.\n")
    return created


def _school_step(step: str, appeal: Appeal, *, actor, admin, other, by_key: dict[str, Appeal], now) -> None:
    calls = {
        "take": lambda: services.appeal_take(actor=actor, appeal_id=appeal.pk, now=now),
        "assign": lambda: services.appeal_assign(actor=actor, appeal_id=appeal.pk, assignee=actor, now=now),
        "note": lambda: services.appeal_note(
            actor=actor, appeal_id=appeal.pk, text="Проверила: аккаунт родителя активен, передала в ИТ-службу.", now=now
        ),
        "reply": lambda: services.appeal_reply(
            actor=actor,
            appeal_id=appeal.pk,
            text=f"Здравствуйте, {appeal.author_name.split()[0]}! Спасибо за обращение, ответили по существу вопроса.",
            now=now,
        ),
        "wait": lambda: services.appeal_wait(
            actor=actor, appeal_id=appeal.pk, reason="Уточните, пожалуйста, в какой класс переходит ребёнок.", now=now
        ),
        "close": lambda: services.appeal_close(actor=actor, appeal_id=appeal.pk, now=now),
        "reject": lambda: services.appeal_reject(actor=actor, appeal_id=appeal.pk, reason="spam", now=now),
        "redirect": lambda: services.appeal_redirect(
            actor=actor, appeal_id=appeal.pk, organization=other, reason="Светофоры — не в ведении школы", now=now
        ),
        "duplicate": lambda: services.appeal_mark_duplicate(
            actor=actor, appeal_id=appeal.pk, original=by_key["desk-duplicate-of"], reason="Тот же вопрос", now=now
        ),
        "reopen": lambda: services.appeal_reopen(
            actor=actor, appeal_id=appeal.pk, reason="Заявитель сообщил, что раковину так и не починили", now=now
        ),
        "extend": lambda: services.appeal_extend(
            actor=admin, appeal_id=appeal.pk, reason="Нужен ответ департамента образования", now=now
        ),
        "convert": lambda: services.appeal_convert(
            actor=actor, appeal_id=appeal.pk, reason="Заявитель просит официальный ответ", now=now
        ),
    }
    calls[step]()
