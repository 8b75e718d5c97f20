"""Property: the stored SLA state equals the definition after any series of changes and any passage of time.

Hypothesis drives random series of intake, taking, assigning, replies, notes, pauses and resumptions,
extensions, rejections, closings, reopenings, conversions, redirects, sweeps and calendar changes (a day off
added in the region, then the recompute the change queues), with time moving on by minutes to days between
them. After every step, for every appeal of the series:
- what lists show and filter by (the stored columns advanced to the moment: `current_facts`, `sla_state_q`,
  `overdue_q`) equals `sla.sla_facts`, computed from the deadlines, times and flags, at that moment and at a
  random later one with no write in between;
- right after a sweep, the stored `sla_state` and `due_at` themselves equal it (the sweep keeps them right at
  every line it crosses).
"""

import contextlib
import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appeals import services, sla
from appeals.models import Appeal, CalendarOverride, SlaState
from core.errors import ApplicationError
from tests.factories import make_appeal

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)  # Monday 10:00 in Moscow
ACTIONS = (
    "intake",
    "take",
    "assign",
    "reply",
    "note",
    "wait",
    "resume",
    "extend",
    "reject",
    "close",
    "reopen",
    "convert",
    "redirect",
    "sweep",
    "holiday",
)
steps = st.lists(
    st.tuples(
        st.sampled_from(ACTIONS),
        st.integers(min_value=0, max_value=20),  # which appeal of the series
        st.integers(min_value=1, max_value=4 * 24 * 60),  # minutes since the previous step
        st.sampled_from(("message", "appeal")),
        st.integers(min_value=0, max_value=40 * 24 * 60),  # a later look, minutes ahead
    ),
    min_size=1,
    max_size=14,
)


class _Rollback(Exception):
    pass


def _act(world, action: str, appeal: Appeal, now: dt.datetime) -> None:
    actor = world.admin
    calls = {
        "take": lambda: services.appeal_take(actor=actor, appeal_id=appeal.pk, now=now),
        "assign": lambda: services.appeal_assign(actor=actor, appeal_id=appeal.pk, assignee=world.operator_a, now=now),
        "reply": lambda: services.appeal_reply(actor=actor, appeal_id=appeal.pk, text="Ответ", now=now),
        "note": lambda: services.appeal_note(actor=actor, appeal_id=appeal.pk, text="Заметка", now=now),
        "wait": lambda: services.appeal_wait(actor=actor, appeal_id=appeal.pk, reason="Уточнить адрес", now=now),
        "resume": lambda: services.appeal_resume(actor=actor, appeal_id=appeal.pk, now=now),
        "extend": lambda: services.appeal_extend(actor=actor, appeal_id=appeal.pk, reason="Запрос", now=now),
        "reject": lambda: services.appeal_reject(actor=actor, appeal_id=appeal.pk, reason="spam", now=now),
        "close": lambda: services.appeal_close(actor=actor, appeal_id=appeal.pk, now=now),
        "reopen": lambda: services.appeal_reopen(actor=actor, appeal_id=appeal.pk, reason="Не решено", now=now),
        "convert": lambda: services.appeal_convert(actor=actor, appeal_id=appeal.pk, now=now),
        "redirect": lambda: services.appeal_redirect(
            actor=actor, appeal_id=appeal.pk, organization=world.org_b, reason="Компетенция", now=now
        ),
    }
    # Not allowed in this status: the series goes on, as after an operator's refused click.
    with contextlib.suppress(ApplicationError, ValidationError, PermissionDenied):
        calls[action]()


def _holiday(world, now: dt.datetime, days_ahead: int) -> None:
    day = (now + dt.timedelta(days=1 + days_ahead % 20)).date()
    region = world.org_a.region
    if CalendarOverride.objects.filter(date=day, region=region).exists():
        return
    services.calendar_override_save(
        actor=world.admin, override=CalendarOverride(), data={"date": day, "region": region, "kind": "non_working"}
    )
    services.appeals_recompute_deadlines(region_id=region.pk, now=now)  # what the change queues on commit


def _check(ids: set[int], now: dt.datetime, *, stored_exact: bool) -> None:
    appeals = list(Appeal.objects.filter(pk__in=ids))
    oracle = {appeal.pk: sla.sla_facts(appeal, now=now) for appeal in appeals}
    for appeal in appeals:
        assert sla.current_facts(appeal, now=now) == oracle[appeal.pk], (appeal.pk, appeal.status, now)
        if stored_exact:
            assert (appeal.sla_state, appeal.due_at) == (oracle[appeal.pk].sla_state, oracle[appeal.pk].due_at)
    rows = Appeal.objects.filter(pk__in=ids)
    for state in SlaState.values:
        found = set(rows.filter(sla.sla_state_q(state, now)).values_list("pk", flat=True))
        assert found == {pk for pk, facts in oracle.items() if facts.sla_state == state}, (state, now)
    overdue = set(rows.filter(sla.overdue_q(now)).values_list("pk", flat=True))
    assert overdue == {pk for pk, facts in oracle.items() if facts.is_overdue}, now


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(series=steps)
def test_stored_state_equals_the_definition_after_any_series(world, series):
    try:
        with transaction.atomic():
            now = START
            first = make_appeal(world.page_a, received_at=now, now=now)
            series_ids = {first.pk}
            for action, which, minutes, kind, ahead in series:
                now += dt.timedelta(minutes=minutes)
                ordered = sorted(series_ids)
                target = Appeal.objects.get(pk=ordered[which % len(ordered)])
                if action == "intake":
                    series_ids.add(make_appeal(world.page_a, received_at=now, now=now, kind=kind).pk)
                elif action == "sweep":
                    services.sla_sweep(now=now)
                elif action == "holiday":
                    _holiday(world, now, ahead)
                else:
                    _act(world, action, target, now)
                # Redirects and conversions create appeals: they belong to the series too.
                series_ids |= set(
                    Appeal.objects.filter(received_at__gte=START, pk__gte=first.pk).values_list("pk", flat=True)
                )
                _check(series_ids, now, stored_exact=action == "sweep")
                _check(series_ids, now + dt.timedelta(minutes=ahead), stored_exact=False)
            raise _Rollback
    except _Rollback:
        pass
    finally:
        sla.forget_local("calendar")
