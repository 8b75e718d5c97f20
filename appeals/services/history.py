"""The append-only history of an appeal: how its events are built. Services write them, nothing else does."""

from __future__ import annotations

import datetime as dt
from typing import Any

from appeals.models import Appeal, AppealEvent
from core.access import Actor


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
