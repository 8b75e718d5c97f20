"""Queue Celery work so that neither a rolled-back change nor a broker outage loses or invents it.

`queue_after_commit(task, **kwargs)` records the task in `core.QueuedTask` inside the caller's transaction and
sends it to the broker on commit. When the broker is unreachable the request still succeeds: the row stays
unsent and `outbox_drain` sends it later (beat runs it every minute, and each worker runs it as it starts).

`send_after_commit(task, **kwargs)` sends on commit with no outbox row, for work whose durable record is
elsewhere and which a periodic pick-up repeats when the send is lost (a stored platform event, a pending
delivery, the rollups' watermark on the history): the hot paths then write no second row per request.

`send_coalesced_after_commit(task, ids)` is the same for a task that takes a batch of ids: on commit the ids join a
Redis set and the task is published only if none is already waiting, `COALESCE_DELAY` seconds ahead, so a burst
of changes costs one Redis round trip each and one task in all. The task reads the set with `take_coalesced`.
Without Redis each change sends its own task with its ids.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import logging
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError

from core.cache import redis_client
from core.models import QueuedTask

logger = logging.getLogger(__name__)

# What a broker outage looks like when publishing: kombu's wrapper, or the socket's own error.
BROKER_ERRORS = (OperationalError, ConnectionError, OSError, TimeoutError)
# Rows younger than this are left to their own on-commit send, so the drain does not race it.
DRAIN_GRACE = dt.timedelta(seconds=30)
# Sent rows are kept this long (to see what was queued), then purged by the drain.
KEEP_SENT = dt.timedelta(days=2)
# A coalesced task is published this long after the first change of a burst, and picks up the whole burst.
COALESCE_DELAY = 1.0
# A published coalesced task that never ran (a lost message) stops blocking new ones after this long.
COALESCE_FLAG_TTL = 300
# Ids nobody took (no worker for a day) are dropped then; the task's periodic catch-up covers them.
COALESCE_SET_TTL = 86_400


def queue_after_commit(task: str, **kwargs: Any) -> None:
    """Record `task(**kwargs)` now and send it when the current transaction commits. JSON values only."""
    row = QueuedTask.objects.create(task=task, kwargs=kwargs)
    transaction.on_commit(lambda: _send(row.pk, task, kwargs))


def send_after_commit(task: str, **kwargs: Any) -> None:
    """Send `task(**kwargs)` when the current transaction commits; lost if the broker is down (see the docstring)."""
    transaction.on_commit(lambda: send_task(task, **kwargs))


def send_coalesced_after_commit(task: str, ids: Iterable[int]) -> None:
    """On commit, add `ids` to `task`'s pending set and publish `task()` unless one is already waiting.

    The task must call `take_coalesced(task)` and accept `ids` (sent instead when the project runs without Redis,
    or when Redis does not answer). Like `send_after_commit`, for work that a periodic pick-up repeats when lost.
    """
    batch = sorted(set(ids))
    if batch:
        transaction.on_commit(lambda: _send_coalesced(task, batch))


def take_coalesced(task: str) -> list[int]:
    """In `task`: the ids pending for it, removed from the set. Call it first thing: a change committed after
    this call publishes a new task, one committed before is in the answer."""
    client = redis_client()
    if client is None:
        return []
    pending = _coalesce_key(task, "pending")
    try:
        client.delete(_coalesce_key(task, "scheduled"))
        pipe = client.pipeline(transaction=True)
        pipe.smembers(pending)
        pipe.delete(pending)
        members, _ = pipe.execute()
    except Exception:
        logger.warning("redis unavailable: %s pending ids not read", task, exc_info=True)
        return []
    return sorted(int(member) for member in members)


def _send_coalesced(task: str, ids: list[int]) -> None:
    client = redis_client()
    if client is not None:
        pending, scheduled = _coalesce_key(task, "pending"), _coalesce_key(task, "scheduled")
        try:
            pipe = client.pipeline(transaction=True)
            pipe.sadd(pending, *ids)
            pipe.expire(pending, COALESCE_SET_TTL)
            pipe.set(scheduled, 1, nx=True, ex=COALESCE_FLAG_TTL)
            first = pipe.execute()[2]
        except Exception:
            logger.warning("redis unavailable: %s sent with its ids", task, exc_info=True)
        else:
            if first and not send_task(task, countdown=COALESCE_DELAY):
                # The broker is down: let the next change try to publish again (the ids wait in the set).
                with contextlib.suppress(Exception):
                    client.delete(scheduled)
            return
    send_task(task, ids=ids)


def _coalesce_key(task: str, part: str) -> str:
    return f"otklik:coalesce:{task}:{part}"


def send_task(task: str, *, countdown: float | None = None, **kwargs: Any) -> bool:
    """Publish `task(**kwargs)` now (or after `countdown` seconds); False, logged, when the broker is down."""
    return _publish(task, kwargs, countdown) is None


def _publish(task: str, kwargs: dict[str, Any], countdown: float | None = None) -> Exception | None:
    from celery import current_app

    # Task names here are "<module>.<function>": importing the module registers the task even in a process
    # (a web worker) where Celery's autodiscovery has not run.
    importlib.import_module(task.rsplit(".", 1)[0])
    try:
        current_app.tasks[task].apply_async(kwargs=kwargs, countdown=countdown, retry=False)
    except BROKER_ERRORS as exc:
        logger.warning("broker unavailable, %s %s not sent: %s", task, kwargs, exc)
        return exc
    return None


def _send(row_id: int, task: str, kwargs: dict[str, Any]) -> bool:
    failure = _publish(task, kwargs)
    if failure is not None:  # the row stays in the outbox for the drain
        QueuedTask.objects.filter(pk=row_id).update(attempts=F("attempts") + 1, last_error=str(failure)[:2000])
        return False
    _mark_sent(row_id)
    return True


def _mark_sent(row_id: int) -> None:
    """Record that the row went to the broker, without waiting for the disk on PostgreSQL.

    The mark is advice to the drain, not data: lost in a database crash, the row is sent once more by the drain,
    and tasks are idempotent. An asynchronous commit saves the flush of the WAL that an autocommitted UPDATE
    waits for, a second one per request after the change's own commit (several milliseconds on a slow disk).
    One statement, its own transaction: `set_config(..., true)` is `SET LOCAL` for the statement's transaction.
    Inside a caller's transaction (a drain run in a test's, say) it would make the caller's commit asynchronous
    too, so there the mark is a plain UPDATE.
    """
    now = timezone.now()
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        QueuedTask.objects.filter(pk=row_id).update(sent_at=now)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_queuedtask SET sent_at = %s"
            " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS asynchronous WHERE id = %s",
            [now, row_id],
        )


def outbox_drain(*, limit: int = 1000, now: dt.datetime | None = None) -> int:
    """Send what the outbox still holds (oldest first); returns how many were sent. Stops at the first broker
    error: the broker is still down, and the rest waits for the next run.

    Two drains at once (beat and a starting worker) may send a row twice; tasks are idempotent (style.md).
    """
    now = now or timezone.now()
    sent = 0
    rows = list(
        QueuedTask.objects.filter(sent_at__isnull=True, created_at__lte=now - DRAIN_GRACE).order_by("created_at", "id")[
            :limit
        ]
    )
    for row in rows:
        if not _send(row.pk, row.task, row.kwargs):
            break
        sent += 1
    QueuedTask.objects.filter(sent_at__lt=now - KEEP_SENT).delete()
    return sent
