"""The one registry of hooks through which the rooms above appeals (connectors, ratings) act inside its transactions.

appeals imports none of them (style.md): they register here when their app is ready, and the service that
owns the moment calls the hook. A receiver runs synchronously inside the caller's transaction, so what it
writes commits or rolls back with the change itself (a reply and its delivery to the platform).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

ReplyReceiver = Callable[..., Any]
HistoryReceiver = Callable[[Sequence[Any]], None]

_reply_published: list[ReplyReceiver] = []
_history_written: list[HistoryReceiver] = []
_calendar_changed: list[Callable[[], None]] = []


def on_reply_published(receiver: ReplyReceiver) -> ReplyReceiver:
    """Register `receiver(appeal=..., reply=...)`, called for every public reply written (once per receiver)."""
    if receiver not in _reply_published:
        _reply_published.append(receiver)
    return receiver


def reply_published(*, appeal: Any, reply: Any) -> None:
    """Call inside the reply's transaction, after the reply row is written."""
    for receiver in _reply_published:
        receiver(appeal=appeal, reply=reply)


def on_history_written(receiver: HistoryReceiver) -> HistoryReceiver:
    """Register `receiver(rows)`, called with every batch of history events or replies inserted (once per receiver)."""
    if receiver not in _history_written:
        _history_written.append(receiver)
    return receiver


def history_written(rows: Sequence[Any]) -> None:
    """Call inside the writing transaction, with the rows just inserted (all of one model)."""
    for receiver in _history_written:
        receiver(rows)


def on_calendar_changed(receiver: Callable[[], None]) -> Callable[[], None]:
    """Register `receiver()`, called for every change of the production calendar's overrides (once per receiver)."""
    if receiver not in _calendar_changed:
        _calendar_changed.append(receiver)
    return receiver


def calendar_changed() -> None:
    """Call inside the override's transaction, after it is written or deleted."""
    for receiver in _calendar_changed:
        receiver()
