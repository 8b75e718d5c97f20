"""The queue and the appeal page: appeals are answered here, through the same services as the API.

The queue is ordered by the stored running deadline (`Appeal.due_at`, nearest first, none last) and filtered
through the stored SLA columns, so it is read off the (scope, due_at) indexes whatever the table's size; its
count stops at a cap (core.pagination). The appeal page is read-only as a form: its buttons post one action each
to `desk.views.act`, which runs the action's service.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin as UnfoldModelAdmin
from unfold.views import ChangeList

from appeals import selectors
from appeals.actions import ACTIONS
from appeals.models import Appeal, Channel, Status, Transition
from core.access import Grant, ScopeKeys, managers_q, scope_for
from core.admin import Gender, Grammar, ScopedModelAdmin
from core.errors import ApplicationError
from core.pagination import CappedCountPaginator
from desk import filters, views
from desk.presentation import label, local_time, sla_badge, span, zone_of
from desk.templatetags import desk_queue
from publics.models import Organization, Platform

PLATFORM_MARKS = {"vk": "VK", "ok": "OK", "max": "MAX", "telegram": "TG"}
BULK_LIMIT = 500  # appeals changed by one bulk action at most: each goes through its service


class QueueActionForm(helpers.ActionForm):
    """The bulk actions' inputs; the colleague list is narrowed to the user in `colleagues_form`."""

    assignee = forms.IntegerField(label=_("colleague"), required=False, widget=forms.Select)
    original = forms.IntegerField(
        label=_("original no."), required=False, min_value=1, widget=forms.NumberInput(attrs={"size": 6})
    )


def colleagues_q(grant: Grant) -> Q:
    """Users who may handle appeals somewhere in `grant`: whom a bulk assignment can name. An organisation's
    appeals are also its region's analysts'; the service checks each appeal against the chosen user again."""
    if grant.everything:
        return managers_q(ScopeKeys())
    condition = Q(pk__in=[])
    for region_id in grant.region_ids:
        condition |= managers_q(ScopeKeys(region_id=region_id))
    organizations = Organization.objects.filter(pk__in=sorted(grant.organization_ids)).values_list("pk", "region_id")
    for organization_id, region_id in organizations:
        condition |= managers_q(ScopeKeys(region_id=region_id, organization_id=organization_id))
    for page_id in grant.page_ids:
        condition |= managers_q(ScopeKeys(page_id=page_id))
    return condition


class QueueChangeList(ChangeList):
    """The queue lists from the queue's own selector (the rows' joins only); the appeal page and the actions keep
    the admin's `get_queryset`, joined for everything the page shows."""

    def get_queryset(self, request: HttpRequest, exclude_parameters=None):
        self.root_queryset = selectors.appeals_queue_visible_to(request.user)
        return super().get_queryset(request, exclude_parameters)


@admin.register(Appeal)
class AppealAdmin(ScopedModelAdmin):
    grammar = Grammar(Gender.NEUTER)  # «обращение»
    visible = staticmethod(selectors.appeals_visible_to)
    list_display = ["number", "platform_mark", "page_title", "excerpt", "topic", "status_label", "assignee_name", "sla"]
    list_display_links = ["number", "excerpt"]
    list_filter = [
        filters.StatusFilter,
        filters.SlaStateFilter,
        filters.OverdueFilter,
        filters.MineFilter,
        filters.UnansweredFilter,
        filters.PageFilter,
        filters.PlatformFilter,
        filters.TopicFilter,
        "kind",
    ]
    search_fields = ["text"]  # shows the search box; the search itself is the selector's (get_search_results)
    search_help_text = _("Text of the appeal, its number on the platform or the author's name")
    # Nearest running deadline first, no deadline last (closed appeals have none): the stored column, indexed.
    ordering = [F("due_at").asc(nulls_last=True), "id"]
    list_per_page = 50
    paginator = CappedCountPaginator
    show_full_result_count = False
    actions = ["take_selected", "assign_selected", "close_as_duplicate"]
    action_form = QueueActionForm
    list_fullwidth = True
    change_form_outer_before_template = "desk/appeal_page.html"
    fieldsets = [
        (
            _("Details"),
            {
                "fields": [
                    ("organization", "page"),
                    ("kind", "channel", "priority"),
                    ("category", "assignee"),
                    ("received_local", "first_response_due_local", "resolution_due_local"),
                    ("first_responded_local", "resolved_local"),
                    ("redirected_to", "duplicate_of", "converted_from"),
                    "extension_reason",
                ]
            },
        ),
    ]
    readonly_fields = [name for row in fieldsets[0][1]["fields"] for name in (row if isinstance(row, tuple) else [row])]

    # Rows -------------------------------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest):
        # The selector's own select_related makes Django ignore list_select_related: join the rest here.
        return selectors.appeals_visible_to(request.user).select_related("assignee", "category")

    def get_changelist(self, request: HttpRequest, **kwargs: Any):
        return QueueChangeList

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        # The selector's search: author names are searched only for users who may see them.
        if not search_term.strip():
            return queryset, False
        return selectors.appeals_search(queryset, search_term.strip(), user=request.user), False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None):
        context = {"title": _("Queue of appeals"), "subtitle": None, **(extra_context or {})}
        if self.get_actions(request):
            context["action_form"] = self._action_form(request)
        return super().changelist_view(request, context)

    def _action_form(self, request: HttpRequest) -> QueueActionForm:
        form = QueueActionForm(auto_id=None)
        form.fields["action"].choices = self.get_action_choices(request)
        users = get_user_model().objects.filter(colleagues_q(scope_for(request.user).manage)).distinct()
        form.fields["assignee"].widget.choices = [
            ("", "—"),
            *((user.pk, user.get_full_name() or user.username) for user in users.order_by("username")[:200]),
        ]
        return form

    # Columns ----------------------------------------------------------------------------------------------------

    @admin.display(description=UnfoldModelAdmin.action_checkbox.short_description)  # type: ignore[attr-defined]
    def action_checkbox(self, appeal: Appeal) -> str:
        return desk_queue.row_checkbox(appeal.pk)

    @admin.display(description="№", ordering="id")
    def number(self, appeal: Appeal) -> str:
        return str(appeal.pk)

    @admin.display(description=_("platform"))
    def platform_mark(self, appeal: Appeal) -> str:
        if not appeal.page_id:
            return span("desk-platform", "✉", title=label(Channel, appeal.channel))
        platform = appeal.page.platform
        return span(
            f"desk-platform desk-platform--{platform}",
            PLATFORM_MARKS.get(platform, platform[:3].upper()),
            title=label(Platform, platform),
        )

    @admin.display(description=_("page"))
    def page_title(self, appeal: Appeal) -> str:
        title = appeal.page.title if appeal.page_id else appeal.organization.name
        return span("desk-clip desk-clip--page", title, title=title)

    @admin.display(description=_("text"))
    def excerpt(self, appeal: Appeal) -> str:
        text = " ".join(appeal.text.split())
        short = text if len(text) <= 90 else text[:89] + "…"
        return span("desk-clip desk-clip--text", short, title=text[:300])

    @admin.display(description=_("category"))
    def topic(self, appeal: Appeal) -> str:
        if appeal.category_id is None:
            return "—"
        return span("desk-clip desk-clip--topic", appeal.category.name, title=appeal.category.name)

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, appeal: Appeal) -> str:
        return span(f"desk-status desk-status--{appeal.status}", label(Status, appeal.status))

    @admin.display(description=_("assignee"))
    def assignee_name(self, appeal: Appeal) -> str:
        if appeal.assignee_id is None:
            return "—"
        name = appeal.assignee.get_full_name() or appeal.assignee.username
        return span("desk-clip desk-clip--person", name, title=name)

    @admin.display(description=_("deadline"), ordering=F("due_at").asc(nulls_last=True))
    def sla(self, appeal: Appeal) -> str:
        return sla_badge(appeal, now=timezone.now())

    # The appeal page --------------------------------------------------------------------------------------------

    def get_urls(self):
        act = self.admin_site.admin_view(self.act_view)
        return [path("<int:appeal_id>/act/", act, name="appeals_appeal_act"), *super().get_urls()]

    def act_view(self, request: HttpRequest, appeal_id: int):
        if request.method != "POST":
            return HttpResponseRedirect(views.appeal_url(appeal_id))
        return views.act(request, appeal_id)

    def render_change_form(self, request: HttpRequest, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(views.page_context(request, obj))
            context["title"] = _("Appeal no. %(number)s") % {"number": obj.pk}
            context["subtitle"] = None
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts, object_id: str):
        # Another organisation's appeal is simply not there (the scoped selector does not find it).
        messages.error(request, views.not_found_message(object_id))
        return HttpResponseRedirect(views.queue_url())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # appeals come from the platforms and integrations

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # history is kept; a wrong appeal is rejected, never deleted

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # no field is edited as a form: each change is an action (desk.views.act)

    def get_actions(self, request: HttpRequest):
        # Bulk actions only for those who may handle some appeals: auditors get a read-only queue.
        if scope_for(request.user).manage.is_empty:
            return {}
        return super().get_actions(request)

    # Fields shown in the organisation's local time, with its offset.

    @admin.display(description=_("received at"))
    def received_local(self, appeal: Appeal) -> str:
        return local_time(appeal.received_at, zone_of(appeal))

    @admin.display(description=_("first response due at"))
    def first_response_due_local(self, appeal: Appeal) -> str:
        return local_time(appeal.first_response_due_at, zone_of(appeal))

    @admin.display(description=_("resolution due at"))
    def resolution_due_local(self, appeal: Appeal) -> str:
        return local_time(appeal.resolution_due_at, zone_of(appeal))

    @admin.display(description=_("first responded at"))
    def first_responded_local(self, appeal: Appeal) -> str:
        return local_time(appeal.first_responded_at, zone_of(appeal))

    @admin.display(description=_("resolved at"))
    def resolved_local(self, appeal: Appeal) -> str:
        return local_time(appeal.resolved_at, zone_of(appeal))

    # Bulk actions -----------------------------------------------------------------------------------------------

    @admin.action(description=_("Take into work"))
    def take_selected(self, request: HttpRequest, queryset) -> None:
        self._bulk(request, queryset, Transition.TAKE, {})

    @admin.action(description=_("Assign to the chosen colleague"))
    def assign_selected(self, request: HttpRequest, queryset) -> None:
        assignee = request.POST.get("assignee", "")
        if not assignee.isdigit():
            self.message_user(request, _("Choose the colleague to assign the appeals to."), messages.ERROR)
            return
        self._bulk(request, queryset, Transition.ASSIGN, {"assignee": assignee})

    @admin.action(description=_("Close as duplicates of the appeal no."))
    def close_as_duplicate(self, request: HttpRequest, queryset) -> None:
        original = request.POST.get("original", "")
        if not original.isdigit():
            self.message_user(request, _("Type the number of the original appeal."), messages.ERROR)
            return
        self._bulk(request, queryset.exclude(pk=int(original)), Transition.MARK_DUPLICATE, {"duplicate_of": original})

    def _bulk(self, request: HttpRequest, queryset, transition: str, data: dict[str, Any]) -> None:
        """Each selected appeal (already narrowed to the user's scope by get_queryset) through the action's
        service, which checks the user's rights on it again; refusals are reported one line each."""
        entry = ACTIONS[transition]
        done, refused = 0, []
        for appeal_id in queryset.order_by().values_list("pk", flat=True)[:BULK_LIMIT]:
            try:
                entry.run(actor=request.user, appeal_id=appeal_id, data=data)
            except (ApplicationError, *views.INPUT_ERRORS) as exc:
                refused.append(f"№{appeal_id}: {views.refusal_message(exc)}")
                continue
            done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(done)s: %(count)d appeal.", "%(done)s: %(count)d appeals.", done)
                % {"done": views.BULK_DONE[transition], "count": done},
                messages.SUCCESS,
            )
        for line in refused[:20]:
            self.message_user(request, line, messages.ERROR)
