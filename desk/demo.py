"""Demo response templates for `manage.py seed_demo`: a few for the school, one federal. Safe to run again."""

from __future__ import annotations

from typing import Any

from desk.models import ResponseTemplate

TEMPLATES = [
    (
        "mow_school",
        "Благодарность за сообщение",
        "{citizen_name}, здравствуйте! Спасибо, что написали. Мы передали ваше обращение ответственному сотруднику "
        "и сообщим о результате. {organization_name}",
    ),
    (
        "mow_school",
        "Запрос уточнений",
        "{citizen_name}, здравствуйте! Чтобы разобраться, уточните, пожалуйста, класс ребёнка и дату, о которой "
        "идёт речь. Обращение №{appeal_number}.",
    ),
    (
        None,
        "Перенаправление по компетенции",
        "{citizen_name}, здравствуйте! Вопрос относится к другому ведомству; мы переслали ваше обращение туда. "
        "{organization_name}",
    ),
]


def seed_templates(registry: Any, *, stdout) -> None:
    created = 0
    for key, title, text in TEMPLATES:
        organization = registry.organizations.get(key) if key else None
        if key and organization is None:
            continue
        _template, made = ResponseTemplate.objects.get_or_create(
            organization=organization, category=None, title=title, defaults={"text": text}
        )
        created += made
    stdout.write(f"Demo response templates: {len(TEMPLATES)} ({created} new).")
