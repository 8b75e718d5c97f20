"""Realistic platform payloads and helpers for the connectors' tests."""

import json
from typing import Any

import pytest
from django.test import Client

from publics.models import Page

T0 = 1_795_000_000  # 2026-11-19 ~ 08:26 UTC, a platform's Unix time


@pytest.fixture
def vk_page(world) -> Page:
    page = world.page_a
    page.platform_id = "218000111"
    page.webhook_secret = "vk-secret-Ab3"
    page.confirmation_code = "5f1a9c2e"
    page.access_token = "vk1.a.community-token"
    page.save()
    return page


@pytest.fixture
def max_page(world) -> Page:
    page = world.page_b
    page.platform_id = "-72000123456"
    page.webhook_secret = "max_Secret-42"
    page.access_token = "max-bot-token"
    page.save()
    return page


@pytest.fixture
def tg_page(world) -> Page:
    from tests.factories import PageFactory

    return PageFactory(
        organization=world.org_a,
        platform="telegram",
        platform_id="-1001234567890",
        url="https://t.me/school1_moscow",
        webhook_secret="tg_secret_token-9",
        access_token="123456:TEST-bot-token",
    )


@pytest.fixture
def hook():
    """`hook(page, payload, headers=None, platform=None)`: POST a delivery to the page's webhook."""
    client = Client()

    def post(page: Page, payload: Any, *, headers: dict | None = None, platform: str | None = None, raw=None):
        body = raw if raw is not None else json.dumps(payload, ensure_ascii=False)
        return client.post(
            f"/api/v1/webhooks/{platform or page.platform}/{page.pk}/",
            data=body,
            content_type="application/json",
            headers=headers or {},
        )

    post.client = client
    return post


def vk(page: Page, event_type: str, obj: dict, *, event_id: str | None = None, secret: str | None = None) -> dict:
    return {
        "type": event_type,
        "event_id": event_id or f"{event_type}-{abs(hash(json.dumps(obj, sort_keys=True))) % 10**12:x}",
        "v": "5.199",
        "object": obj,
        "group_id": int(page.platform_id),
        "secret": page.webhook_secret if secret is None else secret,
    }


def vk_comment(page: Page, *, comment_id=501, from_id=7001, text="Когда уберут снег во дворе на Лесной, 5?", **extra):
    obj = {
        "id": comment_id,
        "from_id": from_id,
        "date": T0,
        "text": text,
        "post_id": 88,
        "owner_id": -int(page.platform_id),
        "parents_stack": [],
        "thread": {"count": 0, "items": [], "can_post": True, "show_reply_button": True, "groups_can_post": True},
    }
    obj.update(extra)
    return obj


def vk_message(*, message_id=9001, from_id=7002, text="Здравствуйте! Почему не работает кружок?", date=T0, **extra):
    obj = {
        "date": date,
        "from_id": from_id,
        "id": message_id,
        "out": 0,
        "version": 10000123,
        "attachments": [],
        "conversation_message_id": 15,
        "fwd_messages": [],
        "important": False,
        "is_hidden": False,
        "peer_id": from_id,
        "random_id": 0,
        "text": text,
    }
    obj.update(extra)
    return obj


CLIENT_INFO = {
    "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback"],
    "keyboard": True,
    "inline_keyboard": True,
    "carousel": True,
    "lang_id": 0,
}


def max_update(
    update_type: str,
    *,
    mid="mid.0000018c2f1e3b7a",
    user_id=5550001,
    chat_type="dialog",
    text="Добрый день, вопрос по записи",
    ts=T0 * 1000,
    **extra,
):
    message = {
        "sender": {
            "user_id": user_id,
            "name": "Анна Смирнова",
            "username": None,
            "is_bot": False,
            "last_activity_time": ts,
        },
        "recipient": {"chat_id": 4400123, "chat_type": chat_type, "user_id": 9990001},
        "timestamp": ts,
        "body": {"mid": mid, "seq": 113390211, "text": text, "attachments": []},
    }
    message.update(extra)
    return {"update_type": update_type, "timestamp": ts + 15, "message": message, "user_locale": "ru"}


def tg_private(update_id=700001, *, message_id=41, text="Подскажите график работы приёмной"):
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": {"id": 30001, "is_bot": False, "first_name": "Пётр", "last_name": "Иванов", "language_code": "ru"},
            "chat": {"id": 30001, "first_name": "Пётр", "last_name": "Иванов", "type": "private"},
            "date": T0,
            "text": text,
        },
    }


DISCUSSION = {"id": -1009876543210, "title": "Школа №1 — обсуждение", "type": "supergroup"}


def tg_comment(page: Page, update_id=700101, *, message_id=310, text="А когда починят отопление в спортзале?"):
    forward = {
        "message_id": 300,
        "sender_chat": {"id": int(page.platform_id), "title": "Школа №1", "type": "channel"},
        "chat": DISCUSSION,
        "date": T0 - 600,
        "is_automatic_forward": True,
        "forward_origin": {
            "type": "channel",
            "chat": {"id": int(page.platform_id), "type": "channel"},
            "message_id": 55,
            "date": T0 - 601,
        },
        "text": "Новости школы",
    }
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": {"id": 30002, "is_bot": False, "first_name": "Мария", "username": "maria_k"},
            "chat": DISCUSSION,
            "date": T0,
            "message_thread_id": 300,
            "reply_to_message": forward,
            "text": text,
        },
    }
