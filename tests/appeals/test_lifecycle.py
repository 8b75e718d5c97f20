"""Every transition of domain.md section 6, allowed and forbidden, with its history."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from appeals import services
from appeals.models import Appeal, AppealEvent, Reply, Status
from core.errors import Conflict
from tests.factories import OrganizationFactory, make_appeal

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)  # Monday 10:00 in Moscow
LATER = T0 + dt.timedelta(hours=1)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def appeal_in(world, status: str, *, kind: str = "message") -> Appeal:
    """An appeal of organisation A brought to `status` through the services."""
    actor = world.operator_a
    appeal = make_appeal(world.page_a, received_at=T0, now=T0, kind=kind)
    steps = {
        Status.NEW: [],
        Status.IN_PROGRESS: [services.appeal_take],
        Status.WAITING: [services.appeal_take, services.appeal_wait],
        Status.ANSWERED: [lambda **kw: services.appeal_reply(text="Ответ", **kw)],
        Status.CLOSED: [lambda **kw: services.appeal_reply(text="Ответ", **kw), services.appeal_close],
        Status.REJECTED: [lambda **kw: services.appeal_reject(reason="spam", **kw)],
        Status.REDIRECTED: [
            lambda **kw: services.appeal_redirect(organization=world.org_b, reason="Не наша компетенция", **kw)
        ],
    }[status]
    for minute, step in enumerate(steps, start=1):
        step(actor=actor, appeal_id=appeal.pk, now=at(minute))
    appeal.refresh_from_db()
    assert appeal.status == status
    return appeal


def run(world, action: str, appeal: Appeal, now: dt.datetime = LATER):
    actor = world.operator_a
    calls = {
        "take": lambda: services.appeal_take(actor=actor, appeal_id=appeal.pk, now=now),
        "assign": lambda: services.appeal_assign(actor=actor, appeal_id=appeal.pk, assignee=actor, now=now),
        "reply": lambda: services.appeal_reply(actor=actor, appeal_id=appeal.pk, text="Ответ", now=now),
        "note": lambda: services.appeal_note(actor=actor, appeal_id=appeal.pk, text="Заметка", now=now),
        "wait": lambda: services.appeal_wait(actor=actor, appeal_id=appeal.pk, reason="Уточнить адрес", now=now),
        "resume": lambda: services.appeal_resume(actor=actor, appeal_id=appeal.pk, now=now),
        "reject": lambda: services.appeal_reject(actor=actor, appeal_id=appeal.pk, reason="spam", now=now),
        "close": lambda: services.appeal_close(actor=actor, appeal_id=appeal.pk, now=now),
        "reopen": lambda: services.appeal_reopen(actor=actor, appeal_id=appeal.pk, reason="Не решено", now=now),
        "convert": lambda: services.appeal_convert(actor=actor, appeal_id=appeal.pk, now=now),
        "redirect": lambda: services.appeal_redirect(
            actor=actor, appeal_id=appeal.pk, organization=world.org_b, reason="Компетенция", now=now
        ),
    }
    return calls[action]()


ALLOWED = {
    # action: {from status: to status}
    "take": {Status.NEW: Status.IN_PROGRESS},
    "assign": {
        Status.NEW: Status.IN_PROGRESS,
        Status.IN_PROGRESS: Status.IN_PROGRESS,
        Status.WAITING: Status.WAITING,
        Status.ANSWERED: Status.ANSWERED,
    },
    "reply": {
        Status.NEW: Status.ANSWERED,
        Status.IN_PROGRESS: Status.ANSWERED,
        Status.WAITING: Status.ANSWERED,
        Status.ANSWERED: Status.ANSWERED,
    },
    "note": {status: status for status in Status.values},
    "wait": {Status.NEW: Status.WAITING, Status.IN_PROGRESS: Status.WAITING, Status.ANSWERED: Status.WAITING},
    "resume": {Status.WAITING: Status.IN_PROGRESS},
    "reject": {
        Status.NEW: Status.REJECTED,
        Status.IN_PROGRESS: Status.REJECTED,
        Status.WAITING: Status.REJECTED,
        Status.ANSWERED: Status.REJECTED,
    },
    "close": {Status.ANSWERED: Status.CLOSED},
    "reopen": {Status.CLOSED: Status.IN_PROGRESS, Status.ANSWERED: Status.IN_PROGRESS},
    "convert": {
        Status.NEW: Status.CLOSED,
        Status.IN_PROGRESS: Status.CLOSED,
        Status.WAITING: Status.CLOSED,
        Status.ANSWERED: Status.CLOSED,
    },
    "redirect": {
        Status.NEW: Status.REDIRECTED,
        Status.IN_PROGRESS: Status.REDIRECTED,
        Status.WAITING: Status.REDIRECTED,
    },
}
CASES = [(action, status) for action in ALLOWED for status in Status.values]


@pytest.mark.parametrize(("action", "from_status"), CASES)
def test_every_transition_is_allowed_or_refused_with_a_conflict(world, action, from_status):
    appeal = appeal_in(world, from_status)
    events_before = AppealEvent.objects.filter(appeal=appeal).count()
    expected = ALLOWED[action].get(from_status)
    if expected is None:
        with pytest.raises(Conflict):
            run(world, action, appeal)
        appeal.refresh_from_db()
        assert appeal.status == from_status
        assert AppealEvent.objects.filter(appeal=appeal).count() == events_before
        return
    result = run(world, action, appeal)
    assert result.status == expected
    new_events = list(AppealEvent.objects.filter(appeal=appeal).order_by("id")[events_before:])
    assert len(new_events) == 1
    assert new_events[0].from_status == from_status and new_events[0].to_status == expected
    assert new_events[0].actor == world.operator_a and new_events[0].created_at == LATER


def test_first_public_reply_meets_the_first_response_and_later_ones_do_not_move_it(world):
    appeal = appeal_in(world, Status.NEW)
    services.appeal_reply(actor=world.operator_a, appeal_id=appeal.pk, text="Первый ответ", now=at(30))
    services.appeal_reply(actor=world.operator_a, appeal_id=appeal.pk, text="Дополнение", now=at(90))
    appeal.refresh_from_db()
    assert appeal.first_responded_at == at(30)
    assert Reply.objects.filter(appeal=appeal, kind="public").count() == 2
    flags = list(appeal.events.filter(action="replied").values_list("data__first_response", flat=True))
    assert flags == [True, False]


def test_a_note_changes_neither_status_nor_first_response(world):
    appeal = appeal_in(world, Status.IN_PROGRESS)
    services.appeal_note(actor=world.operator_a, appeal_id=appeal.pk, text="Позвонить в управу", now=LATER)
    appeal.refresh_from_db()
    assert appeal.status == Status.IN_PROGRESS and appeal.first_responded_at is None


def test_waiting_pauses_the_clock_and_resume_moves_the_deadline_by_the_paused_working_time(world):
    appeal = appeal_in(world, Status.NEW)  # Monday 10:00 Moscow, 8 working hours: due Monday 18:00
    assert appeal.first_response_due_at == dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)
    services.appeal_wait(actor=world.operator_a, appeal_id=appeal.pk, now=at(60))  # 11:00
    services.appeal_resume(actor=world.operator_a, appeal_id=appeal.pk, now=at(180))  # 13:00: 2 hours paused
    appeal.refresh_from_db()
    assert appeal.paused_seconds == 2 * 3600 and appeal.paused_at is None
    assert appeal.first_response_due_at == dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)  # Tuesday 11:00


def test_extension_is_once_with_a_reason_and_only_for_formal_appeals(world):
    formal = appeal_in(world, Status.IN_PROGRESS, kind="appeal")
    before = formal.resolution_due_at
    with pytest.raises(ValidationError):
        services.appeal_extend(actor=world.operator_a, appeal_id=formal.pk, reason="  ", now=LATER)
    extended = services.appeal_extend(
        actor=world.operator_a, appeal_id=formal.pk, reason="Запрос в ведомство", now=LATER
    )
    assert extended.resolution_due_at - before >= dt.timedelta(days=30)
    with pytest.raises(Conflict):
        services.appeal_extend(actor=world.operator_a, appeal_id=formal.pk, reason="Ещё раз", now=LATER)
    message = appeal_in(world, Status.IN_PROGRESS)
    with pytest.raises(Conflict):
        services.appeal_extend(actor=world.operator_a, appeal_id=message.pk, reason="Причина", now=LATER)


def test_redirect_creates_a_linked_appeal_whose_clock_starts_at_the_redirect(world):
    appeal = appeal_in(world, Status.IN_PROGRESS, kind="appeal")
    services.appeal_redirect(
        actor=world.operator_a, appeal_id=appeal.pk, organization=world.org_b, reason="Компетенция", now=LATER
    )
    appeal.refresh_from_db()
    target = appeal.redirected_to
    assert appeal.status == Status.REDIRECTED and target.status == Status.NEW
    assert target.organization == world.org_b and target.region == world.org_b.region
    assert target.received_at == LATER and target.registered_at == LATER
    assert target.page is None  # organisation B has no VK page to answer on
    assert target.events.get().action == "redirect_received"


def test_a_redirected_appeal_lands_on_the_targets_page_on_the_same_platform(world):
    from tests.factories import PageFactory

    other_vk = PageFactory(organization=world.org_b, platform="vk", is_primary=False)
    primary_vk = PageFactory(organization=world.org_b, platform="vk", is_primary=True)
    appeal = appeal_in(world, Status.NEW)
    services.appeal_redirect(
        actor=world.operator_a, appeal_id=appeal.pk, organization=world.org_b, reason="Компетенция", now=LATER
    )
    appeal.refresh_from_db()
    assert appeal.redirected_to.page == primary_vk != other_vk


def test_redirect_to_the_same_organisation_is_refused(world):
    appeal = appeal_in(world, Status.NEW)
    with pytest.raises(ValidationError):
        services.appeal_redirect(
            actor=world.operator_a, appeal_id=appeal.pk, organization=world.org_a, reason="x", now=LATER
        )


def test_convert_keeps_the_link_and_registers_a_formal_appeal(world):
    message = appeal_in(world, Status.IN_PROGRESS)
    services.appeal_convert(actor=world.operator_a, appeal_id=message.pk, reason="Просит официальный ответ", now=LATER)
    message.refresh_from_db()
    formal = message.converted_to
    assert message.status == Status.CLOSED
    assert formal.kind == "appeal" and formal.converted_from == message
    assert formal.policy.kind == "appeal" and formal.registered_at == LATER
    with pytest.raises(Conflict):
        services.appeal_convert(actor=world.operator_a, appeal_id=formal.pk, now=LATER)


def test_duplicate_links_to_the_root_case(world):
    root = appeal_in(world, Status.NEW)
    first = appeal_in(world, Status.NEW)
    second = appeal_in(world, Status.NEW)
    services.appeal_mark_duplicate(actor=world.operator_a, appeal_id=first.pk, original=root, now=LATER)
    first.refresh_from_db()
    services.appeal_mark_duplicate(actor=world.operator_a, appeal_id=second.pk, original=first, now=LATER)
    second.refresh_from_db()
    assert first.duplicate_of == root and second.duplicate_of == root
    assert second.status == Status.CLOSED
    with pytest.raises(ValidationError):
        services.appeal_mark_duplicate(actor=world.operator_a, appeal_id=root.pk, original=root, now=LATER)


def test_reopen_needs_a_reason_and_restarts_the_resolution_clock(world):
    appeal = appeal_in(world, Status.CLOSED)
    with pytest.raises(ValidationError):
        services.appeal_reopen(actor=world.operator_a, appeal_id=appeal.pk, reason="", now=LATER)
    reopened = services.appeal_reopen(actor=world.operator_a, appeal_id=appeal.pk, reason="Не решено", now=LATER)
    assert reopened.resolution_started_at == LATER and reopened.resolved_at is None
    assert reopened.first_responded_at is not None


def test_reject_records_the_reason(world):
    appeal = appeal_in(world, Status.NEW)
    services.appeal_reject(
        actor=world.operator_a,
        appeal_id=appeal.pk,
        reason="obscene_or_threatening",
        comment="Нецензурная брань",
        now=LATER,
    )
    appeal.refresh_from_db()
    event = appeal.events.get(action="rejected")
    assert appeal.reject_reason == "obscene_or_threatening" and event.reason == "Нецензурная брань"


def test_operator_of_another_organisation_and_auditor_cannot_act(world):
    appeal = appeal_in(world, Status.NEW)
    for actor in (world.operator_b, world.auditor_x, world.integration_a, world.stranger):
        with pytest.raises(PermissionDenied):
            services.appeal_take(actor=actor, appeal_id=appeal.pk, now=LATER)


def test_analyst_of_the_region_can_assign_to_an_operator_but_not_to_a_stranger(world):
    appeal = appeal_in(world, Status.NEW)
    assigned = services.appeal_assign(actor=world.analyst_x, appeal_id=appeal.pk, assignee=world.operator_a, now=LATER)
    assert assigned.assignee == world.operator_a
    with pytest.raises(ValidationError):
        services.appeal_assign(actor=world.analyst_x, appeal_id=appeal.pk, assignee=world.stranger, now=LATER)
    with pytest.raises(ValidationError):
        services.appeal_assign(actor=world.analyst_x, appeal_id=appeal.pk, assignee=world.operator_b, now=LATER)


def test_intake_is_idempotent_on_page_and_external_id(world):
    first = make_appeal(world.page_a, external_id="vk-1", received_at=T0)
    again = make_appeal(world.page_a, external_id="vk-1", received_at=T0, text="другой текст")
    assert first.pk == again.pk
    assert Appeal.objects.filter(page=world.page_a, external_id="vk-1").count() == 1
    assert AppealEvent.objects.filter(appeal=first, action="created").count() == 1


def test_intake_refuses_a_time_of_receipt_in_the_future(world):
    with pytest.raises(ValidationError):
        make_appeal(world.page_a, received_at=T0 + dt.timedelta(hours=1), now=T0)


def test_the_most_specific_policy_wins(world):
    from appeals.models import SlaPolicy

    regional = services.sla_policy_create(
        actor=world.admin,
        data={
            "name": "Москва: сообщения",
            "kind": "message",
            "region": world.org_a.region,
            "first_response_amount": 4,
            "first_response_unit": "working_hours",
            "resolution_amount": 2,
            "resolution_unit": "working_days",
        },
    )
    own = services.sla_policy_create(
        actor=world.admin,
        data={
            "name": "Школа №1: комментарии",
            "kind": "message",
            "channel": "comment",
            "organization": world.org_a,
            "first_response_amount": 2,
            "first_response_unit": "calendar_hours",
            "resolution_amount": 1,
            "resolution_unit": "calendar_days",
        },
    )
    assert make_appeal(world.page_a, channel="comment").policy == own
    assert make_appeal(world.page_a, channel="direct_message").policy == regional
    other_school = OrganizationFactory(region=world.org_b.region)
    from tests.factories import PageFactory

    assert make_appeal(PageFactory(organization=other_school)).policy == SlaPolicy.objects.get(
        name="Сообщения: федеральные сроки по умолчанию"
    )


def test_editing_a_policy_keeps_open_appeals_on_their_version(world):
    from appeals.models import SlaPolicy

    policy = SlaPolicy.objects.get(kind="message", is_current=True)
    appeal = make_appeal(world.page_a)
    successor = services.sla_policy_update(actor=world.admin, policy=policy, data={"first_response_amount": 2})
    appeal.refresh_from_db()
    assert successor.version == policy.version + 1 and successor.lineage == policy.lineage
    assert appeal.policy_id == policy.pk
    assert make_appeal(world.page_a).policy_id == successor.pk


def test_intake_refuses_an_implausibly_early_time_of_receipt(world):
    with pytest.raises(ValidationError):
        make_appeal(world.page_a, received_at=dt.datetime(1044, 4, 7, tzinfo=dt.UTC), now=T0)
