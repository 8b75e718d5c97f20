"""The SLA clock of an appeal: which policy applies, its deadlines, warning points and state.

The arithmetic of working time lives in core.worktime (pure functions); this module feeds it the database's
view of the world (an organisation's zone and office hours, calendar overrides, policies) and caches that
view per process. The cache is keyed by a stamp kept in Django's cache (Redis in production): a change of
overrides or policies bumps the stamp, and every process rebuilds on its next call.
"""

from __future__ import annotations

import copy
import datetime as dt
import time
import zoneinfo
from dataclasses import dataclass
from typing import cast

from django.db import transaction
from django.db.models import BooleanField, Case, CharField, DateTimeField, F, Q, QuerySet, Value, When
from django.utils import timezone

from appeals.models import (
    FINAL_STATUSES,
    RUNNING_STATUSES,
    Appeal,
    CalendarOverride,
    SlaPolicy,
    SlaState,
    Status,
    Unit,
)
from core import worktime
from core.cache import cache_add, cache_get, cache_set
from publics.models import Organization

_STAMP_TTL_SECONDS = 10  # without a shared cache (local SQLite demo) other processes see a change within this

_local: dict[str, tuple[float, object, object]] = {}


def _stamp(name: str) -> int:
    """The shared stamp of `name`. Without a cache (Redis down) every call gives a new stamp, so each process
    rereads at most every `_STAMP_TTL_SECONDS`: slower, never stale for longer."""
    key = f"otklik:stamp:{name}"
    value = cache_get(key)
    if value is None:
        value = time.time_ns()
        cache_add(key, value, None)
        value = cache_get(key, value)
    return value


def bump_stamp(name: str) -> None:
    """Tell every process that `name` (calendar or policies) changed; call it on commit of the change."""
    cache_set(f"otklik:stamp:{name}", time.time_ns(), None)
    _local.pop(name, None)


def forget_local(name: str) -> None:
    """Drop this process's copy now, so the rest of the changing transaction reads the new rows."""
    _local.pop(name, None)


def changed(name: str) -> None:
    """Call inside the transaction that changes `name`: this process rereads at once, the others on commit."""
    forget_local(name)
    transaction.on_commit(lambda: bump_stamp(name))


def _cached(name: str, build):
    """`build()` memoised per process until the stamp of `name` changes (checked at most every few seconds)."""
    now = time.monotonic()
    entry = _local.get(name)
    if entry is not None and now - entry[0] < _STAMP_TTL_SECONDS:
        return entry[2]
    stamp = _stamp(name)
    if entry is not None and entry[1] == stamp:
        _local[name] = (now, stamp, entry[2])
        return entry[2]
    value = build()
    _local[name] = (now, stamp, value)
    return value


# Calendar ---------------------------------------------------------------------------------------------------


def _load_overrides() -> dict[int | None, tuple[worktime.DayOverride, ...]]:
    """Overrides per region id (None: federal), regional ones taking precedence over federal for a date."""
    federal: dict[dt.date, worktime.DayOverride] = {}
    regional: dict[int, dict[dt.date, worktime.DayOverride]] = {}
    for row in CalendarOverride.objects.order_by("date").values("date", "region_id", "kind", "hours"):
        override = worktime.DayOverride(
            date=row["date"],
            kind=cast(worktime.DayKind, row["kind"]),
            hours=float(row["hours"]) if row["hours"] is not None else None,
        )
        if row["region_id"] is None:
            federal[row["date"]] = override
        else:
            regional.setdefault(row["region_id"], {})[row["date"]] = override
    result: dict[int | None, tuple[worktime.DayOverride, ...]] = {None: tuple(federal.values())}
    for region_id, days in regional.items():
        result[region_id] = tuple({**federal, **days}.values())
    return result


def calendar_for_region(region_id: int | None) -> worktime.WorkCalendar:
    overrides = _cached("calendar", _load_overrides)
    own = overrides.get(region_id, overrides[None])
    return worktime.get_calendar((region_id if own is not overrides[None] else None, own), own)


def schedule_for(organization: Organization) -> worktime.Schedule:
    """The organisation's working-time schedule. Needs `organization.region` loaded (select_related)."""
    return worktime.Schedule(
        calendar=calendar_for_region(organization.region_id),
        tz=zoneinfo.ZoneInfo(organization.effective_timezone),
        opens=organization.office_opens_at,
        closes=organization.office_closes_at,
    )


# Policies ---------------------------------------------------------------------------------------------------

# Specificity: the number of filters set; a tie goes to the policy whose set filters rank higher in this order
# (an organisation's own rule beats a regional one, which beats a federal one by topic, and so on).
_PRECEDENCE = SlaPolicy.FILTER_FIELDS


def _specificity(policy: SlaPolicy) -> tuple:
    present = [
        bool(getattr(policy, f"{name}_id", None) if name in _FK_FILTERS else getattr(policy, name))
        for name in _PRECEDENCE
    ]
    return (sum(present), tuple(present), policy.lineage)


_FK_FILTERS = {"organization", "region", "category"}


def _load_policies() -> list[SlaPolicy]:
    policies = list(SlaPolicy.objects.filter(is_current=True, is_active=True))
    policies.sort(key=_specificity, reverse=True)
    return policies


def policy_for(
    *,
    kind: str,
    channel: str,
    platform: str,
    category_id: int | None,
    category_parent_id: int | None,
    priority: str,
    organization: Organization,
) -> SlaPolicy | None:
    """The most specific current, active policy whose filters all match (an empty filter matches anything).

    A policy filtered on a top-level category also matches appeals in its subcategories.
    """
    facts = {
        "kind": kind,
        "channel": channel,
        "platform": platform,
        "priority": priority,
        "organization_kind": organization.kind,
    }
    for policy in _cached("policies", _load_policies):
        if policy.organization_id and policy.organization_id != organization.pk:
            continue
        if policy.region_id and policy.region_id != organization.region_id:
            continue
        if policy.category_id and policy.category_id not in (category_id, category_parent_id):
            continue
        if all(not getattr(policy, name) or getattr(policy, name) == value for name, value in facts.items()):
            return policy
    return None


# Deadlines --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadlines:
    first_response_due_at: dt.datetime | None
    resolution_due_at: dt.datetime | None


def compute_deadlines(appeal: Appeal, policy: SlaPolicy | None, schedule: worktime.Schedule) -> Deadlines:
    """Deadlines from the appeal's own facts, so they can be recomputed at any time (calendar or policy change).

    First response counts from receipt, resolution from `resolution_started_at` (registration, the redirect
    that started the receiving body's term, or a reopening). Each closed pause moves a deadline by the paused
    time in the target's unit; an extension moves the resolution deadline once, after the pauses.
    """
    if policy is None:
        return Deadlines(None, None)
    first = worktime.add_time(
        appeal.received_at, policy.first_response_amount, _unit(policy.first_response_unit), schedule
    )
    resolution = worktime.add_time(
        appeal.resolution_started_at, policy.resolution_amount, _unit(policy.resolution_unit), schedule
    )
    for paused_at, resumed_at in appeal.pause_intervals():
        # A pause moves only a clock that was running: first response until it was met, resolution since
        # its clock started (a reopening starts it afresh).
        if appeal.first_responded_at is None or appeal.first_responded_at > paused_at:
            first = worktime.shift_for_pause(first, paused_at, resumed_at, _unit(policy.first_response_unit), schedule)
        if resumed_at > appeal.resolution_started_at:
            start = max(paused_at, appeal.resolution_started_at)
            resolution = worktime.shift_for_pause(
                resolution, start, resumed_at, _unit(policy.resolution_unit), schedule
            )
    if appeal.extended_at and appeal.extended_at >= appeal.resolution_started_at and policy.extension_amount:
        resolution = worktime.add_time(resolution, policy.extension_amount, _unit(policy.extension_unit), schedule)
    return Deadlines(first, resolution)


def apply_deadlines(appeal: Appeal, policy: SlaPolicy | None, schedule: worktime.Schedule, *, now: dt.datetime) -> None:
    """Set the policy, deadlines and the sweep's bookkeeping on the row (not saved)."""
    deadlines = compute_deadlines(appeal, policy, schedule)
    appeal.policy = policy
    appeal.first_response_due_at = deadlines.first_response_due_at
    appeal.resolution_due_at = deadlines.resolution_due_at
    # A deadline moved into the future (a holiday added later) is no longer breached.
    if appeal.first_response_breached and _in_future(appeal.first_response_due_at, now):
        appeal.first_response_breached = False
    if appeal.resolution_breached and _in_future(appeal.resolution_due_at, now):
        appeal.resolution_breached = False
    refresh_tracking(appeal, schedule, now=now)


def _in_future(moment: dt.datetime | None, now: dt.datetime) -> bool:
    return moment is not None and moment > now


def _unit(value: str) -> worktime.Unit:
    return cast(worktime.Unit, value)  # the model's choices are exactly worktime's units


def _active_target(appeal: Appeal) -> tuple[str, dt.datetime, dt.datetime, worktime.Unit] | None:
    """(target, start, due, unit) of the target the clock now runs for, or None."""
    policy = appeal.policy
    if policy is None:
        return None
    if appeal.first_responded_at is None and appeal.first_response_due_at:
        return "first_response", appeal.received_at, appeal.first_response_due_at, _unit(policy.first_response_unit)
    if appeal.resolved_at is None and appeal.resolution_due_at:
        return "resolution", appeal.resolution_started_at, appeal.resolution_due_at, _unit(policy.resolution_unit)
    return None


def warning_points(appeal: Appeal, schedule: worktime.Schedule) -> list[tuple[int, dt.datetime]]:
    """(percent, moment) of each warning threshold of the active target, in order.

    A threshold is a share of the allowed time measured in the target's unit: for working hours, that share of
    the office hours between start and deadline; for the other units, that share of the calendar time.
    """
    target = _active_target(appeal)
    if target is None:
        return []
    _, start, due, unit = target
    assert appeal.policy is not None  # _active_target found a target, so there is a policy
    thresholds = appeal.policy.warn_thresholds
    points = []
    if unit == Unit.WORKING_HOURS:
        allowed = worktime.elapsed(start, due, unit, schedule)
        for percent in thresholds:
            points.append((percent, worktime.add_time(start, allowed * percent / 100, unit, schedule)))
    else:
        for percent in thresholds:
            points.append((percent, start + (due - start) * percent / 100))
    return points


def refresh_tracking(appeal: Appeal, schedule: worktime.Schedule, *, now: dt.datetime) -> None:
    """Recompute `sla_warn_from` and `sla_next_check_at` (when the sweep must look at this appeal next), and the
    stored `sla_state` and `due_at` as of `now`.

    A paused or finished appeal needs no check; otherwise the next line is the earliest of an unsent warning
    threshold, the moment the appeal becomes at risk, and an unmet, not yet announced deadline: every moment at
    which its state changes by time alone, so the sweep keeps the stored state right at each line it crosses.
    Every write of an appeal's clock (intake, transitions, recompute, the sweep) ends here.
    """
    appeal.sla_warn_from = None
    appeal.sla_next_check_at = None
    if is_running(appeal.status) and appeal.policy is not None:
        points = warning_points(appeal, schedule)
        if points:
            appeal.sla_warn_from = points[0][1]
        lines = [moment for percent, moment in points if percent > appeal.sla_warned_percent]
        if appeal.sla_warn_from is not None and appeal.sla_warn_from > now:
            lines.append(appeal.sla_warn_from)
        if appeal.first_responded_at is None and appeal.first_response_due_at and not appeal.first_response_breached:
            lines.append(appeal.first_response_due_at)
        if appeal.resolved_at is None and appeal.resolution_due_at and not appeal.resolution_breached:
            lines.append(appeal.resolution_due_at)
        appeal.sla_next_check_at = min(lines) if lines else None
    store_state(appeal, now=now)


def store_state(appeal: Appeal, *, now: dt.datetime) -> None:
    """Set the stored `sla_state` and `due_at` from the appeal's facts as of `now` (not saved)."""
    facts = sla_facts(appeal, now=now)
    appeal.sla_state = facts.sla_state
    appeal.due_at = facts.due_at


# Fields every write of an appeal's clock changes: a service that saves selected fields saves these.
TRACKING_FIELDS = ["sla_warn_from", "sla_next_check_at", "sla_state", "due_at"]


# State: the one definition of running, late, met, on time and breached ----------------------------------------
#
# Each rule is written twice, in Python for one appeal in memory and as a query expression for the database to
# filter, order and count by; tests/appeals/test_sla_state_agreement.py holds every pair equal over every status
# and clock position. Services, selectors, measures and exports take them from here, nowhere else.
#
# `sla_facts` computes an appeal's state from its deadlines, times and flags: the definition, and the oracle of the
# stored state. The stored `sla_state` and `due_at` (kept by `refresh_tracking`) let lists filter, order and count
# through indexes; between two writes only time moves a running appeal's state, on_track -> at_risk -> breached,
# so `current_facts` and `sla_state_q` advance the stored state to any later moment exactly, with no CASE over
# the table and whatever the sweep has got to.


def is_running(status: str) -> bool:
    """Whether the clock runs: open and not paused."""
    return status in RUNNING_STATUSES


def is_final(status: str) -> bool:
    return status in FINAL_STATUSES


def _before(moment: dt.datetime | None, now: dt.datetime) -> bool:
    return moment is not None and moment < now


def _after(done: dt.datetime | None, due: dt.datetime | None) -> bool:
    return done is not None and due is not None and done > due


def _on_or_before(done: dt.datetime | None, due: dt.datetime | None) -> bool:
    return done is not None and due is not None and done <= due


def is_overdue(appeal: Appeal, *, now: dt.datetime) -> bool:
    """A deadline has passed and its target is unmet, while the clock runs."""
    first_late = appeal.first_responded_at is None and _before(appeal.first_response_due_at, now)
    resolution_late = appeal.resolved_at is None and _before(appeal.resolution_due_at, now)
    return is_running(appeal.status) and (first_late or resolution_late)


def overdue_q(now: dt.datetime) -> Q:
    """`is_overdue` as a condition on the stored running deadline (the earliest unmet one): served by the
    (scope, due_at) indexes."""
    return Q(status__in=RUNNING_STATUSES, due_at__lt=now)


def overdue_from_deadlines_q(now: dt.datetime) -> Q:
    """`is_overdue` from the two deadlines themselves: the oracle of `overdue_q`, and for rows whose stored
    fields are being filled (migrations)."""
    first_late = Q(first_responded_at__isnull=True, first_response_due_at__lt=now)
    resolution_late = Q(resolved_at__isnull=True, resolution_due_at__lt=now)
    return Q(status__in=RUNNING_STATUSES) & (first_late | resolution_late)


def was_late(appeal: Appeal) -> bool:
    """A deadline was announced as breached, or a target was met after its deadline."""
    return (
        appeal.first_response_breached
        or appeal.resolution_breached
        or _after(appeal.first_responded_at, appeal.first_response_due_at)
        or _after(appeal.resolved_at, appeal.resolution_due_at)
    )


def was_late_q() -> Q:
    return (
        Q(first_response_breached=True)
        | Q(resolution_breached=True)
        | Q(first_responded_at__gt=F("first_response_due_at"))
        | Q(resolved_at__gt=F("resolution_due_at"))
    )


# Per target, for the measures (domain.md section 7): on time = met at or before its deadline; breached = the
# deadline passed unmet while the clock ran, or the target was met late. Neither = not judged (still running and
# not yet due, no deadline, or ended without that target, e.g. rejected before the deadline).


def first_response_on_time(appeal: Appeal) -> bool:
    return not appeal.first_response_breached and _on_or_before(appeal.first_responded_at, appeal.first_response_due_at)


def first_response_on_time_q() -> Q:
    return Q(
        first_response_breached=False,
        first_responded_at__isnull=False,
        first_response_due_at__isnull=False,
        first_responded_at__lte=F("first_response_due_at"),
    )


def first_response_breached(appeal: Appeal, *, now: dt.datetime) -> bool:
    return (
        appeal.first_response_breached
        or _after(appeal.first_responded_at, appeal.first_response_due_at)
        or (
            is_running(appeal.status)
            and appeal.first_responded_at is None
            and _before(appeal.first_response_due_at, now)
        )
    )


def first_response_breached_q(now: dt.datetime) -> Q:
    return (
        Q(first_response_breached=True)
        | Q(first_responded_at__gt=F("first_response_due_at"))
        | Q(status__in=RUNNING_STATUSES, first_responded_at__isnull=True, first_response_due_at__lt=now)
    )


def resolution_on_time(appeal: Appeal) -> bool:
    return not appeal.resolution_breached and _on_or_before(appeal.resolved_at, appeal.resolution_due_at)


def resolution_on_time_q() -> Q:
    return Q(
        resolution_breached=False,
        resolved_at__isnull=False,
        resolution_due_at__isnull=False,
        resolved_at__lte=F("resolution_due_at"),
    )


def resolution_breached(appeal: Appeal, *, now: dt.datetime) -> bool:
    return (
        appeal.resolution_breached
        or _after(appeal.resolved_at, appeal.resolution_due_at)
        or (is_running(appeal.status) and appeal.resolved_at is None and _before(appeal.resolution_due_at, now))
    )


def resolution_breached_q(now: dt.datetime) -> Q:
    return (
        Q(resolution_breached=True)
        | Q(resolved_at__gt=F("resolution_due_at"))
        | Q(status__in=RUNNING_STATUSES, resolved_at__isnull=True, resolution_due_at__lt=now)
    )


@dataclass(frozen=True)
class SlaFacts:
    sla_state: str
    is_overdue: bool
    due_at: dt.datetime | None


def sla_facts(appeal: Appeal, *, now: dt.datetime) -> SlaFacts:
    """The SLA state, overdue flag and running deadline of one appeal in memory, from its deadlines, times and
    flags: the definition, which the stored state must always equal (tests/appeals/test_stored_sla_state.py).

    The running deadline (`due_at`) is the earliest unmet deadline of an open appeal: it is overdue exactly when
    that moment has passed while the clock runs, and the queue orders by it.
    """
    final = is_final(appeal.status)
    overdue = is_overdue(appeal, now=now)
    if appeal.status == Status.WAITING:
        state = SlaState.PAUSED
    elif was_late(appeal) or overdue:
        state = SlaState.BREACHED
    elif final or (appeal.first_responded_at is not None and appeal.resolution_due_at is None):
        state = SlaState.MET
    elif appeal.sla_warn_from is not None and appeal.sla_warn_from <= now:
        state = SlaState.AT_RISK
    else:
        state = SlaState.ON_TRACK
    due_at = None
    if not final:
        unmet = [
            due
            for done, due in (
                (appeal.first_responded_at, appeal.first_response_due_at),
                (appeal.resolved_at, appeal.resolution_due_at),
            )
            if done is None and due is not None
        ]
        due_at = min(unmet) if unmet else None
    return SlaFacts(sla_state=str(state), is_overdue=overdue, due_at=due_at)


def current_facts(appeal: Appeal, *, now: dt.datetime) -> SlaFacts:
    """The stored state advanced to `now`: equal to `sla_facts(appeal, now=now)` for any `now` after the appeal's
    last write, with no recomputation (a list shows it for every row at no cost)."""
    overdue = is_running(appeal.status) and _before(appeal.due_at, now)
    state = appeal.sla_state
    if state in _TIME_DRIVEN:
        if overdue:
            state = SlaState.BREACHED
        elif state == SlaState.ON_TRACK and appeal.sla_warn_from is not None and appeal.sla_warn_from <= now:
            state = SlaState.AT_RISK
    return SlaFacts(sla_state=str(state), is_overdue=overdue, due_at=appeal.due_at)


# The stored states that time alone moves on (the others change only when the appeal is written).
_TIME_DRIVEN = (SlaState.ON_TRACK, SlaState.AT_RISK)


def sla_state_q(state: str, now: dt.datetime) -> Q:
    """Appeals whose state as of `now` is `state` (the twin of `current_facts`): plain conditions on stored
    columns, so the database filters and counts them through indexes instead of computing a CASE per row."""
    late = Q(sla_state__in=_TIME_DRIVEN, due_at__lt=now)
    warned = Q(sla_warn_from__lte=now)
    if state == SlaState.BREACHED:
        return Q(sla_state=SlaState.BREACHED) | late
    if state == SlaState.AT_RISK:
        return (Q(sla_state=SlaState.AT_RISK) | (Q(sla_state=SlaState.ON_TRACK) & warned)) & ~late
    if state == SlaState.ON_TRACK:
        return Q(sla_state=SlaState.ON_TRACK) & ~warned & ~late
    return Q(sla_state=state)


def annotate_sla(queryset: QuerySet[Appeal], *, now: dt.datetime | None = None) -> QuerySet[Appeal]:
    """Add `is_overdue` and `current_sla_state` (the state as of `now`) for code that needs them in SQL, from
    the stored columns; `due_at` is a column itself."""
    now = now or timezone.now()
    return queryset.annotate(
        is_overdue=Case(When(overdue_q(now), then=Value(True)), default=Value(False), output_field=BooleanField()),
        current_sla_state=Case(
            *(When(sla_state_q(state, now), then=Value(state)) for state in (SlaState.BREACHED, SlaState.AT_RISK)),
            default=F("sla_state"),
            output_field=CharField(),
        ),
    )


def sla_from_deadlines(now: dt.datetime) -> dict[str, Case]:
    """`sla_state` and `due_at` as the database computes them from the deadlines, times and flags, exactly as
    `sla_facts` does: to fill the stored columns in one UPDATE (the migration that added them) and to check them
    at national scale (`manage.py verify_sla_state`)."""
    moment = Value(now, output_field=DateTimeField())
    first_unmet = Q(first_responded_at__isnull=True, first_response_due_at__isnull=False)
    resolution_unmet = Q(resolved_at__isnull=True, resolution_due_at__isnull=False)
    return {
        "sla_state": Case(
            When(status=Status.WAITING, then=Value(SlaState.PAUSED)),
            When(was_late_q() | overdue_from_deadlines_q(now), then=Value(SlaState.BREACHED)),
            When(status__in=FINAL_STATUSES, then=Value(SlaState.MET)),
            When(first_responded_at__isnull=False, resolution_due_at__isnull=True, then=Value(SlaState.MET)),
            When(sla_warn_from__lte=moment, then=Value(SlaState.AT_RISK)),
            default=Value(SlaState.ON_TRACK),
            output_field=CharField(),
        ),
        "due_at": Case(
            When(status__in=FINAL_STATUSES, then=Value(None)),
            When(
                first_unmet & resolution_unmet & Q(resolution_due_at__lt=F("first_response_due_at")),
                then=F("resolution_due_at"),
            ),
            When(first_unmet, then=F("first_response_due_at")),
            When(resolution_unmet, then=F("resolution_due_at")),
            default=Value(None),
            output_field=DateTimeField(),
        ),
    }


# As of a past moment: the appeal as it stood then ---------------------------------------------------------------
#
# An export must prove what an overdue list said on a given day, so it reconstructs each appeal at `moment` from
# what is stored and never changes afterwards: the receipt, the history's statuses and reopenings, the closed
# pauses and the extension (each with its moment), and the first-response and resolution times. A later pause,
# extension or reopening moved a deadline after `moment`: such an appeal's deadlines are recomputed from its
# facts as they stood then (`appeal_as_of`); every other appeal's stored deadlines are those it had then. Both
# forms below (Python for one appeal, SQL for the exports' statement) apply the same rules;
# tests/exports/test_as_of.py holds them equal. Deadlines are recomputed with today's calendar and the appeal's
# policy version: a holiday declared after `moment` moves a reconstructed deadline as it moved the stored one.


def initial_resolution_start(appeal: Appeal) -> dt.datetime:
    """Where the resolution clock started before any reopening (intake: registration for a formal appeal)."""
    return appeal.registered_at if appeal.kind == "appeal" else appeal.received_at


def deadlines_moved_after(appeal: Appeal, moment: dt.datetime) -> bool:
    """Whether something after `moment` moved the appeal's stored deadlines (a pause that ended later, the
    extension, a reopening): then `appeal_as_of` recomputes them. The twin of `deadlines_moved_after_sql`."""
    return (
        (appeal.extended_at is not None and appeal.extended_at > moment)
        or appeal.resolution_started_at > moment
        or any(resumed_at > moment for _, resumed_at in appeal.pause_intervals())
    )


def appeal_as_of(
    appeal: Appeal, *, moment: dt.datetime, status: str | None, reopened_at: dt.datetime | None
) -> Appeal | None:
    """An unsaved copy of `appeal` as it stood at `moment`, or None if it did not exist yet.

    `status` is the status its history gave it at `moment` (`status_as_of`), `reopened_at` its last reopening
    at or before `moment`. Needs `organization__region` and `policy` loaded when the deadlines must be recomputed.
    """
    if status is None or appeal.received_at > moment:
        return None
    past = copy.copy(appeal)  # shallow: loaded fields only (a deferred one is never read here)
    past.status = status
    for name in ("first_responded_at", "resolved_at", "closed_at"):
        if getattr(past, name) is not None and getattr(past, name) > moment:
            setattr(past, name, None)
    if deadlines_moved_after(appeal, moment):
        intervals = appeal.pause_intervals()
        past.pauses = [[start.isoformat(), end.isoformat()] for start, end in intervals if end <= moment]
        running_pause = [start for start, end in intervals if start <= moment < end]
        past.paused_at = running_pause[0] if running_pause else None
        if past.extended_at is not None and past.extended_at > moment:
            past.extended_at = None
        past.resolution_started_at = reopened_at or initial_resolution_start(appeal)
        deadlines = compute_deadlines(past, appeal.policy, schedule_for(appeal.organization))
        past.first_response_due_at = deadlines.first_response_due_at
        past.resolution_due_at = deadlines.resolution_due_at
    if past.paused_at is not None and past.paused_at > moment:
        past.paused_at = None
    return past


def status_as_of(events: list[tuple[dt.datetime, int, str]], moment: dt.datetime) -> str | None:
    """The status the history gave an appeal at `moment`: the `to_status` of its last event at or before it,
    from (created_at, id, to_status) rows; None before its first event. The twin of `status_as_of_sql`."""
    past = [event for event in events if event[0] <= moment and event[2]]
    return max(past)[2] if past else None


def is_overdue_as_of(past: Appeal | None, *, moment: dt.datetime) -> bool:
    """`is_overdue` of the appeal as it stood at `moment` (`appeal_as_of`)."""
    return past is not None and is_overdue(past, now=moment)


# The same in SQL, for the exports' one statement (PostgreSQL). `appeal` is the alias of the appeal table and
# `moment` the placeholder of the moment; each returns a SQL expression.


def status_as_of_sql(appeal: str, moment: str) -> str:
    return (
        f"(SELECT e.to_status FROM appeals_appealevent e WHERE e.appeal_id = {appeal}.id "  # noqa: S608
        f"AND e.created_at <= {moment} AND e.to_status <> '' ORDER BY e.created_at DESC, e.id DESC LIMIT 1)"
    )


def deadlines_moved_after_sql(appeal: str, moment: str) -> str:
    return (
        f"({appeal}.extended_at > {moment} OR {appeal}.resolution_started_at > {moment} OR EXISTS ("  # noqa: S608
        f"SELECT 1 FROM jsonb_array_elements({appeal}.pauses) p WHERE (p->>1)::timestamptz > {moment}))"
    )


def done_as_of_sql(column: str, moment: str) -> str:
    """A first-response or resolution time as known at `moment` (a later one was not known then)."""
    return f"(CASE WHEN {column} <= {moment} THEN {column} END)"


def overdue_as_of_sql(
    *,
    status: str,
    first_responded_at: str,
    first_response_due_at: str,
    resolved_at: str,
    resolution_due_at: str,
    moment: str,
) -> str:
    """`is_overdue` over SQL expressions of the appeal as it stood at `moment`."""
    running = ", ".join(f"'{value}'" for value in RUNNING_STATUSES)
    return (
        f"({status} IN ({running}) AND (({first_responded_at} IS NULL AND {first_response_due_at} < {moment}) "
        f"OR ({resolved_at} IS NULL AND {resolution_due_at} < {moment})))"
    )
