"""The operators' desk: appeals are answered here, through the same services as the API."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import APIException

from appeals import selectors, services
from appeals.models import Appeal, AppealEvent, CalendarOverride, Category, RejectReason, Reply, SlaPolicy, SlaState
from core.access import scope_for
from core.admin import ScopedModelAdmin
from publics.models import Organization

ACTIONS = [
    ("", "—"),
    ("reply", _("Reply publicly")),
    ("note", _("Add an internal note")),
    ("take", _("Take into work")),
    ("wait", _("Wait for the citizen (pause the clock)")),
    ("resume", _("Resume")),
    ("close", _("Close")),
    ("reopen", _("Reopen")),
    ("reject", _("Reject")),
    ("extend", _("Extend the term (formal appeals)")),
    ("redirect", _("Redirect to another organization")),
    ("convert", _("Convert to a formal appeal")),
]
NEEDS_TEXT = {"reply", "note", "reopen", "extend", "redirect"}


class AppealActionForm(forms.ModelForm):
    """No appeal field is edited directly: the operator picks an action, and a service carries it out."""

    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS, required=False)
    body = forms.CharField(
        label=_("Text or reason"), widget=forms.Textarea(attrs={"rows": 5, "cols": 80}), required=False
    )
    reject_reason = forms.ChoiceField(
        label=_("Reject reason"), choices=[("", "—"), *RejectReason.choices], required=False
    )
    redirect_to = forms.ModelChoiceField(
        label=_("Redirect to"), queryset=Organization.objects.select_related("region"), required=False
    )

    class Meta:
        model = Appeal
        fields: list[str] = []

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if action in NEEDS_TEXT and not (cleaned.get("body") or "").strip():
            raise ValidationError({"body": _("This action needs a text or a reason.")})
        if action == "reject" and not cleaned.get("reject_reason"):
            raise ValidationError({"reject_reason": _("Choose the reason.")})
        if action == "redirect" and not cleaned.get("redirect_to"):
            raise ValidationError({"redirect_to": _("Choose the organization.")})
        return cleaned


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
    list_filter = ["status", "kind", "channel", "priority", "page__platform", TopicFilter, "region"]
    search_fields = ["text", "author_name", "external_id"]
    list_select_related = ["organization", "page", "assignee"]
    ordering = ["-received_at"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "organization",
        "page",
        "kind",
        "channel",
        "author",
        "text",
        "category",
        "priority",
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
        "redirected_to",
        "duplicate_of",
        "converted_from",
    ]
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
        (_("Links"), {"fields": ["redirected_to", "duplicate_of", "converted_from"], "classes": ["collapse"]}),
        (_("Act"), {"fields": ["action", "body", "reject_reason", "redirect_to"]}),
    ]

    def get_queryset(self, request: HttpRequest):
        return selectors.appeals_visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # appeals come from the platforms and integrations

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # history is kept; a wrong appeal is rejected, never deleted

    @admin.display(description=_("SLA"), ordering="sla_state")
    def sla(self, appeal: Appeal) -> str:
        state = getattr(appeal, "sla_state", "")
        label = SlaState(state).label if state else "—"
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
        from appeals.api.serializers import mask_name

        if scope_for(self._request_user).personal_data:
            return f"{appeal.author_name} ({appeal.author_platform_id})"
        return mask_name(appeal.author_name)

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        self._request_user = request.user
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: Appeal, form, change: bool) -> None:
        action = form.cleaned_data.get("action")
        if not action:
            return
        text = (form.cleaned_data.get("body") or "").strip()
        calls = {
            "reply": lambda: services.appeal_reply(actor=request.user, appeal_id=obj.pk, text=text),
            "note": lambda: services.appeal_note(actor=request.user, appeal_id=obj.pk, text=text),
            "take": lambda: services.appeal_take(actor=request.user, appeal_id=obj.pk),
            "wait": lambda: services.appeal_wait(actor=request.user, appeal_id=obj.pk, reason=text),
            "resume": lambda: services.appeal_resume(actor=request.user, appeal_id=obj.pk, reason=text),
            "close": lambda: services.appeal_close(actor=request.user, appeal_id=obj.pk, reason=text),
            "reopen": lambda: services.appeal_reopen(actor=request.user, appeal_id=obj.pk, reason=text),
            "reject": lambda: services.appeal_reject(
                actor=request.user, appeal_id=obj.pk, reason=form.cleaned_data["reject_reason"], comment=text
            ),
            "extend": lambda: services.appeal_extend(actor=request.user, appeal_id=obj.pk, reason=text),
            "redirect": lambda: services.appeal_redirect(
                actor=request.user, appeal_id=obj.pk, organization=form.cleaned_data["redirect_to"], reason=text
            ),
            "convert": lambda: services.appeal_convert(actor=request.user, appeal_id=obj.pk, reason=text),
        }
        try:
            calls[action]()
        except (ValidationError, PermissionDenied, APIException) as exc:
            detail = getattr(exc, "detail", None) or getattr(exc, "messages", None) or str(exc)
            request._otklik_action_refused = True
            self.message_user(request, _("Not done: %(reason)s") % {"reason": detail}, level=messages.ERROR)

    def message_user(self, request: HttpRequest, message, level=messages.INFO, *args, **kwargs) -> None:
        # A refused action must not be followed by Django's "changed successfully".
        if level == messages.SUCCESS and getattr(request, "_otklik_action_refused", False):
            return
        super().message_user(request, message, level, *args, **kwargs)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        pass  # replies and history are written by the services only


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ScopedModelAdmin):
    visible = staticmethod(selectors.sla_policies_visible_to)
    managing_roles = ("federal_admin", "analyst")
    list_display = [
        "name",
        "version",
        "is_active",
        "kind",
        "channel",
        "region",
        "organization",
        "first_response",
        "resolution",
    ]
    list_filter = ["is_active", "kind", "channel", "platform", "region"]
    search_fields = ["name"]
    exclude = ["lineage", "version", "is_current", "created_by"]
    autocomplete_fields = ["organization"]

    @admin.display(description=_("first response"))
    def first_response(self, policy: SlaPolicy) -> str:
        return f"{policy.first_response_amount} {policy.get_first_response_unit_display()}"

    @admin.display(description=_("resolution"))
    def resolution(self, policy: SlaPolicy) -> str:
        return f"{policy.resolution_amount} {policy.get_resolution_unit_display()}"

    def save_model(self, request: HttpRequest, obj: SlaPolicy, form, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if change:
            stored = SlaPolicy.objects.get(pk=obj.pk)
            obj.pk = services.sla_policy_update(actor=request.user, policy=stored, data=data).pk
        else:
            fields = {f.name for f in SlaPolicy._meta.fields}
            created = services.sla_policy_create(
                actor=request.user, data={k: v for k, v in form.cleaned_data.items() if k in fields}
            )
            obj.pk = created.pk


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(ScopedModelAdmin):
    visible = staticmethod(selectors.calendar_overrides_visible_to)
    managing_roles = ("federal_admin", "analyst")
    list_display = ["date", "region", "kind", "hours", "reason"]
    list_filter = ["kind", "region"]
    date_hierarchy = "date"
    exclude = ["created_by"]

    def save_model(self, request: HttpRequest, obj: CalendarOverride, form, change: bool) -> None:
        stored = CalendarOverride.objects.get(pk=obj.pk) if change else CalendarOverride()
        data = {name: form.cleaned_data[name] for name in ("date", "region", "kind", "hours", "reason")}
        services.calendar_override_save(actor=request.user, override=stored, data=data)
        obj.pk = stored.pk

    def delete_model(self, request: HttpRequest, obj: CalendarOverride) -> None:
        services.calendar_override_delete(actor=request.user, override=obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may_manage(request, obj)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "code", "is_active"]
    list_filter = ["parent", "is_active"]
    search_fields = ["name", "code"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def _admin_only(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_staff and scope_for(request.user).is_federal_admin

    has_add_permission = _admin_only
    has_change_permission = _admin_only
    has_delete_permission = _admin_only
