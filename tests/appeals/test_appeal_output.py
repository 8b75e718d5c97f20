"""The appeal's output is written out directly (AppealSerializer._lean); DRF's field-by-field rendering of the
declared fields (the schema) is the reference it must equal, byte for byte, whatever the appeal's state."""

import datetime as dt

import pytest
from rest_framework.renderers import JSONRenderer

from appeals.api.serializers import AppealSerializer
from appeals.models import Appeal, Status
from appeals.selectors import appeals_visible_to
from tests.factories import make_appeal

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def both(appeal: Appeal, user, now: dt.datetime) -> tuple[bytes, bytes]:
    context = {"user": user, "now": now}
    lean = AppealSerializer(appeal, context=context).data
    by_fields = AppealSerializer(appeal, context=context).to_representation_by_fields(appeal)
    assert list(lean) == list(by_fields)  # the same keys in the same order
    return JSONRenderer().render(lean), JSONRenderer().render(by_fields)


def variants(appeal: Appeal) -> list[Appeal]:
    """The appeal as stored, then with every optional field filled in, in states a list can show."""
    full = Appeal.objects.get(pk=appeal.pk)
    stamp = NOW - dt.timedelta(hours=5)
    full.first_responded_at = stamp
    full.resolved_at = stamp + dt.timedelta(hours=1)
    full.closed_at = stamp + dt.timedelta(hours=2)
    full.paused_at = stamp
    full.pauses = [[(stamp - dt.timedelta(hours=3)).isoformat(), (stamp - dt.timedelta(hours=2)).isoformat()]]
    full.extended_at = stamp
    full.extension_reason = "Нужен запрос в другой орган"
    full.reject_reason = "spam"
    full.status = Status.WAITING
    full.assignee_id = 7
    full.category_id = None
    full.redirected_to_id = appeal.pk
    full.duplicate_of_id = appeal.pk
    full.converted_from_id = appeal.pk
    full.redirected_from_id = appeal.pk  # the list's annotations
    full.converted_to_id = appeal.pk
    overdue = Appeal.objects.get(pk=appeal.pk)
    overdue.due_at = NOW - dt.timedelta(days=3)
    without_policy = Appeal.objects.get(pk=appeal.pk)
    without_policy.policy = None
    without_policy.due_at = None
    return [appeal, full, overdue, without_policy]


@pytest.mark.parametrize("persona", ["operator_a", "auditor_x", "integration_a", "admin"])
def test_lean_output_equals_drf_field_by_field(world, persona):
    user = getattr(world, persona)
    created = [
        make_appeal(world.page_a, now=NOW),
        make_appeal(world.page_a, kind="appeal", channel="direct_message", priority="high", now=NOW),
    ]
    for appeal in created:
        for variant in variants(appeal):
            for now in (NOW, NOW + dt.timedelta(days=40)):
                lean, by_fields = both(variant, user, now)
                assert lean == by_fields


def test_lean_output_of_a_list_row(world):
    """Rows read through the selector (joins, annotations, the deferred search column) render alike too."""
    make_appeal(world.page_a, now=NOW)
    make_appeal(world.page_b, now=NOW)
    rows = list(appeals_visible_to(world.admin))
    assert len(rows) == 2
    for row in rows:
        lean, by_fields = both(row, world.admin, NOW)
        assert lean == by_fields
