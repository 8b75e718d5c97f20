"""Telegram: Bot API Updates in (domain.md section 8), `sendMessage` with `reply_parameters` out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import httpx
from django.conf import settings

from appeals.models import Channel
from connectors.platforms.base import (
    Accepted,
    Action,
    Answer,
    BadPayload,
    Call,
    CommunityAnswer,
    Edited,
    Forbidden,
    Ignored,
    Incoming,
    SendResult,
    as_dict,
    as_id,
    from_unix,
    http_failure,
    network_failure,
    object_or_empty,
    secret_matches,
    text_of,
)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105  # a header name, not a secret
HANDLED = ("message", "edited_message", "channel_post")
PAGE_RATE = 30  # messages per second per bot
CONVERSATION_RATE = 1  # about one message per second per chat
IDEMPOTENT = False  # sendMessage takes no idempotency key


def accept(page: Any, headers: Mapping[str, str], payload: dict[str, Any]) -> Accepted | Answer:
    if not secret_matches(headers.get(SECRET_HEADER), page.webhook_secret):
        raise Forbidden("secret")
    update_id = payload.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise BadPayload("update_id missing")
    kind = next((name for name in HANDLED if name in payload), None)
    if kind is None:
        return Answer("ok")
    as_dict(payload[kind], kind)
    return Accepted(key=str(update_id), event_type=kind)


def _text(message: dict[str, Any]) -> str:
    text = text_of(message.get("text")) or text_of(message.get("caption"))
    if text:
        return text
    kinds = [k for k in ("photo", "video", "document", "voice", "audio", "sticker", "location") if k in message]
    return f"[{', '.join(kinds)}]"


def _name(user: dict[str, Any]) -> str:
    parts = (text_of(user.get("first_name")), text_of(user.get("last_name")))
    return (" ".join(p for p in parts if p) or text_of(user.get("username")))[:200]


def _link(chat: dict[str, Any], message_id: str, thread: Any = None) -> str:
    suffix = f"?thread={thread}" if thread else ""
    if chat.get("username"):
        return f"https://t.me/{chat['username']}/{message_id}{suffix}"
    chat_id = str(chat.get("id", ""))
    if chat_id.startswith("-100"):
        return f"https://t.me/c/{chat_id[4:]}/{message_id}{suffix}"
    return ""


def parse(page: Any, payload: dict[str, Any], received_at: dt.datetime) -> list[Action]:
    kind = next(name for name in HANDLED if name in payload)
    if kind == "channel_post":
        return [Ignored("the channel's own post")]
    message = as_dict(payload[kind], kind)
    chat = as_dict(message.get("chat"), "chat")
    chat_id = as_id(chat.get("id"), "chat.id")
    message_id = as_id(message.get("message_id"), "message_id")
    external_id = f"{chat_id}:{message_id}"
    if kind == "edited_message":
        return [
            Edited(
                external_id=external_id,
                text=_text(message),
                occurred_at=from_unix(message.get("edit_date") or message.get("date")),
            )
        ]
    occurred_at = from_unix(message.get("date"))
    sender = object_or_empty(message.get("from"))
    if chat.get("type") == "private":
        author_id = as_id(sender.get("id"), "from.id")
        return [
            Incoming(
                external_id=external_id,
                channel=Channel.DIRECT_MESSAGE,
                text=_text(message),
                occurred_at=occurred_at,
                author_id=author_id,
                author_name=_name(sender),
                conversation=f"chat:{chat_id}",
                target={"kind": "private", "chat_id": int(chat_id), "message_id": int(message_id)},
            )
        ]
    if chat.get("type") not in ("group", "supergroup"):
        return [Ignored("not a private chat nor a discussion group")]
    # The channel's discussion group: the automatic forward of each post opens the post's thread of comments.
    if message.get("is_automatic_forward"):
        return [Ignored("the automatic forward of the channel's post")]
    replied = object_or_empty(message.get("reply_to_message"))
    thread = message.get("message_thread_id")
    sender_chat = object_or_empty(message.get("sender_chat"))
    channel_ids = {page.platform_id, page.platform_id.lstrip("@")}
    if str(sender_chat.get("id", "")) in channel_ids or text_of(sender_chat.get("username")) in channel_ids:
        # The channel answering in its comments: the first response of the comment it replies to.
        if replied and not replied.get("is_automatic_forward"):
            return [
                CommunityAnswer(
                    text=_text(message),
                    occurred_at=occurred_at,
                    message_id=message_id,
                    answers_external_id=f"{chat_id}:{replied.get('message_id')}",
                )
            ]
        return [Ignored("the channel's comment answers no comment")]
    if not (replied.get("is_automatic_forward") or thread):
        return [Ignored("a group message outside the channel's comments")]
    if not sender:
        raise BadPayload("from missing")
    return [
        Incoming(
            external_id=external_id,
            channel=Channel.COMMENT,
            text=_text(message),
            occurred_at=occurred_at,
            author_id=as_id(sender.get("id"), "from.id"),
            author_name=_name(sender),
            url=_link(chat, message_id, thread),
            target={"kind": "comment", "chat_id": int(chat_id), "message_id": int(message_id)},
        )
    ]


def reply_call(page: Any, target: dict[str, Any], text: str, idempotency_key: str) -> Call | None:
    if target.get("kind") not in ("private", "comment"):
        return None
    return Call(
        method="sendMessage",
        params={
            "chat_id": target["chat_id"],
            "text": text,
            "reply_parameters": {"message_id": target["message_id"], "allow_sending_without_reply": True},
        },
        rate_key=f"chat:{target['chat_id']}",
    )


def send(page: Any, call: Call, client: httpx.Client) -> SendResult:
    url = f"{settings.TELEGRAM_API_BASE_URL.rstrip('/')}/bot{page.access_token}/{call.method}"
    try:
        response = client.post(url, json=call.params)
    except httpx.HTTPError as exc:
        return network_failure(exc, idempotent=IDEMPOTENT)
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return (
            http_failure(response)
            if response.status_code != 200
            else SendResult(delivered=False, transient=True, error="not JSON", code="bad_answer")
        )
    if body.get("ok"):
        result = object_or_empty(body.get("result"))
        return SendResult(delivered=True, message_id=str(result.get("message_id", "")))
    parameters = object_or_empty(body.get("parameters"))
    retry_after = parameters.get("retry_after")
    code = body.get("error_code", response.status_code)
    return SendResult(
        delivered=False,
        transient=code == 429 or (isinstance(code, int) and code >= 500),
        retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
        error=str(body.get("description", ""))[:2000],
        code=f"telegram_{code}",
    )
