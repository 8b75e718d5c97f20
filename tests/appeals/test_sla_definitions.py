"""appeals.sla owns on time, breached and overdue: each rule's Python form and query form agree everywhere."""

import datetime as dt

import pytest

from appeals import services, sla
from appeals.models import Appeal, Status
from tests.appeals.test_lifecycle import T0, appeal_in
from tests.appeals.test_sla_state_agreement import MOMENTS

pytestmark = pytest.mark.django_db


def test_python_and_query_forms_of_each_rule_agree_in_every_status_and_clock_position(world):
    for status in Status.values:
        for kind in ("message", "appeal"):
            appeal_in(world, status, kind=kind)
    late = appeal_in(world, Status.NEW)
    services.sla_sweep(now=T0 + dt.timedelta(days=30))
    services.appeal_reply(actor=world.operator_a, appeal_id=late.pk, text="Поздно", now=T0 + dt.timedelta(days=31))
    pairs = [
        (lambda a, now: sla.first_response_on_time(a), lambda now: sla.first_response_on_time_q()),
        (lambda a, now: sla.first_response_breached(a, now=now), sla.first_response_breached_q),
        (lambda a, now: sla.resolution_on_time(a), lambda now: sla.resolution_on_time_q()),
        (lambda a, now: sla.resolution_breached(a, now=now), sla.resolution_breached_q),
        (lambda a, now: sla.is_overdue(a, now=now), sla.overdue_q),
        (lambda a, now: sla.was_late(a), lambda now: sla.was_late_q()),
    ]
    appeals = list(Appeal.objects.all())
    seen = {index: set() for index in range(len(pairs))}
    for now in [*MOMENTS, T0 + dt.timedelta(days=40)]:
        for index, (in_memory, as_query) in enumerate(pairs):
            matching = set(Appeal.objects.filter(as_query(now)).values_list("pk", flat=True))
            for appeal in appeals:
                expected = in_memory(appeal, now)
                assert expected == (appeal.pk in matching), (index, appeal.pk, appeal.status, now)
                seen[index].add(expected)
    assert all(values == {True, False} for values in seen.values()), seen  # every rule was seen both ways


def test_an_answer_after_the_deadline_is_breached_and_not_on_time(world):
    appeal = appeal_in(world, Status.NEW)
    services.appeal_reply(actor=world.operator_a, appeal_id=appeal.pk, text="Поздно", now=T0 + dt.timedelta(days=5))
    appeal.refresh_from_db()
    now = T0 + dt.timedelta(days=6)
    assert sla.first_response_breached(appeal, now=now) and not sla.first_response_on_time(appeal)


def test_an_open_appeal_not_yet_due_is_not_judged(world):
    appeal = appeal_in(world, Status.NEW)
    now = T0 + dt.timedelta(minutes=30)
    assert not sla.first_response_on_time(appeal) and not sla.first_response_breached(appeal, now=now)
