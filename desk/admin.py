"""The operators' desk in the admin: appeals are answered here, through the same services as the API.

The actions offered are those of `appeals.actions.ACTIONS` that the appeal's status allows and the user may
take; masking of the author is decided by `core.access.author_shown` for the request's user.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError as InputError

from appeals import selectors, sla
from appeals.actions import ACTIONS, actions_allowed
from appeals.models import Appeal, AppealEvent, Category, RejectReason, Reply, SlaState
from core.access import author_shown, managers_q
from core.admin import ScopedModelAdmin
from core.errors import ApplicationError, message_for
from core.filters import MAX_ID
from core.pagination import CappedCountPaginator
from publics.models import Organization

# The admin form's fields that carry each input of an action (the rest of an action's input is its text).
_FORM_INPUTS = {
    "reason": "reject_reason",
    "organization": "redirect_to",
    "assignee": "assign_to",
    "duplicate_of": "original",
}


class AppealActionForm(forms.ModelForm):
    """No appeal field is edited directly: the operator picks an action, and its service carries it out."""

    action = forms.ChoiceField(label=_("Action"), required=False)
    body = forms.CharField(
        label=_("Text or reason"), widget=forms.Textarea(attrs={"rows": 5, "cols": 80}), required=False
    )
    reject_reason = forms.ChoiceField(
        label=_("Reject reason"), choices=[("", "—"), *RejectReason.choices], required=False
    )
    redirect_to = forms.ModelChoiceField(label=_("Redirect to"), queryset=Organization.objects.none(), required=False)
    # Both lists are narrowed to the appeal in __init__: nobody is shown every user or every organisation.
    assign_to = forms.ModelChoiceField(label=_("Assign to"), queryset=get_user_model().objects.none(), required=False)
    original = forms.IntegerField(label=_("Duplicate of appeal no."), min_value=1, max_value=MAX_ID, required=False)

    class Meta:
        model = Appeal
        fields: list[str] = []

    def __init__(self, *args: Any, offered: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        appeal = self.instance
        if appeal.pk:
            # Assignable: whoever may handle the appeal (core.access). Redirect targets: the organisations of the
            # appeal's region (a redirect elsewhere in the country goes through the API, which takes any id).
            self.fields["assign_to"].queryset = (
                get_user_model().objects.filter(managers_q(appeal.scope_keys())).distinct().order_by("username")
            )
            self.fields["redirect_to"].queryset = (
                Organization.objects.filter(region_id=appeal.region_id)
                .exclude(pk=appeal.organization_id)
                .order_by("name")
            )
        # Offered: what the status allows this user. Accepted: any registered action, so that a stale page
        # (the status changed meanwhile) gets the service's refusal with its reason, not a bare form error.
        self.fields["action"].choices = [("", "—"), *((entry.name, entry.label) for entry in ACTIONS.values())]
        self.fields["action"].widget.choices = [("", "—"), *(offered or [])]

    def clean(self):
        cleaned = super().clean()
        entry = ACTIONS.get(cleaned.get("action") or "")
        if entry is not None and entry.needs_text and not (cleaned.get("body") or "").strip():
            raise ValidationError({"body": _("This action needs a text or a reason.")})
        return cleaned

    def action_input(self) -> dict[str, Any]:
        """The chosen action's raw input, named as its input serializer names it."""
        entry = ACTIONS[self.cleaned_data["action"]]
        data: dict[str, Any] = {}
        if entry.text_field:
            data[entry.text_field] = (self.cleaned_data.get("body") or "").strip()
        for name, form_field in _FORM_INPUTS.items():
            value = self.cleaned_data.get(form_field)
            if entry.input is not None and name in entry.input().fields and name != entry.text_field:
                data[name] = getattr(value, "pk", value)
        return data


class _ReadOnlyInline(admin.TabularInline):
    """Replies and history are written by the services only; the admin shows them."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ReplyInline(_ReadOnlyInline):
    model = Reply
    fields = readonly_fields = ["created_at", "kind", "author", "text"]


class EventInline(_ReadOnlyInline):
    model = AppealEvent
    fields = readonly_fields = ["created_at", "action", "actor", "from_status", "to_status", "reason", "data"]
    ordering = ["created_at", "id"]
    verbose_name_plural = _("history")


class TopicFilter(admin.SimpleListFilter):
    """Top-level topics; choosing one shows its subtopics' appeals too."""

    title = _("topic")
    parameter_name = "topic"

    def lookups(self, request: HttpRequest, model_admin):
        return list(Category.objects.filter(parent__isnull=True).order_by("name").values_list("id", "name"))

    def queryset(self, request: HttpRequest, queryset):
        if self.value():
            return queryset.filter(Q(category_id=self.value()) | Q(category__parent_id=self.value()))
        return queryset


_STATE_COLOURS = {
    SlaState.BREACHED: "#ba2121",
    SlaState.AT_RISK: "#c77700",
    SlaState.ON_TRACK: "#2e7d32",
    SlaState.MET: "#555",
    SlaState.PAUSED: "#555",
}


_ACT = _("Act")


@admin.register(Appeal)
class AppealAdmin(ScopedModelAdmin):
    visible = staticmethod(selectors.appeals_visible_to)
    form = AppealActionForm
    inlines = [ReplyInline, EventInline]
    list_display = [
        "id",
        "received_at",
        "organization",
        "platform",
        "kind",
        "status",
        "sla",
        "due",
        "assignee",
        "excerpt",
    ]
    list_filter = ["status", "kind", "channel", "priority", "page__platform", TopicFilter, "region", "received_at"]
    search_fields = ["text", "author_name", "external_id"]
    ordering = ["-received_at", "-id"]
    # At national scale: counts stop at a cap (no full scan per page), and no date hierarchy (its MIN/MAX and
    # DISTINCT of years read the whole table); the receipt date is a plain filter instead.
    paginator = CappedCountPaginator
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["organization", "page", "kind", "channel", "author", "text", "category", "priority"]}),
        (
            _("Status and deadlines"),
            {
                "fields": [
                    "status",
                    "assignee",
                    "received_at",
                    "first_response_due_at",
                    "resolution_due_at",
                    "sla",
                    "first_responded_at",
                    "resolved_at",
                    "policy",
                    "extended_at",
                    "extension_reason",
                ]
            },
        ),
        (_("Replies and history"), {"fields": ["timeline"]}),
        (_("Links"), {"fields": ["redirected_to", "duplicate_of", "converted_from"], "classes": ["collapse"]}),
        (_ACT, {"fields": ["action", "body", "reject_reason", "redirect_to", "assign_to", "original"]}),
    ]
    # Everything shown is read-only but the "Act" section, whose fields belong to the action form.
    readonly_fields = [name for title, options in fieldsets if title != _ACT for name in options["fields"]]

    def get_queryset(self, request: HttpRequest):
        # The selector's own select_related makes Django ignore list_select_related: join the assignee here.
        return selectors.appeals_visible_to(request.user).select_related("assignee")

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        # The selector's search: author names are searched only for users who may see them.
        if not search_term.strip():
            return queryset, False
        return selectors.appeals_search(queryset, search_term.strip(), user=request.user), False

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        appeal = super().get_object(request, object_id, from_field)
        if appeal is not None:
            # Decided here for this request's user and kept on this request's object, never on the shared
            # ModelAdmin: under a threaded server another user's rights must not leak into this page.
            appeal.author_view = author_shown(
                request.user, name=appeal.author_name, platform_user_id=appeal.author_platform_id
            )
            appeal.offered_actions = [(entry.name, entry.label) for entry in actions_allowed(appeal, request.user)]
        return appeal

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        offered = getattr(obj, "offered_actions", [])

        class OfferedActionForm(form_class):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **form_kwargs: Any) -> None:
                super().__init__(*args, offered=offered, **form_kwargs)

        return OfferedActionForm

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # appeals come from the platforms and integrations

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # history is kept; a wrong appeal is rejected, never deleted

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Whoever sees the appeal opens its page (auditors read it); acting is checked per action below.
        return self.has_view_permission(request, obj)

    @admin.display(description=_("replies and history"))
    def timeline(self, appeal: Appeal) -> str:
        """Replies, notes and history events in one list, oldest first, with readable labels.

        Shown to whoever may open the appeal (the scoped selector found it); Django's inlines would ask the model
        permissions instead, which operators do not hold.
        """
        entries = [
            (reply.created_at, reply.id, reply.get_kind_display(), str(reply.author or "—"), reply.text)
            for reply in selectors.appeal_replies(appeal)
        ]
        for event in selectors.appeal_events(appeal):
            moved = ""
            if event.from_status and event.to_status and event.from_status != event.to_status:
                moved = f"{event.get_from_status_display()} → {event.get_to_status_display()}"
            detail = " · ".join(part for part in (moved, event.reason) if part)
            entries.append((event.created_at, event.id, event.get_action_display(), str(event.actor or "—"), detail))
        if not entries:
            return "—"
        zone = zoneinfo.ZoneInfo(appeal.organization.effective_timezone)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td><b>{}</b></td><td>{}</td><td>{}</td></tr>",
            (
                (moment.astimezone(zone).strftime("%d.%m.%Y %H:%M %z"), label, who, text)
                for moment, _id, label, who, text in sorted(entries, key=lambda entry: (entry[0], entry[1]))
            ),
        )
        return format_html('<table class="otklik-timeline">{}</table>', rows)

    @admin.display(description=_("SLA"), ordering="sla_state")
    def sla(self, appeal: Appeal) -> str:
        state = sla.current_facts(appeal, now=timezone.now()).sla_state
        label = SlaState(state).label
        return format_html('<b style="color:{}">{}</b>', _STATE_COLOURS.get(state, "#555"), label)

    @admin.display(description=_("due at"), ordering="due_at")
    def due(self, appeal: Appeal):
        return getattr(appeal, "due_at", None)

    @admin.display(description=_("platform"), ordering="page__platform")
    def platform(self, appeal: Appeal) -> str:
        return appeal.page.get_platform_display() if appeal.page_id else "—"

    @admin.display(description=_("text"))
    def excerpt(self, appeal: Appeal) -> str:
        return appeal.text if len(appeal.text) <= 80 else appeal.text[:79] + "…"

    @admin.display(description=_("author"))
    def author(self, appeal: Appeal) -> str:
        shown = getattr(appeal, "author_view", None)
        if shown is None:
            return "—"  # not prepared for this request: show nothing rather than guess
        return f"{shown.name} ({shown.platform_user_id})" if shown.platform_user_id else shown.name

    def save_model(self, request: HttpRequest, obj: Appeal, form, change: bool) -> None:
        name = form.cleaned_data.get("action")
        if not name:
            return
        try:
            ACTIONS[name].run(actor=request.user, appeal_id=obj.pk, data=form.action_input())
        except InputError as exc:
            self._refused(request, " ".join(str(item) for item in _flat(exc.detail)))
        except (ValidationError, ApplicationError) as exc:
            self._refused(request, message_for(exc))

    def _refused(self, request: HttpRequest, reason: str) -> None:
        request._otklik_action_refused = True
        self.message_user(request, _("Not done: %(reason)s") % {"reason": reason}, level=messages.ERROR)

    def message_user(self, request: HttpRequest, message, level=messages.INFO, *args, **kwargs) -> None:
        # A refused action must not be followed by Django's "changed successfully".
        if level == messages.SUCCESS and getattr(request, "_otklik_action_refused", False):
            return
        super().message_user(request, message, level, *args, **kwargs)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        pass  # replies and history are written by the services only


def _flat(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [item for value in detail.values() for item in _flat(value)]
    if isinstance(detail, list):
        return [item for value in detail for item in _flat(value)]
    return [str(detail)]
