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
    if Appeal.objects.filter(external_id__startswith="demo-").exists():
        stdout.write("Demo appeals: already there.\n")
        return 0
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
    created = 0
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
    stdout.write(f"Demo appeals: {created} created across {len(pages)} pages.\n")
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
