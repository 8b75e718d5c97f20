"""VK: the Callback API in (domain.md section 8), `wall.createComment` and `messages.send` out."""

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
    secret_matches,
    text_of,
)

API_VERSION = "5.199"
HANDLED = frozenset(
    {
        "message_new",
        "message_reply",
        "message_edit",
        "wall_reply_new",
        "wall_reply_edit",
        "wall_reply_restore",
        "wall_reply_delete",
    }
)
# Errors VK asks to retry: too many requests per second, flood control, internal server error.
TRANSIENT_ERRORS = frozenset({6, 9, 10})
# VK's limit for a community token; deliveries are spread below it per page.
PAGE_RATE = 20
CONVERSATION_RATE = 0  # no per-conversation limit beyond the page's
IDEMPOTENT = True  # guid and random_id make a repeated call the same comment or message


def accept(page: Any, headers: Mapping[str, str], payload: dict[str, Any]) -> Accepted | Answer:
    if not secret_matches(payload.get("secret"), page.webhook_secret):
        raise Forbidden("secret")
    if str(payload.get("group_id", "")) != page.platform_id:
        raise Forbidden("group_id")
    event_type = payload.get("type")
    if not isinstance(event_type, str):
        raise BadPayload("type missing")
    if event_type == "confirmation":
        if not page.confirmation_code:
            raise Forbidden("no confirmation string")
        return Answer(page.confirmation_code)
    if event_type not in HANDLED:
        return Answer("ok")
    event_id = payload.get("event_id")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 100:
        raise BadPayload("event_id missing")
    as_dict(payload.get("object"), "object")
    return Accepted(key=event_id, event_type=event_type)


def _text(item: dict[str, Any]) -> str:
    text = text_of(item.get("text"))
    if text:
        return text
    kinds = [a.get("type", "?") for a in item.get("attachments") or [] if isinstance(a, dict)]
    return f"[{', '.join(kinds)}]" if kinds else "[]"


def _message_id(message: dict[str, Any]) -> str:
    # `id` is 0 for messages of group chats; the conversation's own number identifies them there.
    if message.get("id"):
        return f"message:{as_id(message['id'], 'message id')}"
    peer = as_id(message.get("peer_id"), "peer_id")
    return f"message:{peer}_{as_id(message.get('conversation_message_id'), 'conversation_message_id')}"


def parse(page: Any, payload: dict[str, Any], received_at: dt.datetime) -> list[Action]:
    event_type = payload["type"]
    obj = as_dict(payload.get("object"), "object")
    group = page.platform_id
    if event_type == "message_new":
        # API 5.103 and later wrap the message with the client's capabilities; earlier versions send it bare.
        message = as_dict(obj["message"], "message") if "message" in obj else obj
        from_id = as_id(message.get("from_id"), "from_id")
        peer = as_id(message.get("peer_id"), "peer_id")
        if from_id.startswith("-") or message.get("out") == 1:
            return [Ignored("the community's own message")]
        message_id = _message_id(message)
        return [
            Incoming(
                external_id=message_id,
                channel=Channel.DIRECT_MESSAGE,
                text=_text(message),
                occurred_at=from_unix(message.get("date")),
                author_id=from_id,
                url=f"https://vk.com/gim{group}?sel={peer}",
                conversation=f"peer:{peer}",
                target={
                    "kind": "message",
                    "peer_id": int(peer),
                    "message_id": message.get("id") or None,
                    "conversation_message_id": message.get("conversation_message_id"),
                },
            )
        ]
    if event_type == "message_reply":
        # The community's outgoing answer in a private conversation (written in VK, or our own delivery).
        peer = as_id(obj.get("peer_id"), "peer_id")
        random_id = obj.get("random_id")
        return [
            CommunityAnswer(
                text=_text(obj),
                occurred_at=from_unix(obj.get("date")),
                message_id=str(obj.get("id") or ""),
                idempotency_key=str(random_id) if random_id else "",
                conversation=f"peer:{peer}",
            )
        ]
    if event_type == "message_edit":
        if obj.get("out") == 1 or str(obj.get("from_id", "")).startswith("-"):
            return [Ignored("the community's own message")]
        moment = obj.get("update_time") or obj.get("date")
        return [Edited(external_id=_message_id(obj), text=_text(obj), occurred_at=from_unix(moment))]
    comment_id = as_id(obj.get("id"), "comment id")
    external_id = f"comment:{comment_id}"
    if event_type == "wall_reply_delete":
        deleter = obj.get("deleter_id", obj.get("user_id", ""))
        return [Deleted(external_id=external_id, occurred_at=received_at, deleted_by=str(deleter))]
    from_id = as_id(obj.get("from_id"), "from_id")
    own = from_id == f"-{group}"
    occurred_at = from_unix(obj.get("date"))
    if event_type in ("wall_reply_edit", "wall_reply_restore"):
        if own:
            return [Ignored("the community's own comment")]
        return [
            Edited(
                external_id=external_id,
                text=_text(obj),
                occurred_at=occurred_at,
                restored=event_type == "wall_reply_restore",
            )
        ]
    # wall_reply_new. Real deliveries name the post's owner as owner_id, post_owner_id or both.
    owner = as_id(obj.get("post_owner_id", obj.get("owner_id")), "post owner")
    post_id = as_id(obj.get("post_id"), "post_id")
    if own:
        answered = obj.get("reply_to_comment")
        if not answered:
            return [Ignored("the community's comment answers no comment")]
        return [
            CommunityAnswer(
                text=_text(obj),
                occurred_at=occurred_at,
                message_id=comment_id,
                answers_external_id=f"comment:{answered}",
            )
        ]
    return [
        Incoming(
            external_id=external_id,
            channel=Channel.COMMENT,
            text=_text(obj),
            occurred_at=occurred_at,
            author_id=from_id,
            url=f"https://vk.com/wall{owner}_{post_id}?reply={comment_id}",
            target={"kind": "comment", "owner_id": int(owner), "post_id": int(post_id), "comment_id": int(comment_id)},
        )
    ]


def random_id(idempotency_key: str) -> int:
    """messages.send's `random_id`: a positive int32 derived from the reply's key."""
    return int(idempotency_key[:8], 16) & 0x7FFFFFFF


def reply_call(page: Any, target: dict[str, Any], text: str, idempotency_key: str) -> Call | None:
    group = int(page.platform_id)
    if target.get("kind") == "comment":
        return Call(
            method="wall.createComment",
            params={
                "owner_id": -abs(int(target["owner_id"])),
                "post_id": target["post_id"],
                "from_group": group,
                "reply_to_comment": target["comment_id"],
                "message": text,
                "guid": idempotency_key,
            },
        )
    if target.get("kind") == "message":
        params: dict[str, Any] = {
            "peer_id": target["peer_id"],
            "random_id": random_id(idempotency_key),
            "message": text,
        }
        if target.get("message_id"):
            params["reply_to"] = target["message_id"]
        return Call(method="messages.send", params=params, rate_key=f"peer:{target['peer_id']}")
    return None


def send(page: Any, call: Call, client: httpx.Client) -> SendResult:
    url = f"{settings.VK_API_BASE_URL.rstrip('/')}/{call.method}"
    data = {**{k: str(v) for k, v in call.params.items()}, "access_token": page.access_token, "v": API_VERSION}
    try:
        response = client.post(url, data=data)
    except httpx.HTTPError as exc:
        return network_failure(exc, idempotent=IDEMPOTENT)
    if response.status_code != 200:
        return http_failure(response)
    try:
        body = response.json()
    except ValueError:
        return SendResult(delivered=False, transient=True, error=f"not JSON: {response.text[:500]}", code="bad_answer")
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        code = error.get("error_code")
        return SendResult(
            delivered=False,
            transient=code in TRANSIENT_ERRORS,
            retry_after=1.0 if code in (6, 9) else None,
            error=str(error.get("error_msg", ""))[:2000],
            code=f"vk_{code}",
        )
    result = body.get("response") if isinstance(body, dict) else None
    if isinstance(result, dict):
        message_id = result.get("comment_id") or result.get("message_id") or ""
    else:
        message_id = result if isinstance(result, int) else ""
    return SendResult(delivered=True, message_id=str(message_id))
