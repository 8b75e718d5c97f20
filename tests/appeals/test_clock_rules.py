"""Rules of the clock that a careless change could break silently; each test fails if its rule is removed."""

import datetime as dt

import pytest

from appeals import services, sla
from appeals.models import Appeal, AppealEvent, EventAction
from tests.factories import OrganizationFactory, make_appeal

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)  # Monday 10:00 in Moscow


def test_a_pause_after_the_first_response_does_not_move_the_first_response_deadline(world):
    appeal = make_appeal(world.page_a, received_at=T0, now=T0)
    services.appeal_reply(actor=world.operator_a, appeal_id=appeal.pk, text="Ответ", now=T0 + dt.timedelta(minutes=30))
    answered = Appeal.objects.get(pk=appeal.pk)
    services.appeal_wait(actor=world.operator_a, appeal_id=appeal.pk, now=T0 + dt.timedelta(hours=1))
    services.appeal_resume(actor=world.operator_a, appeal_id=appeal.pk, now=T0 + dt.timedelta(days=2))
    resumed = Appeal.objects.get(pk=appeal.pk)
    assert resumed.first_response_due_at == answered.first_response_due_at  # that clock had stopped
    assert resumed.resolution_due_at > answered.resolution_due_at  # this one was paused and moves


def test_warnings_start_afresh_for_resolution_after_the_first_reply(world):
    appeal = make_appeal(world.page_a, received_at=T0, now=T0)
    first_points = sla.warning_points(appeal, sla.schedule_for(appeal.organization))
    services.sla_sweep(now=first_points[-1][1] + dt.timedelta(minutes=1))  # the last first-response warning
    assert Appeal.objects.get(pk=appeal.pk).sla_warned_percent == first_points[-1][0]
    replied_at = first_points[-1][1] + dt.timedelta(minutes=2)
    services.appeal_reply(actor=world.operator_a, appeal_id=appeal.pk, text="Ответ", now=replied_at)
    appeal = Appeal.objects.select_related("organization__region", "policy").get(pk=appeal.pk)
    percent, moment = sla.warning_points(appeal, sla.schedule_for(appeal.organization))[0]
    services.sla_sweep(now=moment + dt.timedelta(minutes=1))
    warning = AppealEvent.objects.filter(appeal=appeal, action=EventAction.SLA_WARNING).order_by("-id").first()
    assert warning.data == {"target": "resolution", "percent": percent}


@pytest.mark.parametrize(("days", "late"), [(2, False), (7, False), (8, True)])
def test_a_formal_appeal_redirected_after_seven_days_is_flagged_late(world, days, late):
    competent = OrganizationFactory(region=world.org_a.region)
    appeal = make_appeal(world.page_a, received_at=T0, now=T0, kind="appeal")
    at = T0 + dt.timedelta(days=days)
    services.appeal_redirect(
        actor=world.operator_a, appeal_id=appeal.pk, organization=competent, reason="Не наша", now=at
    )
    event = AppealEvent.objects.get(appeal=appeal, action=EventAction.REDIRECTED)
    assert event.data["late"] is late


def test_a_message_redirected_late_is_never_flagged_the_term_is_59_fz_s(world):
    competent = OrganizationFactory(region=world.org_a.region)
    appeal = make_appeal(world.page_a, received_at=T0, now=T0, kind="message")
    at = T0 + dt.timedelta(days=20)
    services.appeal_redirect(
        actor=world.operator_a, appeal_id=appeal.pk, organization=competent, reason="Не наша", now=at
    )
    assert AppealEvent.objects.get(appeal=appeal, action=EventAction.REDIRECTED).data["late"] is False
