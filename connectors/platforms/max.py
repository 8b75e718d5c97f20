"""MAX: the Bot API's webhook Updates in (domain.md section 8), `POST /messages` and comments out."""

from __future__ import annotations

import datetime as dt
import re
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
    Deleted,
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

SECRET_HEADER = "X-Max-Bot-Api-Secret"  # noqa: S105  # a header name, not a secret
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{5,256}")
MESSAGE_TYPES = frozenset({"message_created", "message_edited"})
# The official schema pushes no comment events; some clients do, and polling stores what it reads as these.
COMMENT_TYPES = frozenset({"comment_created", "comment_edited", "comment_removed"})
HANDLED = MESSAGE_TYPES | COMMENT_TYPES | {"message_removed"}
PAGE_RATE = 30  # requests per second per bot
CONVERSATION_RATE = 2  # messages per second per chat
IDEMPOTENT = False  # MAX takes no idempotency key
COMMENT_PAGES = 10  # pages of comments read per post and poll: 1,000 comments


def _mid(message: dict[str, Any]) -> str:
    return as_id(as_dict(message.get("body"), "message.body").get("mid"), "body.mid")


def secret_well_formed(value: str | None) -> bool:
    """MAX's rule for the subscription's secret: 5 to 256 of A-Z, a-z, 0-9, `_` and `-`."""
    return value is not None and SECRET_PATTERN.fullmatch(value) is not None


def accept(page: Any, headers: Mapping[str, str], payload: dict[str, Any]) -> Accepted | Answer:
    if not secret_well_formed(headers.get(SECRET_HEADER)):
        raise Forbidden("secret")
    if not secret_matches(headers.get(SECRET_HEADER), page.webhook_secret):
        raise Forbidden("secret")
    update_type = payload.get("update_type")
    if not isinstance(update_type, str):
        raise BadPayload("update_type missing")
    if update_type not in HANDLED:
        return Answer("ok")
    timestamp = payload.get("timestamp")
    if update_type in ("message_removed", "comment_removed"):
        removed = payload.get("message_id") or _mid(as_dict(payload.get("message"), "message"))
        key = f"{update_type}:{as_id(removed, 'message_id')}"
    else:
        key = f"{update_type}:{_mid(as_dict(payload.get('message'), 'message'))}"
    if update_type.endswith("_edited"):
        # No event id: one message can be edited many times, and each edit is its own event; a re-sent
        # delivery of the same edit repeats its timestamp.
        key = f"{key}:{timestamp}"
    return Accepted(key=key, event_type=update_type)


def _name(user: dict[str, Any]) -> str:
    name = text_of(user.get("name"))
    if not name:
        name = " ".join(part for part in (text_of(user.get("first_name")), text_of(user.get("last_name"))) if part)
    return name[:200]


def _text(message: dict[str, Any]) -> str:
    body = as_dict(message.get("body"), "message.body")
    text = text_of(body.get("text"))
    if text:
        return text
    kinds = [a.get("type", "?") for a in body.get("attachments") or [] if isinstance(a, dict)]
    return f"[{', '.join(kinds)}]"


def _moment(message: dict[str, Any], payload: dict[str, Any]) -> dt.datetime:
    return from_unix(message.get("timestamp", payload.get("timestamp")), milliseconds=True)


def parse(page: Any, payload: dict[str, Any], received_at: dt.datetime) -> list[Action]:
    update_type = payload["update_type"]
    if update_type in ("message_removed", "comment_removed"):
        message_id = payload.get("message_id")
        if not message_id and isinstance(payload.get("message"), dict):
            message_id = _mid(payload["message"])
        return [
            Deleted(
                external_id=as_id(message_id, "message_id"),
                occurred_at=from_unix(payload.get("timestamp"), milliseconds=True),
                deleted_by=str(payload.get("user_id", "")),
            )
        ]
    message = as_dict(payload.get("message"), "message")
    mid = _mid(message)
    sender = object_or_empty(message.get("sender"))
    recipient = object_or_empty(message.get("recipient"))
    occurred_at = _moment(message, payload)
    if sender.get("is_bot"):
        link = object_or_empty(message.get("link"))
        linked = object_or_empty(link.get("message"))
        if update_type.endswith("_created") and link.get("type") == "reply" and linked.get("mid"):
            return [
                CommunityAnswer(
                    text=_text(message), occurred_at=occurred_at, message_id=mid, answers_external_id=linked["mid"]
                )
            ]
        return [Ignored("the bot's own message")]
    if update_type.endswith("_edited"):
        return [Edited(external_id=mid, text=_text(message), occurred_at=occurred_at)]
    author = _name(sender)
    author_id = str(sender.get("user_id", ""))
    url = text_of(message.get("url"))
    if update_type == "comment_created":
        post = recipient.get("post_id") or payload.get("post_mid")
        return [
            Incoming(
                external_id=mid,
                channel=Channel.COMMENT,
                text=_text(message),
                occurred_at=occurred_at,
                author_id=author_id,
                author_name=author,
                url=url,
                target={"kind": "comment", "post_id": as_id(post, "recipient.post_id"), "mid": mid},
            )
        ]
    chat_type = recipient.get("chat_type")
    if chat_type == "channel":
        return [Ignored("the channel's own post")]
    chat_id = recipient.get("chat_id")
    dialog = chat_type == "dialog"
    return [
        Incoming(
            external_id=mid,
            channel=Channel.DIRECT_MESSAGE if dialog else Channel.COMMENT,
            text=_text(message),
            occurred_at=occurred_at,
            author_id=author_id,
            author_name=author,
            url=url,
            conversation=f"user:{author_id}" if dialog else "",
            target={
                "kind": "dialog" if dialog else "chat",
                "user_id": sender.get("user_id"),
                "chat_id": chat_id,
                "mid": mid,
            },
        )
    ]


def reply_call(page: Any, target: dict[str, Any], text: str, idempotency_key: str) -> Call | None:
    body = {"text": text, "link": {"type": "reply", "mid": target.get("mid")}}
    kind = target.get("kind")
    if kind == "comment":
        post = target["post_id"]
        return Call(method=f"messages/{post}/comments", params={"query": {}, "body": body}, rate_key=f"post:{post}")
    if kind == "dialog":
        query = {"user_id": target["user_id"]} if target.get("user_id") else {"chat_id": target["chat_id"]}
        return Call(method="messages", params={"query": query, "body": body}, rate_key=f"chat:{target.get('chat_id')}")
    if kind == "chat":
        chat = target["chat_id"]
        return Call(method="messages", params={"query": {"chat_id": chat}, "body": body}, rate_key=f"chat:{chat}")
    return None


def _client_headers(page: Any) -> dict[str, str]:
    return {"Authorization": page.access_token}


def send(page: Any, call: Call, client: httpx.Client) -> SendResult:
    url = f"{settings.MAX_API_BASE_URL.rstrip('/')}/{call.method}"
    try:
        response = client.post(
            url, params=call.params.get("query") or None, json=call.params.get("body"), headers=_client_headers(page)
        )
    except httpx.HTTPError as exc:
        return network_failure(exc, idempotent=IDEMPOTENT)
    if response.status_code != 200:
        return http_failure(response)
    try:
        body = response.json()
    except ValueError:
        body = {}
    message = body.get("message") or body.get("comment") or {} if isinstance(body, dict) else {}
    mid = message.get("body", {}).get("mid", "") if isinstance(message, dict) else ""
    return SendResult(delivered=True, message_id=str(mid))


def recent_posts(page: Any, client: httpx.Client, *, count: int) -> list[str]:
    """The ids (mid) of the channel's latest posts."""
    response = client.get(
        f"{settings.MAX_API_BASE_URL.rstrip('/')}/messages",
        params={"chat_id": page.platform_id, "count": count},
        headers=_client_headers(page),
    )
    response.raise_for_status()
    messages = response.json().get("messages") or []
    return [m["body"]["mid"] for m in messages if isinstance(m, dict) and isinstance(m.get("body"), dict)]


def post_comments(page: Any, post_mid: str, client: httpx.Client, *, since: dt.datetime | None) -> list[dict]:
    """Comments under one post (newer than `since`), as MAX's message objects, following the page marker for at
    most COMMENT_PAGES pages of 100."""
    params: dict[str, Any] = {"count": 100}
    if since is not None:
        params["after"] = int(since.timestamp() * 1000)
    comments: list[dict] = []
    for _ in range(COMMENT_PAGES):
        response = client.get(
            f"{settings.MAX_API_BASE_URL.rstrip('/')}/messages/{post_mid}/comments",
            params=params,
            headers=_client_headers(page),
        )
        response.raise_for_status()
        body = response.json()
        batch = body.get("comments") or body.get("messages") or []
        comments.extend(c for c in batch if isinstance(c, dict))
        marker = body.get("marker")
        if not marker or not batch:
            break
        params["marker"] = marker
    return comments
