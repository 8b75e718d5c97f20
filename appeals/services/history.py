"""The append-only history of an appeal: how its events and replies are built and chained. Services write them,
nothing else does.

Tamper-evident: every event carries the SHA-256 of its content and of the hash of the event before it of the same
appeal, and so does every reply. Events and replies form two chains per appeal, not one: each table is then
checked alone, in its own insertion order, and a reply's event names the reply's id, so the event chain also
vouches for the replies it speaks of. A chain is ordered by id, not by time: the id is the order of insertion
under the appeal's row lock, while `created_at` is a value the writer chose (a sweep's `now`, taken before it
waited for a lock, can be older than an event committed first).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.db.models import OuterRef, Subquery

from appeals.models import Appeal, AppealEvent, Reply
from appeals.services import hooks
from core.access import Actor

Record = TypeVar("Record", AppealEvent, Reply)


def person_of(actor: Actor):
    """The user to name as author, assignee or creator: a real user, or None for the system."""
    return actor if getattr(actor, "pk", None) else None


def history_event(
    appeal: Appeal,
    *,
    actor: Actor,
    action: str,
    at: dt.datetime,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AppealEvent:
    """An unsaved event: who (None for the system), when, from which status to which, why."""
    return AppealEvent(
        appeal=appeal,
        actor=person_of(actor),
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data=data or {},
        created_at=at,
    )


def system_event(appeal: Appeal, *, action: str, at: dt.datetime, data: dict[str, Any]) -> AppealEvent:
    """An event of the clock (sweep, recompute): no actor, the status unchanged."""
    return history_event(
        appeal, actor=None, action=action, at=at, from_status=appeal.status, to_status=appeal.status, data=data
    )


def history_reply(appeal: Appeal, *, actor: Actor, kind: str, text: str, at: dt.datetime) -> Reply:
    """An unsaved reply or note; write it with `history_append`."""
    return Reply(appeal=appeal, kind=kind, author=person_of(actor), text=text, created_at=at)


def _moment(value: dt.datetime) -> str:
    # The same instant gives the same text before saving (any zone) and after reading back (UTC).
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _canonical(content: dict[str, Any], previous_hash: str) -> str:
    return json.dumps(
        {"content": content, "previous": previous_hash}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def _digest(content: dict[str, Any], previous_hash: str) -> str:
    return hashlib.sha256(_canonical(content, previous_hash).encode()).hexdigest()


def _event_content(event: Any, appeal_id: int) -> dict[str, Any]:
    return {
        "appeal": appeal_id,
        "actor": event.actor_id,
        "action": str(event.action),
        "from_status": str(event.from_status),
        "to_status": str(event.to_status),
        "reason": event.reason,
        "data": event.data,
        "created_at": _moment(event.created_at),
    }


def event_hash(event: Any, previous_hash: str) -> str:
    """The hash of an event (or of a row with its fields: a migration's historical model, a values() dict's
    attributes) following `previous_hash`. Every field an operator or auditor reads is covered."""
    return _digest(_event_content(event, event.appeal_id), previous_hash)


# Stands for the appeal's id in the canonical text of an event whose appeal is not inserted yet.
_ID_MARK = -7_349_102_866


def _event_hash_around_id(event: AppealEvent, previous_hash: str) -> tuple[str, str]:
    """The canonical text of `event` split around its appeal's id: SHA-256 of prefix + id + suffix (UTF-8) is
    `event_hash` once the id is known. The content's keys are sorted and "appeal" is the first that may repeat
    (in `data`), so the first `"appeal":` is the event's own."""
    prefix, mark, suffix = _canonical(_event_content(event, _ID_MARK), previous_hash).partition(f'"appeal":{_ID_MARK}')
    assert mark, "the appeal's id is not in the event's canonical text"
    return prefix + '"appeal":', suffix


def history_insert_with_appeal(appeal: Appeal, event: AppealEvent) -> AppealEvent:
    """Insert a new appeal and its first event (chained, as `history_append` with `first=True`), atomically.

    On PostgreSQL one statement does both (an INSERT of the appeal whose RETURNING feeds the event's INSERT, the
    event's hash computed by `sha256()` from its canonical text around the new id): outside a transaction it
    commits by itself, so intake costs one round trip instead of four (INSERT, INSERT, COMMIT and the BEGIN
    that the first carries). Elsewhere (SQLite) the two rows are saved in one transaction. Raises IntegrityError
    (nothing written) when the appeal breaks a constraint: a delivery seen before.
    """
    if connection.vendor != "postgresql":
        with transaction.atomic():
            appeal.save()
            event.appeal = appeal
            return history_append([event], first=True)[0]
    sql, appeal_fields, event_fields = intake_statement()
    prefix, suffix = _event_hash_around_id(event, "")
    params = [field.get_db_prep_save(field.pre_save(appeal, True), connection) for field in appeal_fields]
    params += [field.get_db_prep_save(field.pre_save(event, True), connection) for field in event_fields]
    params += [prefix, suffix]
    # In a caller's transaction a savepoint keeps a refused insert from aborting it; outside one, no transaction.
    atomic = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    with atomic, connection.cursor() as cursor:
        cursor.execute(sql, params)
        appeal.pk, event.pk = cursor.fetchone()
    appeal._state.adding, appeal._state.db = False, connection.alias
    event._state.adding, event._state.db = False, connection.alias
    event.appeal = appeal
    event.previous_hash, event.hash = "", event_hash(event, "")
    hooks.history_written([event])
    return event


def _column(field: models.Field) -> str:
    """The field's column (a concrete field always has one; the stubs allow None)."""
    if field.column is None:
        raise TypeError(f"{field!r} has no column")
    return field.column


@functools.cache
def intake_statement() -> tuple[str, tuple[models.Field, ...], tuple[models.Field, ...]]:
    """The statement of `history_insert_with_appeal` (PostgreSQL), built once per process, and the fields whose
    values it takes in order (then the hash's prefix and suffix).

    The appeal's part is the INSERT that Django compiles for `save()` (tests hold the two equal): every field's
    value is a plain parameter, prepared as the compiler does (`pre_save`, `get_db_prep_save`).
    """
    quote = connection.ops.quote_name
    appeal_meta, event_meta = Appeal._meta, AppealEvent._meta
    appeal_fields = tuple(f for f in appeal_meta.local_concrete_fields if not f.generated and f is not appeal_meta.pk)
    skipped = {"id", "appeal_id", "previous_hash", "hash"}
    event_fields = tuple(f for f in event_meta.concrete_fields if f.attname not in skipped)
    names = ", ".join(quote(_column(f)) for f in appeal_fields)
    appeal_sql = (
        f"INSERT INTO {quote(appeal_meta.db_table)} ({names}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(appeal_fields))}) "
        f"RETURNING {quote(appeal_meta.db_table)}.{quote(_column(appeal_meta.pk))}"
    )
    columns = [*(quote(_column(f)) for f in event_fields), "appeal_id", "previous_hash", "hash"]
    values = [
        *(["%s"] * len(event_fields)),
        "new_appeal.id",
        "''",
        "encode(sha256(convert_to(%s || new_appeal.id::text || %s, 'UTF8')), 'hex')",
    ]
    # Identifiers from the models; every value is a parameter.
    sql = (
        f"WITH new_appeal AS ({appeal_sql}) "  # noqa: S608
        f"INSERT INTO {quote(event_meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM new_appeal RETURNING appeal_id, id"
    )
    return sql, appeal_fields, event_fields


def reply_hash(reply: Any, previous_hash: str) -> str:
    """The hash of a reply or note following `previous_hash`."""
    return _digest(
        {
            "appeal": reply.appeal_id,
            "kind": str(reply.kind),
            "author": reply.author_id,
            "text": reply.text,
            "created_at": _moment(reply.created_at),
        },
        previous_hash,
    )


def last_hashes(model: type[AppealEvent] | type[Reply], appeal_ids: Iterable[int]) -> dict[int, str]:
    """The hash of the newest row of each appeal's chain in `model`, in one query; appeals with none are absent."""
    newest = model.objects.filter(appeal=OuterRef("pk")).order_by("-id").values("hash")[:1]
    rows = Appeal.objects.filter(pk__in=set(appeal_ids)).annotate(last=Subquery(newest)).values_list("pk", "last")
    return {pk: last for pk, last in rows if last}


def chain(records: Sequence[Record], *, first: bool = False) -> None:
    """Set `previous_hash` and `hash` of unsaved events (or replies) in list order, continuing each appeal's chain.

    Call inside the transaction that holds the row locks of their appeals, right before inserting them in this
    order (`history_append` does both). `first=True` says the appeals have no history yet (intake), which saves
    the query for the last hashes.
    """
    if not records:
        return
    model = type(records[0])
    compute = event_hash if model is AppealEvent else reply_hash
    heads = {} if first else last_hashes(model, {record.appeal_id for record in records})
    for record in records:
        record.previous_hash = heads.get(record.appeal_id, "")
        record.hash = heads[record.appeal_id] = compute(record, record.previous_hash)


def history_append(records: Sequence[Record], *, first: bool = False) -> list[Record]:
    """Chain and insert events (or replies), all of one model; see `chain` for the precondition."""
    if not records:
        return []
    chain(records, first=first)
    created = type(records[0]).objects.bulk_create(records)
    # Whoever reacts to history as it is written (ratings re-rolls its rollups) does so inside this transaction.
    hooks.history_written(created)
    return created
