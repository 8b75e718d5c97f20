"""The queue's filters. Each offers only what lies in the user's scope, and filters through the stored SLA columns
(`appeals.sla`), so every one is served by an index and costs one small query at most to draw."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appeals import sla
from appeals.models import OPEN_STATUSES, Category, SlaState, Status
from publics.models import Platform
from publics.selectors import pages_visible_to

# A page list longer than this is not offered as a filter (a federal user searches instead).
MAX_PAGES_LISTED = 60


class _Choices(admin.SimpleListFilter):
    """A filter whose «all» choice is named by the subclass and may not be the default."""

    all_label = _("All")

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": self.all_label,
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class StatusFilter(_Choices):
    """Open appeals by default: the queue is what is still to do."""

    title = _("status")
    parameter_name = "status"
    all_label = _("Open")

    def lookups(self, request: HttpRequest, model_admin):
        return [*Status.choices, ("all", _("All, closed included"))]

    def queryset(self, request: HttpRequest, queryset):
        value = self.value()
        if value is None:
            return queryset.filter(status__in=OPEN_STATUSES)
        if value == "all":
            return queryset
        return queryset.filter(status=value) if value in Status.values else queryset.none()


class SlaStateFilter(admin.SimpleListFilter):
    title = _("SLA state")
    parameter_name = "sla"

    def lookups(self, request: HttpRequest, model_admin):
        return SlaState.choices

    def queryset(self, request: HttpRequest, queryset):
        if self.value() in SlaState.values:
            return queryset.filter(sla.sla_state_q(self.value(), timezone.now()))
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin):
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() == "yes":
            return queryset.filter(sla.overdue_q(timezone.now()))
        if self.value() == "no":
            return queryset.exclude(sla.overdue_q(timezone.now()))
        return queryset


class MineFilter(admin.SimpleListFilter):
    title = _("assignee")
    parameter_name = "mine"

    def lookups(self, request: HttpRequest, model_admin):
        return [("me", _("Mine")), ("nobody", _("Nobody's"))]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() == "me":
            return queryset.filter(assignee=request.user)
        if self.value() == "nobody":
            return queryset.filter(assignee__isnull=True)
        return queryset


class UnansweredFilter(admin.SimpleListFilter):
    title = _("reply")
    parameter_name = "unanswered"

    def lookups(self, request: HttpRequest, model_admin):
        return [("yes", _("Not answered")), ("no", _("Answered"))]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() == "yes":
            return queryset.filter(first_responded_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(first_responded_at__isnull=False)
        return queryset


class PageFilter(admin.SimpleListFilter):
    """The user's own pages only; not offered at all to someone who sees more than a short list."""

    title = _("page")
    parameter_name = "page"

    def lookups(self, request: HttpRequest, model_admin):
        pages = list(
            pages_visible_to(request.user).order_by("title", "id").values_list("id", "title")[: MAX_PAGES_LISTED + 1]
        )
        return [] if len(pages) > MAX_PAGES_LISTED else [(str(pk), title) for pk, title in pages]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(page_id=int(self.value()))
        return queryset


class PlatformFilter(admin.SimpleListFilter):
    """The platforms of the user's pages."""

    title = _("platform")
    parameter_name = "platform"

    def lookups(self, request: HttpRequest, model_admin):
        used = set(pages_visible_to(request.user).order_by().values_list("platform", flat=True).distinct())
        return [(value, label) for value, label in Platform.choices if value in used]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() in Platform.values:
            return queryset.filter(page__platform=self.value())
        return queryset


class TopicFilter(admin.SimpleListFilter):
    """Top-level topics; choosing one shows its subtopics' appeals too."""

    title = _("category")
    parameter_name = "topic"

    def lookups(self, request: HttpRequest, model_admin):
        return list(Category.objects.filter(parent__isnull=True).order_by("name").values_list("id", "name"))

    def queryset(self, request: HttpRequest, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(Q(category_id=self.value()) | Q(category__parent_id=self.value()))
        return queryset
