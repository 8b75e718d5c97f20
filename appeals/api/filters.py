import datetime as dt

import django_filters
from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from appeals import selectors
from appeals.models import Appeal, AppealKind, Category, Channel, Priority, SlaPolicy, SlaState, Status
from core.filters import IdFilter, IsoDateTimeRangeFilter, RegionCodeFilter, StrictBooleanFilter, StrictOrderingFilter
from publics.models import Platform


class NullsLastOrderingFilter(StrictOrderingFilter):
    """Rows without a value (an appeal with no running deadline) sort last in both directions and on every
    database: PostgreSQL puts NULL last when ascending, SQLite first. The id breaks ties, so pages are stable."""

    def filter_queryset(self, request, queryset: QuerySet, view) -> QuerySet:
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        # `priority` sorts by urgency, not by its letters (low < normal < high < urgent).
        aliases = {"priority": "priority_rank"}
        terms = []
        for name in ordering:
            field = aliases.get(name.lstrip("-"), name.lstrip("-"))
            # NULLS LAST only where a NULL can be: on a NOT NULL column it would keep PostgreSQL from reading
            # the order straight off an index (appeal_received_idx serves the default list).
            nulls_last = True if _nullable(queryset, field) else None
            terms.append(
                F(field).desc(nulls_last=nulls_last) if name.startswith("-") else F(field).asc(nulls_last=nulls_last)
            )
        if not {"id", "-id"} & set(ordering):
            terms.append(F("id").desc() if ordering[0].startswith("-") else F("id").asc())
        return queryset.order_by(*terms)


def _nullable(queryset: QuerySet, name: str) -> bool:
    """Whether the model field `name` may be NULL; an annotation (priority_rank) says by its own rule."""
    if name == "priority_rank":
        return False
    try:
        return queryset.model._meta.get_field(name).null
    except FieldDoesNotExist:  # another annotation: may be NULL
        return True


# None of these filters crosses a many-valued relation, so none needs SELECT DISTINCT (django-filter's default for
# multiple choices), which at national scale sorts every matching row on disk.
class AppealFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices, distinct=False, help_text="Status(es); repeat for several."
    )
    sla_state = django_filters.MultipleChoiceFilter(
        choices=SlaState.choices, distinct=False, method="filter_sla_state", help_text="SLA state(s) as of now."
    )
    is_overdue = StrictBooleanFilter(
        method="filter_is_overdue", help_text="A deadline has passed and its target is unmet."
    )
    region = RegionCodeFilter(field_name="region_id")
    organization = IdFilter(field_name="organization_id", help_text="Organization id.")
    page_id = IdFilter(field_name="page_id", help_text="Public page id.")
    platform = django_filters.MultipleChoiceFilter(
        field_name="page__platform", choices=Platform.choices, distinct=False
    )
    kind = django_filters.ChoiceFilter(choices=AppealKind.choices)
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices, distinct=False)
    category = IdFilter(method="filter_category", help_text="Category id; a top-level topic includes its subtopics.")
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False)
    assignee = IdFilter(field_name="assignee_id", help_text="User id of the assignee.")
    received_at = IsoDateTimeRangeFilter(
        help_text="`received_at_after` / `received_at_before`: ISO 8601 bounds (inclusive)."
    )
    due_at = IsoDateTimeRangeFilter(
        help_text="`due_at_after` / `due_at_before`: bounds of the deadline the clock runs for now."
    )
    search = django_filters.CharFilter(
        method="filter_search",
        help_text="Part of the text, the external id, or part of the author's name (only where you see names).",
    )

    class Meta:
        model = Appeal
        fields = ["kind"]

    def filter_category(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(Q(category_id=value) | Q(category__parent_id=value))

    def _now(self) -> dt.datetime:
        # The view's one moment of the request, so the filter and the rows' state agree (AppealViewSet.initial).
        return getattr(self.request, "otklik_now", None) or timezone.now()

    def filter_sla_state(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        return selectors.appeals_in_state(queryset, value, now=self._now()) if value else queryset

    def filter_is_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        return queryset if value is None else selectors.appeals_overdue(queryset, value, now=self._now())

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return selectors.appeals_search(queryset, value, user=getattr(self.request, "user", None))


class CategoryFilter(django_filters.FilterSet):
    parent = IdFilter(field_name="parent_id", help_text="Parent category id.")
    is_top_level = StrictBooleanFilter(field_name="parent", lookup_expr="isnull", help_text="Top-level only.")
    is_active = StrictBooleanFilter()

    class Meta:
        model = Category
        fields = ["parent", "is_active"]


class SlaPolicyFilter(django_filters.FilterSet):
    is_active = StrictBooleanFilter()
    organization = IdFilter(field_name="organization_id", help_text="Organization id.")

    class Meta:
        model = SlaPolicy
        fields = ["kind", "channel", "platform", "is_active", "organization"]
