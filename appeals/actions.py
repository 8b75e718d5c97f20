"""The registry of what can be done to an appeal: one entry per transition of `appeals.models.TRANSITIONS`.

Each entry names its service, its input (a serializer, validated the same way wherever the action comes from),
whether it needs a text, and how ids in the input become objects within the actor's scope. The API's action
routes, the desk's buttons and bulk actions all read this registry, so an action is declared once and offered
only where the appeal's status allows it (`actions_allowed`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.serializers import Serializer

from appeals import selectors, services
from appeals.api.serializers import (
    AssignSerializer,
    DuplicateSerializer,
    ReasonSerializer,
    RedirectSerializer,
    RejectSerializer,
    RequiredReasonSerializer,
    TextSerializer,
)
from appeals.models import TRANSITIONS, Appeal, Transition
from core.access import Actor, scope_for


@dataclass(frozen=True)
class AppealAction:
    transition: Transition
    label: str | Promise  # the desk's button
    service: Callable[..., Appeal]
    input: type[Serializer] | None  # validated input, whose fields are the service's arguments
    text_field: str | None = None  # the input field that holds the text or reason, if any
    needs_text: bool = False
    summary: str = ""  # for the API's schema (English, like the rest of the schema)
    description: str = ""
    prepare: Callable[[Actor, dict[str, Any]], dict[str, Any]] | None = None  # ids in the input → objects

    @property
    def name(self) -> str:
        return str(self.transition.value)

    @property
    def url_path(self) -> str:
        return self.name.replace("_", "-")

    def allowed_from(self, status: str) -> bool:
        return status in TRANSITIONS[self.transition]

    def validate(self, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
        """The service's arguments from raw input: raises ValidationError (Django's or DRF's) on bad input."""
        arguments: dict[str, Any] = {}
        if self.input is not None:
            serializer = self.input(data=data)
            serializer.is_valid(raise_exception=True)
            arguments.update(serializer.validated_data)
        if self.prepare is not None:
            arguments = self.prepare(actor, arguments)
        return arguments

    def run(self, *, actor: Actor, appeal_id: int, data: dict[str, Any]) -> Appeal:
        return self.service(actor=actor, appeal_id=appeal_id, **self.validate(actor, data))


def _assignee(actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
    # An unknown id answers as a user who may not handle the appeal does (the service's check): the input
    # reveals nothing about who exists.
    assignee = get_user_model().objects.filter(pk=arguments["assignee"], is_active=True).first()
    if assignee is None:
        raise ValidationError({"assignee": _("This user cannot handle appeals of this organization.")})
    return {"assignee": assignee}


def _original(actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
    original = selectors.appeals_visible_to(actor).filter(pk=arguments["duplicate_of"]).first()
    if original is None:
        raise ValidationError({"duplicate_of": _("Unknown appeal or not in your scope.")})
    return {"original": original, "reason": arguments["reason"]}


ACTIONS: dict[str, AppealAction] = {
    action.name: action
    for action in [
        AppealAction(
            Transition.REPLY,
            gettext_lazy("Reply publicly"),
            services.appeal_reply,
            TextSerializer,
            text_field="text",
            needs_text=True,
            summary="Reply publicly",
            description="The first public reply meets the first-response target.",
        ),
        AppealAction(
            Transition.NOTE,
            gettext_lazy("Add an internal note"),
            services.appeal_note,
            TextSerializer,
            text_field="text",
            needs_text=True,
            summary="Add an internal note",
        ),
        AppealAction(
            Transition.TAKE,
            gettext_lazy("Take into work"),
            services.appeal_take,
            None,
            summary="Take the appeal into work",
            description="`new` → `in_progress`, assigned to you.",
        ),
        AppealAction(
            Transition.ASSIGN,
            gettext_lazy("Assign"),
            services.appeal_assign,
            AssignSerializer,
            summary="Assign the appeal",
            description="To an operator of the organization or an analyst.",
            prepare=_assignee,
        ),
        AppealAction(
            Transition.WAIT,
            gettext_lazy("Wait for the citizen (pause the clock)"),
            services.appeal_wait,
            ReasonSerializer,
            text_field="reason",
            summary="Wait for the citizen",
            description="The clock stops until resumed.",
        ),
        AppealAction(
            Transition.RESUME,
            gettext_lazy("Resume"),
            services.appeal_resume,
            ReasonSerializer,
            text_field="reason",
            summary="Resume after waiting",
            description="Deadlines move forward by the paused time.",
        ),
        AppealAction(
            Transition.EXTEND,
            gettext_lazy("Extend the term (formal appeals)"),
            services.appeal_extend,
            RequiredReasonSerializer,
            text_field="reason",
            needs_text=True,
            summary="Extend the term once",
            description="Formal appeals only, with a reason.",
        ),
        AppealAction(
            Transition.REDIRECT,
            gettext_lazy("Redirect to another organization"),
            services.appeal_redirect,
            RedirectSerializer,
            text_field="reason",
            needs_text=True,
            summary="Redirect to the competent organization",
        ),
        AppealAction(
            Transition.REJECT,
            gettext_lazy("Reject"),
            services.appeal_reject,
            RejectSerializer,
            text_field="comment",
            summary="Reject",
            description="Grounds of 59-FZ art. 11, or spam.",
        ),
        AppealAction(
            Transition.CLOSE,
            gettext_lazy("Close"),
            services.appeal_close,
            ReasonSerializer,
            text_field="reason",
            summary="Close an answered appeal",
        ),
        AppealAction(
            Transition.REOPEN,
            gettext_lazy("Reopen"),
            services.appeal_reopen,
            RequiredReasonSerializer,
            text_field="reason",
            needs_text=True,
            summary="Reopen",
            description="`closed`/`answered` → `in_progress`.",
        ),
        AppealAction(
            Transition.CONVERT,
            gettext_lazy("Convert to a formal appeal"),
            services.appeal_convert,
            ReasonSerializer,
            text_field="reason",
            summary="Convert a message to a formal appeal",
        ),
        AppealAction(
            Transition.MARK_DUPLICATE,
            gettext_lazy("Mark as a duplicate"),
            services.appeal_mark_duplicate,
            DuplicateSerializer,
            text_field="reason",
            summary="Mark as a duplicate of another appeal",
            prepare=_original,
        ),
    ]
}
assert set(ACTIONS) == {str(name) for name in TRANSITIONS}, "every transition has exactly one action"


def actions_allowed(appeal: Appeal, actor: Actor) -> list[AppealAction]:
    """The actions to offer on `appeal` to `actor`: none unless they may act on it, then those its status allows
    (a public reply only to those who may answer for the page: `Scope.may_answer_for`)."""
    scope = scope_for(actor)
    if not scope.may_manage(appeal):
        return []
    answers = scope.may_answer_for(appeal)
    return [
        action
        for action in ACTIONS.values()
        if action.allowed_from(appeal.status) and (answers or action.transition != Transition.REPLY)
    ]
