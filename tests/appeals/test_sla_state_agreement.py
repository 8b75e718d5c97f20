"""The database's SLA annotations (lists) and the in-memory facts (fresh writes) must never disagree."""

import datetime as dt

import pytest

from appeals import services, sla
from appeals.models import Appeal, Status
from appeals.selectors import appeals_visible_to
from tests.appeals.test_lifecycle import T0, appeal_in

pytestmark = pytest.mark.django_db

MOMENTS = [
    T0 - dt.timedelta(hours=1),
    T0 + dt.timedelta(minutes=30),
    T0 + dt.timedelta(hours=5),
    T0 + dt.timedelta(hours=8, minutes=1),
    T0 + dt.timedelta(days=10),
    T0 + dt.timedelta(days=60),
]


def test_annotations_and_in_memory_facts_agree_in_every_status_and_clock_position(world):
    for status in Status.values:
        for kind in ("message", "appeal"):
            appeal_in(world, status, kind=kind)
    late = appeal_in(world, Status.NEW)
    services.sla_sweep(now=T0 + dt.timedelta(days=30))  # sets breach flags on the open ones
    late.refresh_from_db()
    assert late.first_response_breached
    checked = 0
    for now in MOMENTS:
        for annotated in appeals_visible_to(world.admin, now=now):
            plain = Appeal.objects.get(pk=annotated.pk)
            facts = sla.sla_facts(plain, now=now)
            assert (facts.sla_state, facts.is_overdue, facts.due_at) == (
                annotated.sla_state,
                annotated.is_overdue,
                annotated.due_at,
            ), (annotated.pk, annotated.status, now)
            checked += 1
    assert checked >= len(MOMENTS) * len(Status.values) * 2
