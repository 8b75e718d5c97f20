"""The SLA sweep: announce each warning threshold and each deadline an appeal's clock has crossed, once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from appeals import sla
from appeals.models import Appeal, AppealEvent, EventAction
from appeals.services.history import history_append, system_event
from core import worktime
from core.outbox import queue_after_commit


@dataclass
class SweepResult:
    checked: int = 0
    warnings: int = 0
    breaches: int = 0


# Each target: its name, the moment it was met, its deadline, and whether its breach was announced.
_TARGETS = (
    ("first_response", "first_responded_at", "first_response_due_at", "first_response_breached"),
    ("resolution", "resolved_at", "resolution_due_at", "resolution_breached"),
)


def _sweep_one(appeal: Appeal, schedule: worktime.Schedule, now: dt.datetime) -> list[AppealEvent]:
    """Announce every line the appeal has crossed by `now`, once, and set its next check."""
    events: list[AppealEvent] = []

    def announce(action: str, data: dict) -> None:
        events.append(system_event(appeal, action=action, at=now, data=data))

    if sla.is_running(appeal.status):
        for target, done, due, flag in _TARGETS:
            deadline = getattr(appeal, due)
            if getattr(appeal, done) is None and deadline and deadline <= now and not getattr(appeal, flag):
                setattr(appeal, flag, True)
                announce(EventAction.SLA_BREACHED, {"target": target, "due_at": deadline.isoformat()})
        target = "first_response" if appeal.first_responded_at is None else "resolution"
        breached = appeal.first_response_breached if target == "first_response" else appeal.resolution_breached
        for percent, moment in sla.warning_points(appeal, schedule):
            if percent > appeal.sla_warned_percent and moment <= now:
                appeal.sla_warned_percent = percent
                if not breached:  # a breach already said more than a warning would
                    announce(EventAction.SLA_WARNING, {"target": target, "percent": percent})
    sla.refresh_tracking(appeal, schedule, now=now)
    if appeal.sla_next_check_at is not None and appeal.sla_next_check_at <= now:
        appeal.sla_next_check_at = None  # defensive: every line up to now was handled above
    return events


_SWEEP_FIELDS = ["first_response_breached", "resolution_breached", "sla_warned_percent", *sla.TRACKING_FIELDS]


def sla_sweep(*, now: dt.datetime | None = None, batch_size: int = 1000) -> SweepResult:
    """Mark appeals that crossed a warning threshold or a deadline since the last sweep; notify operators.

    Reads only appeals whose `sla_next_check_at` has come (a partial index), so its cost follows the number
    of appeals that just crossed a line, not the size of the table. Rows locked by a concurrent transition
    are skipped and picked up by the next sweep. Idempotent: a second run finds nothing due.
    """
    now = now or timezone.now()
    result = SweepResult()
    while True:
        with transaction.atomic():
            batch = list(
                Appeal.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("organization__region", "policy")
                .defer("search_vector")
                .filter(sla_next_check_at__lte=now)
                .order_by("sla_next_check_at", "id")[:batch_size]
            )
            events: list[AppealEvent] = []
            schedules: dict[int, worktime.Schedule] = {}
            for appeal in batch:
                schedule = schedules.get(appeal.organization_id)
                if schedule is None:
                    schedule = schedules[appeal.organization_id] = sla.schedule_for(appeal.organization)
                events.extend(_sweep_one(appeal, schedule, now))
            Appeal.objects.bulk_update(batch, _SWEEP_FIELDS)
            created = history_append(events)
            if created:
                event_ids = [event.pk for event in created]
                queue_after_commit("appeals.tasks.notify_sla_events", event_ids=event_ids)
        result.checked += len(batch)
        result.warnings += sum(1 for event in events if event.action == EventAction.SLA_WARNING)
        result.breaches += sum(1 for event in events if event.action == EventAction.SLA_BREACHED)
        if len(batch) < batch_size:
            return result
