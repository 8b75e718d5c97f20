"""The stored SLA state, its query twins and the definition (`sla.sla_facts`) never disagree.

Every status and clock position, at moments before, during and long after the deadlines, with and without a
sweep in between: what a list filters by (`sla_state_q`, `overdue_q`), what it shows (`current_facts` of the
stored columns) and what the database computes from the deadlines (`sla_from_deadlines`, which filled the
columns) all equal the definition computed from the appeal's deadlines, times and flags.
"""

import datetime as dt

import pytest

from appeals import services, sla
from appeals.models import Appeal, SlaState, Status
from tests.appeals.test_lifecycle import T0, appeal_in

pytestmark = pytest.mark.django_db

MOMENTS = [
    T0 + dt.timedelta(minutes=10),
    T0 + dt.timedelta(minutes=30),
    T0 + dt.timedelta(hours=5),
    T0 + dt.timedelta(hours=8, minutes=1),
    T0 + dt.timedelta(days=10),
    T0 + dt.timedelta(days=60),
]


def assert_agreement(now: dt.datetime) -> int:
    """Check every appeal as of `now`; return how many were checked."""
    appeals = list(Appeal.objects.order_by("pk"))
    oracle = {appeal.pk: sla.sla_facts(appeal, now=now) for appeal in appeals}
    for appeal in appeals:
        shown = sla.current_facts(appeal, now=now)
        assert shown == oracle[appeal.pk], (appeal.pk, appeal.status, now)
    for state in SlaState.values:
        found = set(Appeal.objects.filter(sla.sla_state_q(state, now)).values_list("pk", flat=True))
        assert found == {pk for pk, facts in oracle.items() if facts.sla_state == state}, (state, now)
    overdue = set(Appeal.objects.filter(sla.overdue_q(now)).values_list("pk", flat=True))
    assert overdue == {pk for pk, facts in oracle.items() if facts.is_overdue}, now
    annotated = {row.pk: (row.current_sla_state, row.is_overdue) for row in sla.annotate_sla(Appeal.objects, now=now)}
    assert annotated == {pk: (facts.sla_state, facts.is_overdue) for pk, facts in oracle.items()}, now
    computed = Appeal.objects.annotate(**{f"oracle_{k}": v for k, v in sla.sla_from_deadlines(now).items()})
    for row in computed:
        assert (row.oracle_sla_state, row.oracle_due_at) == (
            oracle[row.pk].sla_state,
            oracle[row.pk].due_at,
        ), (row.pk, now)
    return len(appeals)


def test_stored_state_and_its_twins_agree_in_every_status_and_clock_position(world):
    for status in Status.values:
        for kind in ("message", "appeal"):
            appeal_in(world, status, kind=kind)
    checked = sum(assert_agreement(now) for now in MOMENTS)
    assert checked >= len(MOMENTS) * len(Status.values) * 2


def test_after_a_sweep_the_stored_columns_themselves_equal_the_definition(world):
    for status in Status.values:
        appeal_in(world, status)
    late = appeal_in(world, Status.NEW)
    for now in MOMENTS:
        services.sla_sweep(now=now)
        assert_agreement(now)
        for appeal in Appeal.objects.all():
            facts = sla.sla_facts(appeal, now=now)
            assert (appeal.sla_state, appeal.due_at) == (facts.sla_state, facts.due_at), (appeal.pk, now)
    late.refresh_from_db()
    assert late.first_response_breached and late.sla_state == SlaState.BREACHED


def test_the_running_deadline_is_the_earliest_unmet_one(world):
    appeal = appeal_in(world, Status.NEW)
    assert appeal.due_at == min(appeal.first_response_due_at, appeal.resolution_due_at)
    services.appeal_reply(actor=world.operator_a, appeal_id=appeal.pk, text="Ответ", now=T0 + dt.timedelta(hours=1))
    appeal.refresh_from_db()
    assert appeal.due_at == appeal.resolution_due_at
    services.appeal_close(actor=world.operator_a, appeal_id=appeal.pk, now=T0 + dt.timedelta(hours=2))
    appeal.refresh_from_db()
    assert appeal.due_at is None and appeal.sla_state == SlaState.MET
