"""Writes to appeals: intake, every lifecycle transition (domain.md section 6), the SLA sweep and recomputation.

Each transition locks the appeal row (`select_for_update(nowait=True)`: a request that finds the row locked by
another answers 409 instead of waiting and then acting on a state it never saw), checks that the move is
allowed from the current status, writes its history event, and refreshes the SLA bookkeeping. Services raise
Django's ValidationError (400), PermissionDenied (403) and core.errors.Conflict (409).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import sla
from appeals.models import (
    OPEN_STATUSES,
    Appeal,
    AppealEvent,
    AppealKind,
    Category,
    EventAction,
    Reply,
    ReplyKind,
    SlaPolicy,
    Status,
)
from core.access import scope_for
from core.errors import Conflict
from publics.models import Membership, Organization, Page, Role

# Received times may run ahead of our clock by a little (platforms' clocks, network); more is a client error.
CLOCK_SKEW = dt.timedelta(minutes=5)
# Nothing written on a social network predates this; earlier moments are input errors (and some zones' 19th-century
# local mean time offsets are not valid ISO 8601 offsets).
EARLIEST_RECEIPT = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# 59-FZ art. 8: a formal appeal goes to the competent body within 7 days of registration.
REDIRECT_TERM = dt.timedelta(days=7)

User = get_user_model()


def _now() -> dt.datetime:
    return timezone.now()


def _require_manage(actor, appeal: Appeal) -> None:
    grant = scope_for(actor).manage
    if not (
        grant.everything or appeal.organization_id in grant.organization_ids or appeal.region_id in grant.region_ids
    ):
        raise PermissionDenied(_("You may see this appeal but not act on it."))


def _event(
    appeal: Appeal,
    *,
    actor,
    action: str,
    at: dt.datetime,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    data: dict | None = None,
) -> AppealEvent:
    return AppealEvent(
        appeal=appeal,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data=data or {},
        created_at=at,
    )


def _lock(appeal_id: int) -> Appeal:
    """Lock the appeal row for this transaction; a row locked by a concurrent request is a 409, not a wait."""
    try:
        return (
            Appeal.objects.select_for_update(nowait=True, of=("self",))
            .select_related("organization__region", "policy")
            .get(pk=appeal_id)
        )
    except DatabaseError as exc:
        raise Conflict(_("Another request is changing this appeal right now. Reload and try again.")) from exc


def _refuse(appeal: Appeal, action: str) -> None:
    raise Conflict(
        _("Action «%(action)s» is not allowed for an appeal in status «%(status)s».")
        % {"action": action, "status": appeal.get_status_display()},
        code="invalid_transition",
    )


@dataclass
class _Transition:
    """The context of one transition: the locked appeal, the actor, the moment and the events to write."""

    appeal: Appeal
    actor: Any
    now: dt.datetime
    events: list[AppealEvent] = field(default_factory=list)

    def record(self, action: str, *, to_status: str | None = None, reason: str = "", data: dict | None = None) -> None:
        from_status = self.appeal.status
        if to_status is not None:
            self.appeal.status = to_status
        self.events.append(
            _event(
                self.appeal,
                actor=self.actor,
                action=action,
                at=self.now,
                from_status=from_status,
                to_status=self.appeal.status,
                reason=reason,
                data=data,
            )
        )


def _transition(
    *,
    actor,
    appeal_id: int,
    action: str,
    allowed_from: tuple[str, ...],
    change: Callable[[_Transition], None],
    now: dt.datetime | None = None,
) -> Appeal:
    """Run one transition: lock, check the actor and the status, apply `change`, write events, save."""
    with transaction.atomic():
        appeal = _lock(appeal_id)
        _require_manage(actor, appeal)
        if appeal.status not in allowed_from:
            _refuse(appeal, action)
        step = _Transition(appeal=appeal, actor=actor, now=now or _now())
        change(step)
        sla.refresh_tracking(appeal, sla.schedule_for(appeal.organization), now=step.now)
        appeal.save()
        AppealEvent.objects.bulk_create(step.events)
    return appeal


def _close_pause(step: _Transition) -> None:
    """End a running pause: the deadlines move forward by the paused time (recomputed from all pauses)."""
    appeal = step.appeal
    if appeal.paused_at is None:
        return
    appeal.pauses = [*appeal.pauses, [appeal.paused_at.isoformat(), step.now.isoformat()]]
    appeal.paused_at = None
    _recompute(appeal)


def _recompute(appeal: Appeal) -> None:
    deadlines = sla.compute_deadlines(appeal, appeal.policy, sla.schedule_for(appeal.organization))
    appeal.first_response_due_at = deadlines.first_response_due_at
    appeal.resolution_due_at = deadlines.resolution_due_at


# Intake -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppealInput:
    kind: str
    channel: str
    text: str
    received_at: dt.datetime
    external_id: str = ""
    author_platform_id: str = ""
    author_name: str = ""
    category: Category | None = None
    priority: str = "normal"


def _new_appeal(
    *,
    organization: Organization,
    page: Page | None,
    data: AppealInput,
    now: dt.datetime,
    registered_at: dt.datetime | None = None,
) -> Appeal:
    """An unsaved appeal with its policy and deadlines. `organization.region` must be loaded."""
    registered_at = registered_at or now
    appeal = Appeal(
        page=page,
        organization=organization,
        region=organization.region,
        kind=data.kind,
        channel=data.channel,
        external_id=data.external_id,
        author_platform_id=data.author_platform_id,
        author_name=data.author_name,
        text=data.text,
        category=data.category,
        priority=data.priority,
        status=Status.NEW,
        received_at=data.received_at,
        registered_at=registered_at,
        # A formal appeal's term runs from its registration (59-FZ art. 12); a message's from receipt.
        resolution_started_at=registered_at if data.kind == AppealKind.APPEAL else data.received_at,
    )
    category = data.category
    policy = sla.policy_for(
        kind=data.kind,
        channel=data.channel,
        platform=page.platform if page else "",
        category_id=category.pk if category else None,
        category_parent_id=category.parent_id if category else None,
        priority=data.priority,
        organization=organization,
    )
    sla.apply_deadlines(appeal, policy, sla.schedule_for(organization), now=now)
    return appeal


def appeal_create(*, actor, page: Page, data: AppealInput, now: dt.datetime | None = None) -> tuple[Appeal, bool]:
    """Take an appeal in from a page; returns (appeal, created).

    Idempotent on (page, external_id): the same platform event delivered twice returns the stored appeal,
    also when two deliveries race (the unique constraint decides, the loser reads the winner's row).
    The caller has checked that `actor` may push to `page`; `page.organization.region` must be loaded.
    """
    now = now or _now()
    if data.received_at > now + CLOCK_SKEW:
        raise ValidationError({"received_at": _("The time of receipt is in the future.")})
    if data.received_at < EARLIEST_RECEIPT:
        raise ValidationError({"received_at": _("The time of receipt is implausibly early.")})
    appeal = _new_appeal(organization=page.organization, page=page, data=data, now=now)
    try:
        # No look-up first: a new event (the common case) costs one INSERT, and a delivery seen before loses on
        # the unique constraint, also when two deliveries race, and reads the winner's row.
        with transaction.atomic():
            appeal.save()
            _event(
                appeal,
                actor=actor,
                action=EventAction.CREATED,
                at=now,
                to_status=Status.NEW,
                data={"policy": appeal.policy_id, "channel": appeal.channel},
            ).save()
    except IntegrityError:
        existing = Appeal.objects.filter(page=page, external_id=data.external_id).order_by().first()
        if existing is None or not data.external_id:
            raise
        return existing, False
    return appeal, True


# Lifecycle --------------------------------------------------------------------------------------------------


def appeal_take(*, actor, appeal_id: int, now: dt.datetime | None = None) -> Appeal:
    def change(step: _Transition) -> None:
        step.appeal.assignee = step.actor
        step.record(EventAction.TAKEN, to_status=Status.IN_PROGRESS)

    return _transition(
        actor=actor, appeal_id=appeal_id, action=_("take"), allowed_from=(Status.NEW,), change=change, now=now
    )


def _may_handle(user, appeal: Appeal) -> bool:
    """Whether `user` can be assigned: an operator of the organisation, an analyst of the region, an admin."""
    return Membership.objects.filter(
        Q(user=user)
        & (
            Q(role=Role.OPERATOR, organization_id=appeal.organization_id)
            | Q(role=Role.ANALYST, region_id=appeal.region_id)
            | Q(role=Role.FEDERAL_ADMIN)
        )
    ).exists() or bool(user.is_superuser)


def appeal_assign(*, actor, appeal_id: int, assignee, now: dt.datetime | None = None) -> Appeal:
    def change(step: _Transition) -> None:
        if not assignee.is_active or not _may_handle(assignee, step.appeal):
            raise ValidationError({"assignee": _("This user cannot handle appeals of this organization.")})
        previous = step.appeal.assignee_id
        step.appeal.assignee = assignee
        to_status = Status.IN_PROGRESS if step.appeal.status == Status.NEW else None
        step.record(EventAction.ASSIGNED, to_status=to_status, data={"from": previous, "to": assignee.pk})

    return _transition(
        actor=actor,
        appeal_id=appeal_id,
        action=_("assign"),
        allowed_from=OPEN_STATUSES,
        change=change,
        now=now,
    )


def appeal_reply(*, actor, appeal_id: int, text: str, now: dt.datetime | None = None) -> Appeal:
    """A public reply: the first one meets the first-response target and the appeal becomes `answered`."""

    def change(step: _Transition) -> None:
        appeal = step.appeal
        _close_pause(step)
        reply = Reply.objects.create(
            appeal=appeal, kind=ReplyKind.PUBLIC, author=step.actor, text=text, created_at=step.now
        )
        first = appeal.first_responded_at is None
        if first:
            appeal.first_responded_at = step.now
            appeal.sla_warned_percent = 0  # the clock now runs for resolution, whose warnings start afresh
        if appeal.assignee_id is None:
            appeal.assignee = step.actor if getattr(step.actor, "pk", None) else None
        step.record(EventAction.REPLIED, to_status=Status.ANSWERED, data={"reply": reply.pk, "first_response": first})

    return _transition(
        actor=actor,
        appeal_id=appeal_id,
        action=_("reply to"),
        allowed_from=OPEN_STATUSES,
        change=change,
        now=now,
    )


def appeal_note(*, actor, appeal_id: int, text: str, now: dt.datetime | None = None) -> Appeal:
    """An internal note: visible to staff only, changes neither status nor clock."""

    def change(step: _Transition) -> None:
        reply = Reply.objects.create(
            appeal=step.appeal, kind=ReplyKind.NOTE, author=step.actor, text=text, created_at=step.now
        )
        step.record(EventAction.NOTED, data={"reply": reply.pk})

    return _transition(
        actor=actor,
        appeal_id=appeal_id,
        action=_("add a note to"),
        allowed_from=tuple(Status.values),
        change=change,
        now=now,
    )


def appeal_wait(*, actor, appeal_id: int, reason: str = "", now: dt.datetime | None = None) -> Appeal:
    """Ask the citizen for details: the clock stops until `appeal_resume`."""

    def change(step: _Transition) -> None:
        step.appeal.paused_at = step.now
        step.record(EventAction.WAITING, to_status=Status.WAITING, reason=reason)

    return _transition(
        actor=actor,
        appeal_id=appeal_id,
        action=_("pause"),
        allowed_from=(Status.NEW, Status.IN_PROGRESS, Status.ANSWERED),
        change=change,
        now=now,
    )


def appeal_resume(*, actor, appeal_id: int, reason: str = "", now: dt.datetime | None = None) -> Appeal:
    def change(step: _Transition) -> None:
        paused_from = step.appeal.paused_at
        _close_pause(step)
        step.record(
            EventAction.RESUMED,
            to_status=Status.IN_PROGRESS,
            reason=reason,
            data={"paused_from": paused_from.isoformat() if paused_from else None},
        )

    return _transition(
        actor=actor, appeal_id=appeal_id, action=_("resume"), allowed_from=(Status.WAITING,), change=change, now=now
    )


def appeal_extend(*, actor, appeal_id: int, reason: str, now: dt.datetime | None = None) -> Appeal:
    """Extend a formal appeal's resolution term once, by the policy's extension, with a reason (59-FZ art. 12)."""

    def change(step: _Transition) -> None:
        appeal = step.appeal
        if appeal.kind != AppealKind.APPEAL:
            raise Conflict(_("Only formal appeals can be extended."), code="invalid_transition")
        if appeal.extended_at is not None:
            raise Conflict(_("The term of this appeal has already been extended once."), code="invalid_transition")
        if appeal.policy is None or not appeal.policy.extension_amount:
            raise Conflict(_("The SLA policy of this appeal allows no extension."), code="invalid_transition")
        if not reason.strip():
            raise ValidationError({"reason": _("An extension needs a reason.")})
        before = appeal.resolution_due_at
        appeal.extended_at = step.now
        appeal.extension_reason = reason
        _recompute(appeal)
        step.record(
            EventAction.EXTENDED,
            reason=reason,
            data={"from": before.isoformat() if before else None, "to": appeal.resolution_due_at.isoformat()},
        )

    return _transition(
        actor=actor,
        appeal_id=appeal_id,
        action=_("extend"),
        allowed_from=OPEN_STATUSES,
        change=change,
        now=now,
    )


def _spawn(step: _Transition, *, organization: Organization, kind: str, received_at: dt.datetime) -> Appeal:
    """A linked appeal created by a transition (redirect, conversion), with its own clock and history."""
    source = step.appeal
    page = source.page
    if organization.pk != source.organization_id:
        # The receiving body answers on its own page on the same platform, when it has one.
        page = (
            Page.objects.filter(organization=organization, platform=source.page.platform if source.page else "")
            .order_by("-is_primary", "id")
            .first()
        )
    data = AppealInput(
        kind=kind,
        channel=source.channel,
        text=source.text,
        received_at=received_at,
        author_platform_id=source.author_platform_id,
        author_name=source.author_name,
        category=source.category,
        priority=source.priority,
    )
    spawned = _new_appeal(organization=organization, page=page, data=data, now=step.now, registered_at=step.now)
    spawned.save()
    return spawned


def appeal_redirect(
    *, actor, appeal_id: int, organization: Organization, reason: str, now: dt.datetime | None = None
) -> Appeal:
    """Pass the appeal to the competent organisation: it gets a linked appeal whose clock starts now."""

    def change(step: _Transition) -> None:
        appeal = step.appeal
        if organization.pk == appeal.organization_id:
            raise ValidationError({"organization": _("An appeal can only be redirected to another organization.")})
        if not reason.strip():
            raise ValidationError({"reason": _("A redirect needs a reason.")})
        _close_pause(step)
        target = _spawn(step, organization=organization, kind=appeal.kind, received_at=step.now)
        appeal.redirected_to = target
        appeal.resolved_at = step.now
        late = appeal.kind == AppealKind.APPEAL and step.now > appeal.registered_at + REDIRECT_TERM
        step.record(
            EventAction.REDIRECTED,
            to_status=Status.REDIRECTED,
            reason=reason,
            data={"to_appeal": target.pk, "to_organization": organization.pk, "late": late},
        )
        step.events.append(
            _event(
                target,
                actor=step.actor,
                action=EventAction.REDIRECT_RECEIVED,
                at=step.now,
                to_status=Status.NEW,
                reason=reason,
                data={"from_appeal": appeal.pk, "from_organization": appeal.organization_id},
            )
        )

    return _transition(
        actor=actor,
        appeal_id=appeal_id,
        action=_("redirect"),
        allowed_from=(Status.NEW, Status.IN_PROGRESS, Status.WAITING),
        change=change,
        now=now,
    )


def appeal_reject(*, actor, appeal_id: int, reason: str, comment: str = "", now: dt.datetime | None = None) -> Appeal:
    """Leave without an answer on the merits: a reason of 59-FZ art. 11, or spam."""

    def change(step: _Transition) -> None:
        _close_pause(step)
        step.appeal.reject_reason = reason
        step.appeal.resolved_at = step.now
        step.record(EventAction.REJECTED, to_status=Status.REJECTED, reason=comment, data={"reason": reason})

    return _transition(
        actor=actor,
        appeal_id=appeal_id,
        action=_("reject"),
        allowed_from=OPEN_STATUSES,
        change=change,
        now=now,
    )


def appeal_close(*, actor, appeal_id: int, reason: str = "", now: dt.datetime | None = None) -> Appeal:
    """Close an answered appeal: the resolution target is met now."""

    def change(step: _Transition) -> None:
        step.appeal.resolved_at = step.now
        step.appeal.closed_at = step.now
        step.record(EventAction.CLOSED, to_status=Status.CLOSED, reason=reason)

    return _transition(
        actor=actor, appeal_id=appeal_id, action=_("close"), allowed_from=(Status.ANSWERED,), change=change, now=now
    )


def appeal_reopen(*, actor, appeal_id: int, reason: str, now: dt.datetime | None = None) -> Appeal:
    """Back to work (the citizen is not satisfied): the resolution clock starts again from now.

    The first response stays met; the resolution target is counted afresh, so a reopening does not turn into
    an instant breach of a deadline that was met before.
    """

    def change(step: _Transition) -> None:
        appeal = step.appeal
        if not reason.strip():
            raise ValidationError({"reason": _("Say why the appeal is reopened.")})
        appeal.resolved_at = None
        appeal.closed_at = None
        appeal.resolution_started_at = step.now
        appeal.resolution_breached = False
        appeal.sla_warned_percent = 0
        _recompute(appeal)
        step.record(EventAction.REOPENED, to_status=Status.IN_PROGRESS, reason=reason)

    return _transition(
        actor=actor,
        appeal_id=appeal_id,
        action=_("reopen"),
        allowed_from=(Status.CLOSED, Status.ANSWERED),
        change=change,
        now=now,
    )


def appeal_convert(*, actor, appeal_id: int, reason: str = "", now: dt.datetime | None = None) -> Appeal:
    """The citizen asks for a formal answer: a linked formal appeal is registered and the message is closed."""

    def change(step: _Transition) -> None:
        appeal = step.appeal
        if appeal.kind != AppealKind.MESSAGE:
            raise Conflict(_("Only a message can be converted to a formal appeal."), code="invalid_transition")
        _close_pause(step)
        formal = _spawn(step, organization=appeal.organization, kind=AppealKind.APPEAL, received_at=appeal.received_at)
        formal.converted_from = appeal
        formal.save(update_fields=["converted_from"])
        appeal.resolved_at = step.now
        appeal.closed_at = step.now
        step.record(EventAction.CONVERTED, to_status=Status.CLOSED, reason=reason, data={"to_appeal": formal.pk})
        step.events.append(
            _event(
                formal,
                actor=step.actor,
                action=EventAction.CONVERTED_FROM,
                at=step.now,
                to_status=Status.NEW,
                reason=reason,
                data={"from_appeal": appeal.pk},
            )
        )

    return _transition(
        actor=actor,
        appeal_id=appeal_id,
        action=_("convert"),
        allowed_from=OPEN_STATUSES,
        change=change,
        now=now,
    )


def appeal_mark_duplicate(
    *, actor, appeal_id: int, original: Appeal, reason: str = "", now: dt.datetime | None = None
) -> Appeal:
    """Link the appeal to the case it repeats (the same citizen, the same matter) and close it.

    `original` must be visible to the actor; a duplicate of a duplicate is linked to the root case.
    """

    def change(step: _Transition) -> None:
        appeal = step.appeal
        root = original.duplicate_of or original
        if root.pk == appeal.pk:
            raise ValidationError({"duplicate_of": _("An appeal cannot duplicate itself.")})
        _close_pause(step)
        appeal.duplicate_of = root
        appeal.resolved_at = step.now
        appeal.closed_at = step.now
        step.record(EventAction.DUPLICATE, to_status=Status.CLOSED, reason=reason, data={"duplicate_of": root.pk})

    return _transition(
        actor=actor,
        appeal_id=appeal_id,
        action=_("mark as duplicate"),
        allowed_from=OPEN_STATUSES,
        change=change,
        now=now,
    )


# SLA sweep --------------------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    checked: int = 0
    warnings: int = 0
    breaches: int = 0


def _sweep_one(appeal: Appeal, schedule, now: dt.datetime) -> list[AppealEvent]:
    """Announce every line the appeal has crossed by `now`, once, and set its next check."""
    events: list[AppealEvent] = []

    def announce(action: str, data: dict) -> None:
        events.append(
            _event(
                appeal, actor=None, action=action, at=now, from_status=appeal.status, to_status=appeal.status, data=data
            )
        )

    if appeal.status in (Status.NEW, Status.IN_PROGRESS, Status.ANSWERED):
        if (
            appeal.first_responded_at is None
            and appeal.first_response_due_at
            and appeal.first_response_due_at <= now
            and not appeal.first_response_breached
        ):
            appeal.first_response_breached = True
            announce(
                EventAction.SLA_BREACHED,
                {"target": "first_response", "due_at": appeal.first_response_due_at.isoformat()},
            )
        if (
            appeal.resolved_at is None
            and appeal.resolution_due_at
            and appeal.resolution_due_at <= now
            and not appeal.resolution_breached
        ):
            appeal.resolution_breached = True
            announce(EventAction.SLA_BREACHED, {"target": "resolution", "due_at": appeal.resolution_due_at.isoformat()})
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


_SWEEP_FIELDS = [
    "first_response_breached",
    "resolution_breached",
    "sla_warned_percent",
    "sla_warn_from",
    "sla_next_check_at",
]


def sla_sweep(*, now: dt.datetime | None = None, batch_size: int = 1000) -> SweepResult:
    """Mark appeals that crossed a warning threshold or a deadline since the last sweep; notify operators.

    Reads only appeals whose `sla_next_check_at` has come (a partial index), so its cost follows the number
    of appeals that just crossed a line, not the size of the table. Rows locked by a concurrent transition
    are skipped and picked up by the next sweep. Idempotent: a second run finds nothing due.
    """
    now = now or _now()
    result = SweepResult()
    while True:
        with transaction.atomic():
            batch = list(
                Appeal.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("organization__region", "policy")
                .filter(sla_next_check_at__lte=now)
                .order_by("sla_next_check_at", "id")[:batch_size]
            )
            events: list[AppealEvent] = []
            schedules: dict[int, Any] = {}
            for appeal in batch:
                schedule = schedules.get(appeal.organization_id)
                if schedule is None:
                    schedule = schedules[appeal.organization_id] = sla.schedule_for(appeal.organization)
                events.extend(_sweep_one(appeal, schedule, now))
            Appeal.objects.bulk_update(batch, _SWEEP_FIELDS)
            created = AppealEvent.objects.bulk_create(events)
            if created:
                event_ids = [event.pk for event in created]
                transaction.on_commit(lambda ids=event_ids: _queue_notifications(ids))
        result.checked += len(batch)
        result.warnings += sum(1 for event in events if event.action == EventAction.SLA_WARNING)
        result.breaches += sum(1 for event in events if event.action == EventAction.SLA_BREACHED)
        if len(batch) < batch_size:
            return result


def _queue_notifications(event_ids: list[int]) -> None:
    from appeals.tasks import notify_sla_events

    notify_sla_events.delay(event_ids)


def sla_notify(*, event_ids: list[int]) -> int:
    """Email each organisation's operators one message listing its appeals that crossed a line; returns emails sent."""
    from django.conf import settings
    from django.core.mail import send_mass_mail
    from django.utils import translation

    events = (
        AppealEvent.objects.filter(pk__in=event_ids, action__in=[EventAction.SLA_WARNING, EventAction.SLA_BREACHED])
        .select_related("appeal__organization")
        .order_by("appeal__organization_id", "appeal_id", "id")
    )
    by_organization: dict[int, list[AppealEvent]] = {}
    for event in events:
        by_organization.setdefault(event.appeal.organization_id, []).append(event)
    recipients: dict[int, list[str]] = {}
    for organization_id, email in (
        Membership.objects.filter(role=Role.OPERATOR, organization_id__in=by_organization, user__is_active=True)
        .exclude(user__email="")
        .values_list("organization_id", "user__email")
    ):
        recipients.setdefault(organization_id, []).append(email)

    messages = []
    with translation.override("ru"):
        for organization_id, organization_events in by_organization.items():
            if organization_id not in recipients:
                continue
            organization = organization_events[0].appeal.organization
            lines = []
            for event in organization_events:
                if event.action == EventAction.SLA_BREACHED:
                    missed = (
                        _("Appeal #%(id)s: the first-response deadline has passed unanswered.")
                        if event.data.get("target") == "first_response"
                        else _("Appeal #%(id)s: the resolution deadline has passed.")
                    )
                    lines.append(missed % {"id": event.appeal_id})
                else:
                    lines.append(
                        _("Appeal #%(id)s: %(percent)s%% of the allowed time has passed.")
                        % {"id": event.appeal_id, "percent": event.data.get("percent")}
                    )
            subject = _("Otklik: appeals of %(organization)s need attention") % {"organization": organization}
            messages.append((subject, "\n".join(lines), settings.DEFAULT_FROM_EMAIL, recipients[organization_id]))
    return send_mass_mail(messages, fail_silently=False) if messages else 0


# Recomputation after a change of calendar or policy ------------------------------------------------------------


def appeals_recompute_deadlines(
    *,
    region_id: int | None = None,
    policy_lineage: int | None = None,
    batch_size: int = 1000,
    now: dt.datetime | None = None,
) -> int:
    """Recompute the deadlines of open appeals from their own facts; returns how many changed.

    With `region_id`, appeals of that region (a regional calendar override changed); with neither argument,
    all open appeals (a federal override changed); with `policy_lineage`, appeals on any version of that
    policy move to its current version (the editor applied a policy change to open appeals). Idempotent:
    the result depends only on the stored facts, so a second run changes nothing.
    """
    now = now or _now()
    # Reread the calendar and policies now: this runs right after a change, maybe within the cache's TTL.
    sla.forget_local("calendar")
    sla.forget_local("policies")
    current_policy = None
    appeals = Appeal.objects.filter(status__in=OPEN_STATUSES)
    if region_id is not None:
        appeals = appeals.filter(region_id=region_id)
    if policy_lineage is not None:
        current_policy = SlaPolicy.objects.get(lineage=policy_lineage, is_current=True)
        appeals = appeals.filter(policy__lineage=policy_lineage)
    changed = 0
    last_id = 0
    while True:
        with transaction.atomic():
            batch = list(
                appeals.filter(pk__gt=last_id)
                .select_for_update(of=("self",))
                .select_related("organization__region", "policy")
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return changed
            last_id = batch[-1].pk
            dirty, events = [], []
            for appeal in batch:
                before = (appeal.policy_id, appeal.first_response_due_at, appeal.resolution_due_at)
                policy = current_policy if current_policy is not None else appeal.policy
                sla.apply_deadlines(appeal, policy, sla.schedule_for(appeal.organization), now=now)
                after = (appeal.policy_id, appeal.first_response_due_at, appeal.resolution_due_at)
                if before != after:
                    dirty.append(appeal)
                    events.append(
                        _event(
                            appeal,
                            actor=None,
                            action=EventAction.DEADLINES_RECOMPUTED,
                            at=now,
                            from_status=appeal.status,
                            to_status=appeal.status,
                            data={
                                "policy": [before[0], after[0]],
                                "first_response_due_at": [_iso(before[1]), _iso(after[1])],
                                "resolution_due_at": [_iso(before[2]), _iso(after[2])],
                            },
                        )
                    )
            Appeal.objects.bulk_update(
                dirty,
                [
                    "policy",
                    "first_response_due_at",
                    "resolution_due_at",
                    "first_response_breached",
                    "resolution_breached",
                    "sla_warn_from",
                    "sla_next_check_at",
                ],
            )
            AppealEvent.objects.bulk_create(events)
            changed += len(dirty)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# Policies and calendar overrides --------------------------------------------------------------------------------


def _require_region_rights(actor, region_id: int | None, organization: Organization | None = None) -> None:
    """Federal rules (no region) are the federal administrators'; a region's are also its analysts'."""
    scope = scope_for(actor)
    if scope.manage.everything:
        return
    if organization is not None or region_id is None or region_id not in scope.manage.region_ids:
        raise PermissionDenied(_("Only federal administrators and the region's analysts may change this."))


def sla_policy_create(*, actor, data: dict[str, Any]) -> SlaPolicy:
    region = data.get("region")
    _require_region_rights(actor, region.pk if region else None, data.get("organization"))
    policy = SlaPolicy(lineage=0, version=1, is_current=True, created_by=actor, **data)
    policy.full_clean(exclude=["lineage"])
    with transaction.atomic():
        policy.save()
        policy.lineage = policy.pk  # the first version names its lineage
        policy.save(update_fields=["lineage"])
        sla.changed("policies")
    return policy


def sla_policy_update(
    *, actor, policy: SlaPolicy, data: dict[str, Any], apply_to_open_appeals: bool = False
) -> SlaPolicy:
    """Store the edit as a new version; open appeals keep theirs unless `apply_to_open_appeals`."""
    _require_region_rights(actor, policy.region_id, policy.organization)
    if "region" in data or "organization" in data:
        region = data.get("region", policy.region)
        _require_region_rights(actor, region.pk if region else None, data.get("organization", policy.organization))
    with transaction.atomic():
        try:
            current = SlaPolicy.objects.select_for_update(nowait=True).get(pk=policy.pk, is_current=True)
        except SlaPolicy.DoesNotExist as exc:
            raise Conflict(_("This policy has a newer version; edit that one.")) from exc
        except DatabaseError as exc:
            raise Conflict() from exc
        successor = SlaPolicy(
            **{
                f.attname: getattr(current, f.attname)
                for f in SlaPolicy._meta.concrete_fields
                if f.attname not in ("id", "created_at")
            }
        )
        for name, value in data.items():
            setattr(successor, name, value)
        successor.version = current.version + 1
        successor.created_by = actor
        successor.full_clean(exclude=["lineage", "version", "is_current"])
        current.is_current = False
        current.save(update_fields=["is_current"])
        successor.save()
        sla.changed("policies")
        if apply_to_open_appeals:
            from appeals.tasks import recompute_deadlines

            transaction.on_commit(lambda: recompute_deadlines.delay(policy_lineage=successor.lineage))
    return successor


def _after_calendar_change(region_id: int | None) -> None:
    from appeals.tasks import recompute_deadlines

    sla.changed("calendar")
    transaction.on_commit(lambda: recompute_deadlines.delay(region_id=region_id))


def calendar_override_save(*, actor, override, data: dict[str, Any]):
    """Create or change an override; open appeals of the region (all, for a federal one) move with it."""
    regions_touched = {override.region_id} if override.pk else set()
    for name, value in data.items():
        setattr(override, name, value)
    _require_region_rights(actor, override.region_id)
    if override.pk is None:
        override.created_by = actor
    override.full_clean()
    regions_touched.add(override.region_id)
    with transaction.atomic():
        try:
            override.save()
        except IntegrityError as exc:
            raise ValidationError({"date": _("This date already has an override for this region.")}) from exc
        for region_id in regions_touched:
            _after_calendar_change(region_id)
    return override


def calendar_override_delete(*, actor, override) -> None:
    _require_region_rights(actor, override.region_id)
    with transaction.atomic():
        region_id = override.region_id
        override.delete()
        _after_calendar_change(region_id)
