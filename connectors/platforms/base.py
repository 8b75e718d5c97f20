"""What every platform module provides, and the platform-neutral shapes they translate payloads into.

A platform module (vk, max, telegram) knows its wire format and nothing of the database: `accept` checks a
webhook delivery (secret, page) and names its event key, `parse` turns a stored event into the actions below,
`reply_call` builds the call that answers an appeal, and `send` makes that call and classifies the answer.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, field
from typing import Any

import httpx


class Forbidden(Exception):
    """The delivery is not the page's (a wrong or missing secret, another community): 403, nothing stored."""


class BadPayload(Exception):
    """A payload that is JSON but not the platform's shape: 400 at the webhook, a failed event when processing."""


@dataclass(frozen=True)
class Accepted:
    """Store the delivery under `key`, then answer `answer` (plain text)."""

    key: str
    event_type: str
    answer: str = "ok"


@dataclass(frozen=True)
class Answer:
    """Answer `text` and store nothing (VK's confirmation, an event type that is not ours)."""

    text: str


# Actions a stored event asks for ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """A citizen's comment or private message: a new appeal."""

    external_id: str
    channel: str
    text: str
    occurred_at: dt.datetime
    author_id: str
    author_name: str = ""
    url: str = ""
    conversation: str = ""
    target: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Edited:
    external_id: str
    text: str
    occurred_at: dt.datetime
    restored: bool = False


@dataclass(frozen=True)
class Deleted:
    external_id: str
    occurred_at: dt.datetime
    deleted_by: str = ""


@dataclass(frozen=True)
class CommunityAnswer:
    """The page's own answer, written on the platform: the first response of the appeal it answers.

    It answers the appeal `answers_external_id` (a comment replied to) or the latest appeal of `conversation`
    (a private conversation). `message_id` and `idempotency_key` recognise the echo of our own delivery.
    """

    text: str
    occurred_at: dt.datetime
    message_id: str = ""
    idempotency_key: str = ""
    answers_external_id: str = ""
    conversation: str = ""


@dataclass(frozen=True)
class Ignored:
    reason: str


Action = Incoming | Edited | Deleted | CommunityAnswer | Ignored


# Replies out -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """A reply's platform call: the method, its parameters without the token, the conversation it counts to."""

    method: str
    params: dict[str, Any]
    rate_key: str = ""


@dataclass(frozen=True)
class SendResult:
    delivered: bool
    message_id: str = ""
    # On failure: whether trying again may succeed, after how long the platform asks, and what it said.
    transient: bool = False
    retry_after: float | None = None
    error: str = ""
    code: str = ""


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison; a page without a secret accepts nothing."""
    if not expected or not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def network_failure(exc: httpx.HTTPError, *, idempotent: bool) -> SendResult:
    """A call that got no answer. Not connected: nothing was posted, try again. Sent but unanswered (a read
    timeout, a dropped connection): try again only where the platform deduplicates on our key, or the citizen
    could get the answer twice; elsewhere the operator decides after a look at the page."""
    name = type(exc).__name__
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout) or idempotent:
        return SendResult(delivered=False, transient=True, error=f"{name}: {exc}"[:2000], code="network")
    return SendResult(
        delivered=False,
        transient=False,
        error=f"{name}: {exc} (the answer may have been posted: check the page before retrying)"[:2000],
        code="unknown_outcome",
    )


def http_failure(response: httpx.Response, *, retry_after: float | None = None) -> SendResult:
    """A platform's HTTP error: 5xx and 429 pass, the rest is the request's fault."""
    status = response.status_code
    if retry_after is None and status == 429:
        header = response.headers.get("Retry-After", "")
        retry_after = float(header) if header.isdigit() else None
    return SendResult(
        delivered=False,
        transient=status >= 500 or status == 429,
        retry_after=retry_after,
        error=f"HTTP {status}: {response.text[:1000]}",
        code=str(status),
    )


def from_unix(value: Any, *, milliseconds: bool = False) -> dt.datetime:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise BadPayload("timestamp missing or not a number")
    seconds = value / 1000 if milliseconds else value
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise BadPayload("timestamp out of range") from exc


def as_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadPayload(f"{what} is not an object")
    return value


def as_id(value: Any, what: str) -> str:
    """A platform id (an integer, or a string of one) as text."""
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value) == "":
        raise BadPayload(f"{what} missing")
    text = str(value)
    if len(text) > 64:
        raise BadPayload(f"{what} too long")
    return text


def object_or_empty(value: Any) -> dict[str, Any]:
    """An optional object of a payload: itself, or {} when absent or of another type."""
    return value if isinstance(value, dict) else {}


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""
