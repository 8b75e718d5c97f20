"""Writes of the connectors: platform events stored and processed into appeals, replies delivered to platforms.

In: a webhook delivery is stored as a `PlatformEvent` under its unique key before it is acknowledged
(`event_store`), then processed by a Celery task (`event_process`) into appeals through appeals' intake service,
edits and deletes onto the appeal's history, and the community's own answers as replies. A periodic task picks
up what a broker outage or a failed attempt left unprocessed (`events_pick_up`).

Out: a public reply (appeals.services.lifecycle.appeal_reply) calls `delivery_prepare` inside its transaction
(through appeals.services.hooks), which writes a `Delivery` with the platform call and its idempotency key; a
Celery task on its own queue makes the call (`delivery_attempt`), retrying transient failures with backoff.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
import logging
from collections.abc import Iterator
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import services as appeal_services
from appeals.models import Appeal, AppealKind, EventAction, Reply
from appeals.services.history import history_append, system_event
from connectors.models import (
    AppealSource,
    Delivery,
    DeliveryStatus,
    EventStatus,
    PageConnector,
    PlatformEvent,
)
from connectors.platforms import PLATFORMS
from connectors.platforms.base import (
    Accepted,
    BadPayload,
    Call,
    CommunityAnswer,
    Deleted,
    Edited,
    Ignored,
    Incoming,
    object_or_empty,
)
from core import outbox
from core.access import SYSTEM, Actor, require_manage, scope_for
from core.cache import cache_add
from core.errors import Conflict, Refused
from core.outbox import queue_after_commit
from publics.models import Page, Platform

logger = logging.getLogger(__name__)

# Attempts at processing one event before it is left failed for an administrator to look at.
EVENT_MAX_ATTEMPTS = 8
# Waits before the 2nd, 3rd, ... attempt of a delivery; the last one fails it.
DELIVERY_BACKOFF = (10, 30, 90, 270, 810)
DELIVERY_MAX_ATTEMPTS = len(DELIVERY_BACKOFF) + 1
# Longest wait a platform's retry_after is followed for.
RETRY_AFTER_CAP = 3600
# How long an attempt may hold a delivery (`sending`) before the pick-up takes it as lost with its worker.
SENDING_LEASE = dt.timedelta(minutes=2)
# Events and deliveries younger than this are left to the task queued with them.
PICK_UP_GRACE = dt.timedelta(seconds=30)

PROCESS_TASK = "connectors.tasks.process_event"
DELIVER_TASK = "connectors.tasks.deliver_reply"


class Deferred(Exception):
    """Processing cannot go on now (a lock held by another request, the database busy): try again later."""


# In ------------------------------------------------------------------------------------------------------------


def event_store(*, page: Page, accepted: Accepted, payload: dict[str, Any], now: dt.datetime) -> int | None:
    """Store a delivery under its unique key; returns the new event's id, None when it was stored before.

    One statement, no look-up first: `INSERT ... ON CONFLICT DO NOTHING RETURNING id` (PostgreSQL and SQLite),
    so concurrent re-sends of one event store one row and never raise.
    """
    table = PlatformEvent._meta.db_table
    payload_value = PlatformEvent._meta.get_field("payload").get_db_prep_save(payload, connection)
    received = PlatformEvent._meta.get_field("received_at").get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        # The table name is the model's own; every value is a parameter.
        cursor.execute(
            f"INSERT INTO {table} (platform, page_id, event_key, event_type, payload, received_at, status, attempts, "  # noqa: S608
            "error, outcome) VALUES (%s, %s, %s, %s, %s, %s, %s, 0, '', '') "
            "ON CONFLICT (page_id, event_key) DO NOTHING RETURNING id",
            [page.platform, page.pk, accepted.key, accepted.event_type, payload_value, received, EventStatus.RECEIVED],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def send_task(task: str, **kwargs: Any) -> bool:
    return send_task_later(task, countdown=None, **kwargs)


def send_task_later(task: str, *, countdown: float | None, **kwargs: Any) -> bool:
    """Send a task (now, or after `countdown` seconds); with the broker down, log and return False: the
    periodic pick-up sends it later. For work whose own row is the durable record (a stored event, a pending
    delivery), so that the hot path of the webhooks does not write a second row to core.outbox."""
    return outbox.send_task(task, countdown=countdown, **kwargs)


def event_queue_on_commit(event_id: int) -> None:
    outbox.send_after_commit(PROCESS_TASK, event_id=event_id)


def _locked_event(event_id: int) -> PlatformEvent | None:
    return (
        PlatformEvent.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("page__organization__region")
        .filter(pk=event_id, status=EventStatus.RECEIVED)
        .first()
    )


def event_process(*, event_id: int, now: dt.datetime | None = None) -> str | None:
    """Process one stored event into appeals; returns its new status, None when there was nothing to do
    (processed already, or being processed by another worker). Raises `Deferred` for a transient failure
    (the attempt is counted and the event stays `received`)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            event = _locked_event(event_id)
            if event is None:
                return None
            event.attempts += 1
            try:
                actions = PLATFORMS[event.platform].parse(event.page, event.payload, event.received_at)
                results = [_apply(event, action, now=now) for action in actions]
            except (BadPayload, ValidationError, KeyError, TypeError, ValueError) as exc:
                # The event itself is wrong: trying again cannot help. It stays for an administrator to see.
                _finish(event, EventStatus.FAILED, now=now, error=_describe(exc))
                return event.status
            ignored = all(appeal is None and not changed for _, appeal, changed in results)
            event.appeal = next((appeal for _, appeal, _ in results if appeal is not None), None)
            _finish(
                event,
                EventStatus.IGNORED if ignored else EventStatus.PROCESSED,
                now=now,
                outcome="; ".join(outcome for outcome, _, _ in results),
            )
            return event.status
    except Exception as exc:
        # A lock held by an operator (Conflict), the database busy, or a fault of ours: count the attempt, keep
        # the error for the administrator, and leave the event to the pick-up until its attempts run out.
        attempts = PlatformEvent.objects.filter(pk=event_id).values_list("attempts", flat=True).first() or 0
        status = EventStatus.FAILED if attempts + 1 >= EVENT_MAX_ATTEMPTS else EventStatus.RECEIVED
        PlatformEvent.objects.filter(pk=event_id, status=EventStatus.RECEIVED).update(
            attempts=F("attempts") + 1, error=_describe(exc), status=status
        )
        raise Deferred(str(exc)) from exc


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.message_dict.items())[:2000]
    return f"{type(exc).__name__}: {exc}"[:2000]


def _finish(event: PlatformEvent, status: str, *, now: dt.datetime, outcome: str = "", error: str = "") -> None:
    event.status = status
    event.processed_at = now
    event.outcome = outcome[:200]
    event.error = error
    event.save(update_fields=["status", "processed_at", "outcome", "error", "attempts", "appeal"])


def _apply(event: PlatformEvent, action: Any, *, now: dt.datetime) -> tuple[str, Appeal | None, bool]:
    """Carry out one action of an event: (what happened, the appeal concerned, whether anything changed)."""
    page = event.page
    if isinstance(action, Ignored):
        return action.reason, None, False
    if isinstance(action, Incoming):
        data = appeal_services.AppealInput(
            kind=AppealKind.MESSAGE,
            channel=action.channel,
            text=action.text[:20_000],
            received_at=action.occurred_at,
            external_id=action.external_id[:128],
            author_platform_id=action.author_id[:64],
            author_name=action.author_name[:200],
        )
        appeal, created = appeal_services.appeal_create(actor=SYSTEM, page=page, data=data, now=now)
        source = {
            "page": page,
            "conversation": action.conversation,
            "target": action.target,
            "url": action.url,
            "received_at": action.occurred_at,
        }
        if created:
            AppealSource.objects.create(appeal=appeal, **source)
        else:
            # Taken in before (another event of the same message, or an integration's push): keep its source.
            AppealSource.objects.get_or_create(appeal=appeal, defaults=source)
        return ("appeal created" if created else "appeal existed"), appeal, created
    if isinstance(action, Edited | Deleted):
        return _record_author_change(event, action)
    if isinstance(action, CommunityAnswer):
        return _record_community_answer(event, action)
    raise TypeError(f"unknown action {action!r}")


def _record_author_change(event: PlatformEvent, action: Edited | Deleted) -> tuple[str, Appeal | None, bool]:
    """An edit or a delete by the citizen, as an event of the appeal's history: the appeal's text stays the
    original, each edit's text is in its event."""
    appeal = (
        Appeal.objects.select_for_update(of=("self",))
        .filter(page=event.page, external_id=action.external_id)
        .order_by()
        .first()
    )
    if appeal is None:
        return "no appeal for this message", None, False
    if isinstance(action, Edited):
        kind = EventAction.AUTHOR_EDITED
        data: dict[str, Any] = {"text": action.text, "restored": action.restored, "platform_event": event.pk}
    else:
        kind = EventAction.AUTHOR_DELETED
        data = {"deleted_by": action.deleted_by, "platform_event": event.pk}
    history_append([system_event(appeal, action=kind, at=action.occurred_at, data=data)])
    return ("edit recorded" if isinstance(action, Edited) else "delete recorded"), appeal, True


_platform_answer: contextvars.ContextVar[bool] = contextvars.ContextVar("platform_answer", default=False)


@contextlib.contextmanager
def _replies_from_platform() -> Iterator[None]:
    """Replies written in here came from the platform: nothing is delivered back to it."""
    token = _platform_answer.set(True)
    try:
        yield
    finally:
        _platform_answer.reset(token)


def _record_community_answer(event: PlatformEvent, action: CommunityAnswer) -> tuple[str, Appeal | None, bool]:
    page = event.page
    echo = Delivery.objects.filter(page=page)
    if action.message_id and echo.filter(platform_message_id=action.message_id).exists():
        return "our own delivery", None, False
    if action.idempotency_key and echo.filter(idempotency_key=action.idempotency_key).exists():
        return "our own delivery", None, False
    appeal: Appeal | None
    if action.answers_external_id:
        appeal = Appeal.objects.filter(page=page, external_id=action.answers_external_id).order_by().first()
    else:
        source = (
            AppealSource.objects.filter(
                page=page, conversation=action.conversation, received_at__lte=action.occurred_at
            )
            .select_related("appeal")
            .order_by("-received_at")
            .first()
        )
        appeal = source.appeal if source else None
    if appeal is None:
        return "answers no known appeal", None, False
    # Our own reply can come back before its delivery has recorded the platform's message id (the platform
    # calls the webhook while our call is still being answered): the same text on its way is the echo.
    on_its_way = [DeliveryStatus.SENDING, DeliveryStatus.DELIVERED]
    if echo.filter(appeal=appeal, status__in=on_its_way, reply__text=action.text).exists():
        return "our own delivery", None, False
    try:
        with _replies_from_platform():
            appeal_services.appeal_reply(
                actor=SYSTEM, appeal_id=appeal.pk, text=action.text, now=max(action.occurred_at, appeal.received_at)
            )
    except Conflict as exc:
        if exc.code == "invalid_transition":
            return "the appeal is not open", appeal, False
        raise
    return "community answer recorded", appeal, True


def events_pick_up(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Send the processing of events still waiting (a broker outage, a failed attempt); returns how many."""
    now = now or timezone.now()
    ids = list(
        PlatformEvent.objects.filter(status=EventStatus.RECEIVED, received_at__lte=now - PICK_UP_GRACE)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for event_id in ids:
        if not send_task(PROCESS_TASK, event_id=event_id):
            break
        sent += 1
    return sent


def event_reprocess(*, actor: Actor, event_id: int) -> PlatformEvent:
    """An administrator sends an event through processing again (after fixing what made it fail)."""
    if not scope_for(actor).is_federal_admin:
        raise Refused(_("Only an administrator may re-process platform events."))
    with transaction.atomic():
        event = PlatformEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None:
            raise Refused(_("Only an administrator may re-process platform events."))
        event.status = EventStatus.RECEIVED
        event.processed_at = None
        event.attempts = 0
        event.error = ""
        event.outcome = ""
        event.save(update_fields=["status", "processed_at", "attempts", "error", "outcome"])
        event_queue_on_commit(event.pk)
    return event


def max_comments_poll(*, now: dt.datetime | None = None, client: httpx.Client | None = None) -> int:
    """Read the comments under the recent posts of MAX channels that enable it, stored as `comment_created`
    events (the same path as a push); returns how many new comments were stored."""
    now = now or timezone.now()
    connectors = PageConnector.objects.filter(
        poll_comments=True, page__platform=Platform.MAX, page__is_active=True
    ).select_related("page")
    module = PLATFORMS[Platform.MAX]
    stored = 0
    with client or http_client() as http:
        for connector in connectors:
            page = connector.page
            # An overlap of a minute: a comment written while the last poll ran is read again, and deduplicated.
            since = connector.comments_polled_at - dt.timedelta(minutes=1) if connector.comments_polled_at else None
            try:
                for post in module.recent_posts(page, http, count=settings.MAX_COMMENTS_POLL_POSTS):
                    for comment in module.post_comments(page, post, http, since=since):
                        stored += _store_polled_comment(page, post, comment, now=now)
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                logger.warning("MAX comments of page %s not read: %s", page.pk, exc)
                continue
            PageConnector.objects.filter(pk=connector.pk).update(comments_polled_at=now)
    return stored


def _store_polled_comment(page: Page, post: str, comment: dict[str, Any], *, now: dt.datetime) -> int:
    body = object_or_empty(comment.get("body"))
    mid = body.get("mid")
    if not mid:
        return 0
    payload = {
        "update_type": "comment_created",
        "timestamp": comment.get("timestamp"),
        "message": comment,
        "post_mid": post,
    }
    accepted = Accepted(key=f"comment_created:{mid}", event_type="comment_created")
    event_id = event_store(page=page, accepted=accepted, payload=payload, now=now)
    if event_id is None:
        return 0
    event_queue_on_commit(event_id)
    return 1


# Out -----------------------------------------------------------------------------------------------------------


def http_client() -> httpx.Client:
    """One client per batch of calls, with a timeout on every call (connect, read, write, pool)."""
    timeout = httpx.Timeout(settings.CONNECTOR_TIMEOUT_SECONDS, connect=min(5.0, settings.CONNECTOR_TIMEOUT_SECONDS))
    return httpx.Client(timeout=timeout, headers={"User-Agent": "Otklik"})


def idempotency_key(reply: Reply) -> str:
    """The reply's key towards the platform, the same at every attempt: derived from the reply, not random."""
    return hashlib.sha256(f"otklik-reply:{reply.pk}:{reply.hash}".encode()).hexdigest()[:32]


def delivery_prepare(*, appeal: Appeal, reply: Reply) -> Delivery | None:
    """Write the delivery of a public reply to the platform the appeal came from, and queue it on commit.

    Call inside the reply's transaction (appeal_reply does, through appeals.services.hooks): the reply and its
    delivery commit together or not at all. Appeals that did not come from a platform's event, and replies that
    are the platform's own answers, have nothing to deliver.
    """
    if _platform_answer.get():
        return None
    source = AppealSource.objects.filter(appeal_id=appeal.pk).select_related("page").first()
    if source is None or source.page.platform not in PLATFORMS:
        return None
    page = source.page
    module = PLATFORMS[page.platform]
    key = idempotency_key(reply)
    call = module.reply_call(page, source.target, reply.text, key)
    if call is None:
        return None
    if call.method == "messages.send":
        key = str(call.params["random_id"])  # what VK echoes back in message_reply
    delivery = Delivery.objects.create(
        reply=reply,
        appeal=appeal,
        page=page,
        platform=page.platform,
        method=call.method,
        params=call.params,
        rate_key=call.rate_key,
        idempotency_key=key,
        next_attempt_at=reply.created_at,
    )
    queue_after_commit(DELIVER_TASK, delivery_id=delivery.pk)
    return delivery


def _rate_wait(delivery: Delivery, now: dt.datetime) -> float:
    """Seconds to wait so the page's and the conversation's rate limits hold; 0 to go now (and counted).

    Fixed one-second windows in the shared cache; with the cache down the limits are not enforced (the platform's
    own 429 or error 6 then slows us down through the retries)."""
    module = PLATFORMS[delivery.platform]
    second = int(now.timestamp())
    limits = [(f"otklik:rate:{delivery.page_id}:{second}", module.PAGE_RATE)]
    if delivery.rate_key and module.CONVERSATION_RATE:
        limits.append((f"otklik:rate:{delivery.page_id}:{delivery.rate_key}:{second}", module.CONVERSATION_RATE))
    from django.core.cache import cache

    for key, limit in limits:
        # A window's key outlives its second by a minute: `now` may lag the wall clock (a slow worker, a test).
        cache_add(key, 0, 60)
        try:
            count = cache.incr(key)
        except ValueError:  # the key was evicted between add and incr: count this call as the window's first
            cache_add(key, 1, 60)
            count = 1
        except Exception:  # the cache is down: go on (see the docstring)
            logger.warning("rate limit not checked: cache unavailable", exc_info=True)
            continue
        if count > limit:
            return max(0.05, second + 1 - now.timestamp())
    return 0.0


def delivery_attempt(
    *, delivery_id: int, now: dt.datetime | None = None, client: httpx.Client | None = None
) -> float | None:
    """Make one attempt at a delivery; returns the seconds until it should be tried again, None when there is
    nothing more to do (delivered, failed for good, not due, or held by another worker)."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("page")
            .filter(pk=delivery_id, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])
            .first()
        )
        if delivery is None:
            return None
        due = delivery.next_attempt_at
        if due is not None and due > now:
            # Not due (backoff), or `sending` under another worker's lease: its own schedule brings it back.
            return (due - now).total_seconds() if delivery.status == DeliveryStatus.PENDING else None
        wait = _rate_wait(delivery, now)
        if wait:
            delivery.next_attempt_at = now + dt.timedelta(seconds=wait)
            delivery.save(update_fields=["next_attempt_at", "updated_at"])
            return wait
        delivery.status = DeliveryStatus.SENDING
        delivery.attempts += 1
        delivery.next_attempt_at = now + SENDING_LEASE
        delivery.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
    # The call runs outside the transaction: no row lock is held while the platform answers.
    call = Call(method=delivery.method, params=delivery.params, rate_key=delivery.rate_key)
    module = PLATFORMS[delivery.platform]
    if client is None:
        with http_client() as own:
            result = module.send(delivery.page, call, own)
    else:
        result = module.send(delivery.page, call, client)
    finished = max(now, timezone.now())
    changes: dict[str, Any] = {"updated_at": finished, "last_error": result.error, "error_code": result.code}
    retry_in: float | None = None
    if result.delivered:
        changes |= {
            "status": DeliveryStatus.DELIVERED,
            "platform_message_id": result.message_id[:128],
            "delivered_at": finished,
            "next_attempt_at": None,
        }
    elif result.transient and delivery.attempts < DELIVERY_MAX_ATTEMPTS:
        # The platform's own retry_after when it gives one (a 429), else the backoff of this attempt.
        retry_in = (
            min(result.retry_after, RETRY_AFTER_CAP) if result.retry_after else DELIVERY_BACKOFF[delivery.attempts - 1]
        )
        changes |= {"status": DeliveryStatus.PENDING, "next_attempt_at": now + dt.timedelta(seconds=retry_in)}
    else:
        changes |= {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
        logger.warning("delivery %s failed: %s %s", delivery.pk, result.code, result.error)
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(**changes)
    return retry_in


def deliveries_pick_up(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Send the deliveries that are due again (after a backoff, a broker outage, a worker lost mid-call)."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING], next_attempt_at__lte=now - PICK_UP_GRACE
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for delivery_id in ids:
        if not send_task(DELIVER_TASK, delivery_id=delivery_id):
            break
        sent += 1
    return sent


def delivery_retry(*, actor: Actor, delivery_id: int, now: dt.datetime | None = None) -> Delivery:
    """The operator sends a failed delivery again: with the same idempotency key, so VK still recognises it."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",)).select_related("appeal").filter(pk=delivery_id).first()
        )
        if delivery is None:
            raise Refused(_("You may not retry this delivery."))
        require_manage(actor, delivery.appeal, _("You may see this appeal but not act on it."))
        if delivery.status != DeliveryStatus.FAILED:
            raise Conflict(_("Only a failed delivery can be retried."), code="invalid_transition")
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
        queue_after_commit(DELIVER_TASK, delivery_id=delivery.pk)
    return delivery


__all__ = [
    "Deferred",
    "deliveries_pick_up",
    "delivery_attempt",
    "delivery_prepare",
    "delivery_retry",
    "event_process",
    "event_reprocess",
    "event_store",
    "events_pick_up",
    "max_comments_poll",
]
