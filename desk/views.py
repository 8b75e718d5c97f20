"""The appeal page's parts and its one POST: an action of `appeals.actions` carried out by its service.

Everything here works on an appeal already found through the scoped selector; the page's buttons are those of
`actions_allowed`, and the service checks again, so a stale page or a crafted POST gets the service's refusal
as an admin message, never a 403 or JSON page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ValidationError as InputError

from appeals import selectors
from appeals.actions import ACTIONS, actions_allowed
from appeals.models import Appeal, EventAction, RejectReason, ReplyKind, Transition
from connectors import services as connector_services
from connectors.models import DeliveryStatus
from connectors.selectors import appeal_deliveries, appeal_source
from core.access import author_shown, managers_q, scope_for
from core.errors import ApplicationError, message_for
from desk.presentation import local_time, sla_badge, zone_of
from desk.selectors import response_templates_for
from publics.models import Organization

# What the message after an action says was done (the new status follows it).
DONE = {
    Transition.REPLY: gettext_lazy("The reply is published"),
    Transition.NOTE: gettext_lazy("The internal note is added"),
    Transition.TAKE: gettext_lazy("The appeal is taken into work"),
    Transition.ASSIGN: gettext_lazy("The appeal is assigned"),
    Transition.WAIT: gettext_lazy("The clock is stopped until the citizen answers"),
    Transition.RESUME: gettext_lazy("The work is resumed"),
    Transition.EXTEND: gettext_lazy("The term is extended"),
    Transition.REDIRECT: gettext_lazy("The appeal is redirected"),
    Transition.REJECT: gettext_lazy("The appeal is rejected"),
    Transition.CLOSE: gettext_lazy("The appeal is closed"),
    Transition.REOPEN: gettext_lazy("The appeal is reopened"),
    Transition.CONVERT: gettext_lazy("The message is converted to a formal appeal"),
    Transition.MARK_DUPLICATE: gettext_lazy("The appeal is marked as a duplicate"),
}
# The bulk actions' messages: «Взято в работу: 3 обращения.»
BULK_DONE = {
    Transition.TAKE: gettext_lazy("Taken into work"),
    Transition.ASSIGN: gettext_lazy("Assigned"),
    Transition.MARK_DUPLICATE: gettext_lazy("Closed as duplicates"),
}
INPUT_ERRORS = (InputError, ValidationError)
# Written as a reply box rather than a button.
REPLY_BOX = (Transition.REPLY, Transition.NOTE)
RETRY_DELIVERY = "retry_delivery"

_EVENT_SHOWN_AS_REPLY = {EventAction.REPLIED, EventAction.NOTED}


def queue_url() -> str:
    return reverse("admin:appeals_appeal_changelist")


def appeal_url(appeal_id: int) -> str:
    return reverse("admin:appeals_appeal_change", args=[appeal_id])


def done_message(appeal: Appeal, transition: str) -> str:
    return _("%(done)s. Appeal no. %(number)s is now «%(status)s».") % {
        "done": DONE[Transition(transition)],
        "number": appeal.pk,
        "status": appeal.get_status_display(),
    }


def refusal_message(exc: Exception) -> str:
    if isinstance(exc, InputError):
        return _("Not done: %(reason)s") % {"reason": " ".join(_flat(exc.detail))}
    return _("Not done: %(reason)s") % {"reason": message_for(exc)}


def run_action(request: HttpRequest, appeal_id: int, name: str, data: dict[str, Any]) -> Appeal | None:
    """Carry out one action for the request's user; the outcome (done and the new status, or the refusal with
    its reason) becomes an admin message. Returns the changed appeal, or None if refused."""
    entry = ACTIONS.get(name)
    if entry is None:
        messages.error(request, _("Not done: %(reason)s") % {"reason": _("unknown action.")})
        return None
    try:
        appeal = entry.run(actor=request.user, appeal_id=appeal_id, data=data)
    except (InputError, ValidationError, ApplicationError) as exc:
        messages.error(request, refusal_message(exc))
        return None
    messages.success(request, done_message(appeal, name))
    return appeal


def act(request: HttpRequest, appeal_id: int) -> HttpResponseRedirect:
    """POST from the appeal page: the chosen action with its inputs, named as the action's input names them."""
    if not selectors.appeals_visible_to(request.user).filter(pk=appeal_id).exists():
        messages.error(request, not_found_message(appeal_id))
        return HttpResponseRedirect(queue_url())
    name = request.POST.get("action", "")
    if name == RETRY_DELIVERY:
        _retry_delivery(request, request.POST.get("delivery", ""))
        return HttpResponseRedirect(appeal_url(appeal_id))
    entry = ACTIONS.get(name)
    data: dict[str, Any] = {}
    if entry is not None and entry.input is not None:
        for input_name in entry.input().fields:
            value = request.POST.get(input_name, "")
            if value != "":
                data[input_name] = value.strip() if input_name == entry.text_field else value
    run_action(request, appeal_id, name, data)
    return HttpResponseRedirect(appeal_url(appeal_id))


def _retry_delivery(request: HttpRequest, delivery_id: str) -> None:
    try:
        connector_services.delivery_retry(actor=request.user, delivery_id=int(delivery_id))
    except (ValueError, ApplicationError, ValidationError) as exc:
        reason = message_for(exc) if not isinstance(exc, ValueError) else _("unknown delivery.")
        messages.error(request, _("Not done: %(reason)s") % {"reason": reason})
        return
    messages.success(request, _("The reply is queued to be sent to the platform again."))


def not_found_message(appeal_id: Any) -> str:
    return _("Appeal no. %(number)s is not found.") % {"number": appeal_id}


# The page's parts -----------------------------------------------------------------------------------------------


@dataclass
class Entry:
    moment: dt.datetime
    order: tuple[int, int]
    label: str
    who: str
    text: str = ""
    detail: str = ""
    kind: str = "event"  # event, public, note


@dataclass
class Field:
    name: str
    label: str
    kind: str  # text, textarea, select, number
    required: bool = False
    choices: list[tuple[Any, str]] = field(default_factory=list)


@dataclass
class Offered:
    name: str
    label: str
    fields: list[Field]
    danger: bool = False


def _who(user: Any) -> str:
    if user is None:
        return _("system")
    return user.get_full_name() or user.get_username()


def timeline(appeal: Appeal) -> list[Entry]:
    """Replies, internal notes and history events in one list, oldest first, with readable labels."""
    entries = [
        Entry(
            moment=reply.created_at,
            order=(0, reply.id),
            label=reply.get_kind_display(),
            who=_who(reply.author),
            text=reply.text,
            kind="public" if reply.kind == ReplyKind.PUBLIC else "note",
        )
        for reply in selectors.appeal_replies(appeal)
    ]
    events = list(selectors.appeal_events(appeal))
    user_ids = {
        value for event in events if event.action == EventAction.ASSIGNED for value in (event.data or {}).values()
    }
    names = {
        user.pk: _who(user)
        for user in get_user_model().objects.filter(pk__in=[pk for pk in user_ids if isinstance(pk, int)])
    }
    for event in events:
        if event.action in _EVENT_SHOWN_AS_REPLY:
            continue
        parts = []
        if event.from_status and event.to_status and event.from_status != event.to_status:
            parts.append(f"{event.get_from_status_display()} → {event.get_to_status_display()}")
        if event.action == EventAction.ASSIGNED and (event.data or {}).get("to") in names:
            parts.append(_("to %(user)s") % {"user": names[event.data["to"]]})
        entries.append(
            Entry(
                moment=event.created_at,
                order=(1, event.id),
                label=event.get_action_display(),
                who=_who(event.actor),
                detail=" · ".join(parts),
                text=event.reason,
            )
        )
    entries.sort(key=lambda entry: (entry.moment, entry.order))
    zone = zone_of(appeal)
    for entry in entries:
        entry.when = local_time(entry.moment, zone)  # type: ignore[attr-defined]
    return entries


def deliveries(request: HttpRequest, appeal: Appeal, *, may_act: bool) -> list[dict[str, Any]]:
    zone = zone_of(appeal)
    return [
        {
            "delivery": delivery,
            "created": local_time(delivery.created_at, zone),
            "delivered": local_time(delivery.delivered_at, zone) if delivery.delivered_at else "",
            "failed": delivery.status == DeliveryStatus.FAILED,
            "may_retry": may_act and delivery.status == DeliveryStatus.FAILED,
        }
        for delivery in appeal_deliveries(request.user, appeal.pk)
    ]


def offered_actions(request: HttpRequest, appeal: Appeal) -> list[Offered]:
    """One entry per action the status allows and the user may take, with the inputs it asks for."""
    result = []
    for entry in actions_allowed(appeal, request.user):
        if entry.transition in REPLY_BOX:
            continue
        inputs = entry.input().fields if entry.input is not None else {}
        fields = []
        for name, serializer_field in inputs.items():
            fields.append(_field_for(appeal, entry.transition, name, serializer_field))
        result.append(
            Offered(
                name=entry.name,
                label=str(entry.label),
                fields=fields,
                danger=entry.transition in (Transition.REJECT, Transition.MARK_DUPLICATE),
            )
        )
    return result


def _field_for(appeal: Appeal, transition: str, name: str, serializer_field: Any) -> Field:
    required = bool(serializer_field.required)
    if name == "assignee":
        colleagues = get_user_model().objects.filter(managers_q(appeal.scope_keys())).distinct().order_by("username")
        return Field(name, _("Colleague"), "select", True, [(user.pk, _who(user)) for user in colleagues])
    if name == "organization":
        targets = Organization.objects.filter(region_id=appeal.region_id).exclude(pk=appeal.organization_id)
        return Field(
            name, _("Competent organization"), "select", True, list(targets.order_by("name").values_list("pk", "name"))
        )
    if name == "reason" and transition == Transition.REJECT:
        return Field(name, _("Ground"), "select", True, list(RejectReason.choices))
    if name == "duplicate_of":
        return Field(name, _("Number of the original appeal"), "number", True)
    label = _("Reason") if name == "reason" else _("Comment")
    return Field(name, label, "textarea", required)


def page_context(request: HttpRequest, appeal: Appeal) -> dict[str, Any]:
    """Everything the appeal page shows beside its fields."""
    scope = scope_for(request.user)
    allowed = {entry.name for entry in actions_allowed(appeal, request.user)}
    source = appeal_source(appeal.pk)
    link = (source.url if source else "") or (appeal.page.url if appeal.page_id else "")
    shown = author_shown(request.user, name=appeal.author_name, platform_user_id=appeal.author_platform_id)
    return {
        "appeal": appeal,
        "author": shown,
        "original_link": link,
        "desk_badge": sla_badge(appeal, now=timezone.now()),
        "received": local_time(appeal.received_at, zone_of(appeal)),
        "timeline": timeline(appeal),
        "deliveries": deliveries(request, appeal, may_act=scope.may_manage(appeal)),
        "may_reply": Transition.REPLY in allowed,
        "may_note": Transition.NOTE in allowed,
        "templates": response_templates_for(appeal, request.user) if Transition.REPLY in allowed else [],
        "offered": offered_actions(request, appeal),
        "act_url": reverse("admin:appeals_appeal_act", args=[appeal.pk]),
        "read_only": not allowed,
    }


def _flat(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [item for value in detail.values() for item in _flat(value)]
    if isinstance(detail, list):
        return [item for value in detail for item in _flat(value)]
    return [str(detail)]
