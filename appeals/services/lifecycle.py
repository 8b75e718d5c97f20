"""Every lifecycle transition of domain.md section 6.

Each transition locks the appeal row (`select_for_update(nowait=True)`: a request that finds the row locked by
another answers 409 instead of waiting and then acting on a state it never saw), checks the actor's right
through `core.access` and the move through `appeals.models.TRANSITIONS` (the one table of which transition
leads from which status to which), writes its history event, and refreshes the SLA bookkeeping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import sla
from appeals.models import (
    TRANSITIONS,
    Appeal,
    AppealEvent,
    AppealKind,
    EventAction,
    ReplyKind,
    Transition,
)
from appeals.services.history import history_append, history_event, history_reply, person_of
from appeals.services.hooks import reply_published
from appeals.services.intake import AppealInput, appeal_build
from core.access import Actor, require_answer_for, require_manage, scope_for
from core.errors import Conflict
from publics.models import Organization, Page

# 59-FZ art. 8: a formal appeal goes to the competent body within 7 days of registration.
REDIRECT_TERM = dt.timedelta(days=7)


def _lock(appeal_id: int) -> Appeal:
    """Lock the appeal row for this transaction; a row locked by a concurrent request is a 409, not a wait."""
    try:
        return (
            Appeal.objects.select_for_update(nowait=True, of=("self",))
            .select_related("organization__region", "policy")
            .defer("search_vector")  # the trigger keeps it; saving it back would recompute it for nothing
            .get(pk=appeal_id)
        )
    except DatabaseError as exc:
        raise Conflict(_("Another request is changing this appeal right now. Reload and try again.")) from exc


@dataclass
class _Step:
    """The context of one transition: the locked appeal, the actor, the moment, the status the table leads
    to, and the events to write."""

    appeal: Appeal
    actor: Actor
    now: dt.datetime
    to_status: str
    events: list[AppealEvent] = field(default_factory=list)

    def record(self, action: str, *, reason: str = "", data: dict | None = None) -> None:
        """Move to the table's status and write the transition's event."""
        from_status = self.appeal.status
        self.appeal.status = self.to_status
        self.events.append(
            history_event(
                self.appeal,
                actor=self.actor,
                action=action,
                at=self.now,
                from_status=from_status,
                to_status=self.to_status,
                reason=reason,
                data=data,
            )
        )

    def record_spawned(self, spawned: Appeal, action: str, *, reason: str, data: dict) -> None:
        """The first event of an appeal this transition created (a redirect's target, a conversion's appeal)."""
        self.events.append(
            history_event(
                spawned,
                actor=self.actor,
                action=action,
                at=self.now,
                to_status=spawned.status,
                reason=reason,
                data=data,
            )
        )


def _transition(
    *,
    actor: Actor,
    appeal_id: int,
    transition: Transition,
    change: Callable[[_Step], None],
    now: dt.datetime | None = None,
) -> Appeal:
    """Run one transition: lock, check the actor and the table, apply `change`, write events, save."""
    with transaction.atomic():
        appeal = _lock(appeal_id)
        require_manage(actor, appeal, _("You may see this appeal but not act on it."))
        to_status = TRANSITIONS[transition].get(appeal.status)
        if to_status is None:
            raise Conflict(
                _("Action «%(action)s» is not allowed for an appeal in status «%(status)s».")
                % {"action": transition.label, "status": appeal.get_status_display()},
                code="invalid_transition",
            )
        step = _Step(appeal=appeal, actor=actor, now=now or timezone.now(), to_status=to_status)
        change(step)
        sla.refresh_tracking(appeal, sla.schedule_for(appeal.organization), now=step.now)
        appeal.save()
        history_append(step.events)
    return appeal


def _close_pause(step: _Step) -> None:
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


def appeal_take(*, actor: Actor, appeal_id: int, now: dt.datetime | None = None) -> Appeal:
    def change(step: _Step) -> None:
        step.appeal.assignee = person_of(step.actor)
        step.record(EventAction.TAKEN)

    return _transition(actor=actor, appeal_id=appeal_id, transition=Transition.TAKE, change=change, now=now)


def appeal_assign(*, actor: Actor, appeal_id: int, assignee, now: dt.datetime | None = None) -> Appeal:
    """Give the appeal to a person who may handle it: an operator of its organisation, an analyst of its region,
    an administrator (whoever may manage the appeal)."""

    def change(step: _Step) -> None:
        if not assignee.is_active or not scope_for(assignee).may_manage(step.appeal):
            raise ValidationError({"assignee": _("This user cannot handle appeals of this organization.")})
        previous = step.appeal.assignee_id
        step.appeal.assignee = assignee
        step.record(EventAction.ASSIGNED, data={"from": previous, "to": assignee.pk})

    return _transition(actor=actor, appeal_id=appeal_id, transition=Transition.ASSIGN, change=change, now=now)


def appeal_reply(*, actor: Actor, appeal_id: int, text: str, now: dt.datetime | None = None) -> Appeal:
    """A public reply: the first one meets the first-response target and the appeal becomes `answered`."""

    def change(step: _Step) -> None:
        appeal = step.appeal
        # Managing the appeal is not enough: a public reply speaks for the page's owner (core.access).
        require_answer_for(
            step.actor, appeal, _("Only the operators of the page's organisation reply publicly on its behalf.")
        )
        _close_pause(step)
        (reply,) = history_append(
            [history_reply(appeal, actor=step.actor, kind=ReplyKind.PUBLIC, text=text, at=step.now)]
        )
        first = appeal.first_responded_at is None
        if first:
            appeal.first_responded_at = step.now
            appeal.sla_warned_percent = 0  # the clock now runs for resolution, whose warnings start afresh
        if appeal.assignee_id is None:
            appeal.assignee = person_of(step.actor)
        step.record(EventAction.REPLIED, data={"reply": reply.pk, "first_response": first})
        reply_published(appeal=appeal, reply=reply)  # connectors: the delivery to the platform, same transaction

    return _transition(actor=actor, appeal_id=appeal_id, transition=Transition.REPLY, change=change, now=now)


def appeal_note(*, actor: Actor, appeal_id: int, text: str, now: dt.datetime | None = None) -> Appeal:
    """An internal note: visible to staff only, changes neither status nor clock."""

    def change(step: _Step) -> None:
        (reply,) = history_append(
            [history_reply(step.appeal, actor=step.actor, kind=ReplyKind.NOTE, text=text, at=step.now)]
        )
        step.record(EventAction.NOTED, data={"reply": reply.pk})

    return _transition(actor=actor, appeal_id=appeal_id, transition=Transition.NOTE, change=change, now=now)


def appeal_wait(*, actor: Actor, appeal_id: int, reason: str = "", now: dt.datetime | None = None) -> Appeal:
    """Ask the citizen for details: the clock stops until `appeal_resume`."""

    def change(step: _Step) -> None:
        step.appeal.paused_at = step.now
        step.record(EventAction.WAITING, reason=reason)

    return _transition(actor=actor, appeal_id=appeal_id, transition=Transition.WAIT, change=change, now=now)


def appeal_resume(*, actor: Actor, appeal_id: int, reason: str = "", now: dt.datetime | None = None) -> Appeal:
    def change(step: _Step) -> None:
        paused_from = step.appeal.paused_at
        _close_pause(step)
        step.record(
            EventAction.RESUMED,
            reason=reason,
            data={"paused_from": paused_from.isoformat() if paused_from else None},
        )

    return _transition(actor=actor, appeal_id=appeal_id, transition=Transition.RESUME, change=change, now=now)


def appeal_extend(*, actor: Actor, appeal_id: int, reason: str, now: dt.datetime | None = None) -> Appeal:
    """Extend a formal appeal's resolution term once, by the policy's extension, with a reason (59-FZ art. 12)."""

    def change(step: _Step) -> None:
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
            data={
                "from": before.isoformat() if before else None,
                "to": appeal.resolution_due_at.isoformat() if appeal.resolution_due_at else None,
            },
        )

    return _transition(actor=actor, appeal_id=appeal_id, transition=Transition.EXTEND, change=change, now=now)


def _spawn(step: _Step, *, organization: Organization, kind: str, received_at: dt.datetime) -> Appeal:
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
    spawned = appeal_build(organization=organization, page=page, data=data, now=step.now, registered_at=step.now)
    spawned.save()
    return spawned


def appeal_redirect(
    *, actor: Actor, appeal_id: int, organization: Organization, reason: str, now: dt.datetime | None = None
) -> Appeal:
    """Pass the appeal to the competent organisation: it gets a linked appeal whose clock starts now."""

    def change(step: _Step) -> None:
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
            reason=reason,
            data={"to_appeal": target.pk, "to_organization": organization.pk, "late": late},
        )
        step.record_spawned(
            target,
            EventAction.REDIRECT_RECEIVED,
            reason=reason,
            data={"from_appeal": appeal.pk, "from_organization": appeal.organization_id},
        )

    return _transition(actor=actor, appeal_id=appeal_id, transition=Transition.REDIRECT, change=change, now=now)


def appeal_reject(
    *, actor: Actor, appeal_id: int, reason: str, comment: str = "", now: dt.datetime | None = None
) -> Appeal:
    """Leave without an answer on the merits: a reason of 59-FZ art. 11, or spam."""

    def change(step: _Step) -> None:
        _close_pause(step)
        step.appeal.reject_reason = reason
        step.appeal.resolved_at = step.now
        step.record(EventAction.REJECTED, reason=comment, data={"reason": reason})

    return _transition(actor=actor, appeal_id=appeal_id, transition=Transition.REJECT, change=change, now=now)


def appeal_close(*, actor: Actor, appeal_id: int, reason: str = "", now: dt.datetime | None = None) -> Appeal:
    """Close an answered appeal: the resolution target is met now."""

    def change(step: _Step) -> None:
        step.appeal.resolved_at = step.now
        step.appeal.closed_at = step.now
        step.record(EventAction.CLOSED, reason=reason)

    return _transition(actor=actor, appeal_id=appeal_id, transition=Transition.CLOSE, change=change, now=now)


def appeal_reopen(*, actor: Actor, appeal_id: int, reason: str, now: dt.datetime | None = None) -> Appeal:
    """Back to work (the citizen is not satisfied): the resolution clock starts again from now.

    The first response stays met; the resolution target is counted afresh, so a reopening does not turn into
    an instant breach of a deadline that was met before.
    """

    def change(step: _Step) -> None:
        appeal = step.appeal
        if not reason.strip():
            raise ValidationError({"reason": _("Say why the appeal is reopened.")})
        appeal.resolved_at = None
        appeal.closed_at = None
        appeal.resolution_started_at = step.now
        appeal.resolution_breached = False
        appeal.sla_warned_percent = 0
        _recompute(appeal)
        step.record(EventAction.REOPENED, reason=reason)

    return _transition(actor=actor, appeal_id=appeal_id, transition=Transition.REOPEN, change=change, now=now)


def appeal_convert(*, actor: Actor, appeal_id: int, reason: str = "", now: dt.datetime | None = None) -> Appeal:
    """The citizen asks for a formal answer: a linked formal appeal is registered and the message is closed.

    A message is converted once: reopened after its conversion, it still has its formal appeal, and a second
    conversion is refused (409), not a second link.
    """

    def change(step: _Step) -> None:
        appeal = step.appeal
        if appeal.kind != AppealKind.MESSAGE:
            raise Conflict(_("Only a message can be converted to a formal appeal."), code="invalid_transition")
        if Appeal.objects.filter(converted_from=appeal).exists():
            raise Conflict(_("This message has already been converted to a formal appeal."), code="invalid_transition")
        _close_pause(step)
        formal = _spawn(step, organization=appeal.organization, kind=AppealKind.APPEAL, received_at=appeal.received_at)
        formal.converted_from = appeal
        formal.save(update_fields=["converted_from"])
        appeal.resolved_at = step.now
        appeal.closed_at = step.now
        step.record(EventAction.CONVERTED, reason=reason, data={"to_appeal": formal.pk})
        step.record_spawned(formal, EventAction.CONVERTED_FROM, reason=reason, data={"from_appeal": appeal.pk})

    return _transition(actor=actor, appeal_id=appeal_id, transition=Transition.CONVERT, change=change, now=now)


def appeal_mark_duplicate(
    *, actor: Actor, appeal_id: int, original: Appeal, reason: str = "", now: dt.datetime | None = None
) -> Appeal:
    """Link the appeal to the case it repeats (the same citizen, the same matter) and close it.

    `original` must be visible to the actor; a duplicate of a duplicate is linked to the root case.
    """

    def change(step: _Step) -> None:
        appeal = step.appeal
        if not scope_for(step.actor).may_read(original):
            raise ValidationError({"duplicate_of": _("Unknown appeal or not in your scope.")})
        root = original.duplicate_of or original
        if root.pk == appeal.pk:
            raise ValidationError({"duplicate_of": _("An appeal cannot duplicate itself.")})
        _close_pause(step)
        appeal.duplicate_of = root
        appeal.resolved_at = step.now
        appeal.closed_at = step.now
        step.record(EventAction.DUPLICATE, reason=reason, data={"duplicate_of": root.pk})

    return _transition(actor=actor, appeal_id=appeal_id, transition=Transition.MARK_DUPLICATE, change=change, now=now)
