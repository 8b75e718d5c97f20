"""Reference data loaded by migration: the topic tree and the default federal SLA policies."""

# (code, name, [(code, name), ...]): two levels, as on Gosuslugi's feedback platform.
CATEGORIES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "roads",
        "Дороги",
        [
            ("roads-potholes", "Ямы и разрушения покрытия"),
            ("roads-snow", "Уборка снега и наледи"),
            ("roads-traffic-lights", "Светофоры и дорожные знаки"),
            ("roads-parking", "Парковки"),
            ("roads-sidewalks", "Тротуары и пешеходные переходы"),
        ],
    ),
    (
        "housing",
        "ЖКХ",
        [
            ("housing-heating", "Отопление"),
            ("housing-water", "Водоснабжение и канализация"),
            ("housing-electricity", "Электроснабжение"),
            ("housing-waste", "Вывоз мусора"),
            ("housing-repairs", "Капитальный ремонт и кровля"),
            ("housing-management", "Работа управляющих компаний"),
        ],
    ),
    (
        "amenities",
        "Благоустройство",
        [
            ("amenities-yards", "Дворы"),
            ("amenities-lighting", "Уличное освещение"),
            ("amenities-parks", "Парки и скверы"),
            ("amenities-playgrounds", "Детские и спортивные площадки"),
        ],
    ),
    (
        "health",
        "Здравоохранение",
        [
            ("health-appointments", "Запись к врачу"),
            ("health-medicines", "Лекарственное обеспечение"),
            ("health-clinics", "Работа поликлиник и больниц"),
            ("health-ambulance", "Скорая помощь"),
        ],
    ),
    (
        "education",
        "Образование",
        [
            ("education-schools", "Школы"),
            ("education-kindergartens", "Детские сады и очередь"),
            ("education-meals", "Школьное питание"),
            ("education-extra", "Дополнительное образование"),
        ],
    ),
    (
        "transport",
        "Общественный транспорт",
        [
            ("transport-routes", "Маршруты"),
            ("transport-schedule", "Расписание и интервалы"),
            ("transport-fares", "Стоимость проезда и льготы"),
            ("transport-stops", "Остановки"),
        ],
    ),
    (
        "social",
        "Социальная поддержка",
        [
            ("social-benefits", "Пособия и выплаты"),
            ("social-large-families", "Многодетные семьи"),
            ("social-disability", "Поддержка людей с инвалидностью"),
            ("social-elderly", "Пенсионеры"),
            ("social-svo", "Поддержка участников СВО и их семей"),
        ],
    ),
    (
        "ecology",
        "Экология",
        [
            ("ecology-dumps", "Несанкционированные свалки"),
            ("ecology-air", "Загрязнение воздуха"),
            ("ecology-trees", "Зелёные насаждения"),
        ],
    ),
    (
        "safety",
        "Безопасность",
        [
            ("safety-stray-animals", "Безнадзорные животные"),
            ("safety-emergency", "Чрезвычайные ситуации"),
        ],
    ),
    (
        "other",
        "Другое",
        [
            ("other-culture", "Культура и спорт"),
            ("other-economy", "Экономика и работа"),
        ],
    ),
]

# Federal defaults (no filters but kind): the least specific policies, which regions refine.
DEFAULT_POLICIES = [
    {
        # Messages: regional practice ranges from 8 working hours (Ulyanovsk) to 3 days (Arkhangelsk).
        "name": "Сообщения: федеральные сроки по умолчанию",
        "kind": "message",
        "first_response_amount": 8,
        "first_response_unit": "working_hours",
        "resolution_amount": 5,
        "resolution_unit": "working_days",
        "extension_amount": None,
        "extension_unit": "",
        "warn_at": [50, 80],
    },
    {
        # 59-FZ: registered within 3 days, answered within 30 days of registration, extended once by 30.
        "name": "Обращения по 59-ФЗ",
        "kind": "appeal",
        "first_response_amount": 3,
        "first_response_unit": "calendar_days",
        "resolution_amount": 30,
        "resolution_unit": "calendar_days",
        "extension_amount": 30,
        "extension_unit": "calendar_days",
        "warn_at": [50, 80],
    },
]


def load_reference_data(category_model, policy_model) -> None:
    """Create what is missing; safe to run again (keys: category code, policy name for version 1)."""
    for code, name, children in CATEGORIES:
        parent, _ = category_model.objects.get_or_create(code=code, defaults={"name": name})
        for child_code, child_name in children:
            category_model.objects.get_or_create(code=child_code, defaults={"name": child_name, "parent": parent})
    for values in DEFAULT_POLICIES:
        if policy_model.objects.filter(name=values["name"]).exists():
            continue
        policy = policy_model.objects.create(lineage=0, version=1, is_current=True, **values)
        policy.lineage = policy.pk
        policy.save(update_fields=["lineage"])
