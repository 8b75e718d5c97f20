"""The incrementally maintained rollups equal a from-scratch computation after any series of changes.

Hypothesis draws a series of intakes, replies, pauses and resumes, extensions, redirects, rejections, closings,
reopenings, sweeps and calendar changes, each run through the services with its on-commit work executed (the
re-roll of its page and day, the recompute of deadlines a calendar change queues). Afterwards the stored rows
must equal, field by field, (a) the rows computed appeal by appeal in Python from appeals.sla's predicates and
core.worktime (tests/ratings/reference.py), and (b) the rows `rollups_rebuild` writes from scratch.
"""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appeals import services, sla
from appeals.models import Appeal, CalendarOverride
from core.access import SYSTEM
from core.errors import ApplicationError
from ratings.services import rollups_rebuild
from tests.factories import PageFactory, make_appeal
from tests.ratings.reference import expected_rows, region_day_rows_agree, stored_rows

START = dt.datetime(2026, 10, 26, 6, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)

OPERATIONS = (
    "intake",
    "intake",
    "reply",
    "reply",
    "wait",
    "resume",
    "extend",
    "redirect",
    "reject",
    "close",
    "reopen",
    "sweep",
    "calendar_add",
    "calendar_remove",
)

steps = st.lists(
    st.tuples(
        st.sampled_from(OPERATIONS),
        st.integers(min_value=0, max_value=50),  # which appeal (modulo those taken in) or which choice
        st.integers(min_value=10, max_value=36 * 60),  # minutes since the previous step
    ),
    min_size=4,
    max_size=24,
)


def _apply(world, pages, step, clock, appeals):
    operation, pick, _ = step
    appeal_id = appeals[pick % len(appeals)] if appeals else None
    if operation == "intake":
        page = pages[pick % len(pages)]
        appeal = make_appeal(page, kind="appeal" if pick % 5 == 0 else "message", received_at=clock, now=clock)
        appeals.append(appeal.pk)
        return
    if operation == "sweep":
        services.sla_sweep(now=clock)
        return
    if operation == "calendar_add":
        day = dt.date(2026, 10, 26) + dt.timedelta(days=pick % 35)
        kind = ("non_working", "working", "shortened")[pick % 3]
        region = world.org_a.region if pick % 2 else None
        services.calendar_override_save(
            actor=world.admin, override=CalendarOverride(), data={"date": day, "kind": kind, "region": region}
        )
        return
    if operation == "calendar_remove":
        override = CalendarOverride.objects.order_by("id").first()
        if override is not None:
            services.calendar_override_delete(actor=world.admin, override=override)
        return
    if appeal_id is None:
        return
    call = {
        "reply": lambda: services.appeal_reply(actor=SYSTEM, appeal_id=appeal_id, text="Ответ", now=clock),
        "wait": lambda: services.appeal_wait(actor=SYSTEM, appeal_id=appeal_id, reason="Уточните", now=clock),
        "resume": lambda: services.appeal_resume(actor=SYSTEM, appeal_id=appeal_id, now=clock),
        "extend": lambda: services.appeal_extend(actor=SYSTEM, appeal_id=appeal_id, reason="Проверка", now=clock),
        "redirect": lambda: services.appeal_redirect(
            actor=SYSTEM,
            appeal_id=appeal_id,
            organization=world.org_b
            if Appeal.objects.get(pk=appeal_id).organization_id == world.org_a.pk
            else world.org_a,
            reason="Не наш вопрос",
            now=clock,
        ),
        "reject": lambda: services.appeal_reject(actor=SYSTEM, appeal_id=appeal_id, reason="spam", now=clock),
        "close": lambda: services.appeal_close(actor=SYSTEM, appeal_id=appeal_id, now=clock),
        "reopen": lambda: services.appeal_reopen(actor=SYSTEM, appeal_id=appeal_id, reason="Не помогло", now=clock),
    }[operation]
    call()
    target = Appeal.objects.filter(redirected_from__isnull=False, pk__gt=max(appeals)).values_list("pk", flat=True)
    appeals.extend(target)


@pytest.mark.django_db
@settings(
    max_examples=int(__import__("os").environ.get("PROPERTY_EXAMPLES", "25")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(series=steps)
def test_rollups_equal_a_computation_from_scratch_after_any_series_of_changes(
    series, world, django_capture_on_commit_callbacks
):
    # Each example rolls its calendar changes back: no process may keep a calendar from the one before.
    sla.forget_local("calendar")
    sla.forget_local("policies")
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        pages = [world.page_a, PageFactory(organization=world.org_a, platform="max"), world.page_b]
        appeals: list[int] = []
        clock = START
        # Two appeals to begin with, on pages in two zones: every series then has something to change.
        for step in [("intake", 0, 30), ("intake", 2, 30), *series]:
            clock += dt.timedelta(minutes=step[2])
            try:
                with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
                    _apply(world, pages, step, clock, appeals)
            except (ApplicationError, ValidationError):
                pass  # a move the status does not allow, an override already there: refused, nothing changed
        incremental = stored_rows()
        assert incremental == expected_rows(now=NOW)
        assert region_day_rows_agree()
        rollups_rebuild(date_from=dt.date(2026, 10, 20), date_to=dt.date(2026, 12, 1), now=NOW)
        assert stored_rows() == incremental
        assert region_day_rows_agree()
        transaction.set_rollback(True)
