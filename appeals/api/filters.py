import django_filters
from django.db.models import Q, QuerySet

from appeals.models import Appeal, AppealKind, Category, Channel, Priority, SlaState, Status
from publics.api.filters import RegionCodeFilter
from publics.models import Platform


class AppealFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, help_text="Status(es); repeat for several.")
    sla_state = django_filters.MultipleChoiceFilter(choices=SlaState.choices, help_text="SLA state(s) as of now.")
    is_overdue = django_filters.BooleanFilter(help_text="A deadline has passed and its target is unmet.")
    region = RegionCodeFilter(field_name="region_id")
    organization = django_filters.NumberFilter(field_name="organization_id", help_text="Organization id.")
    page_id = django_filters.NumberFilter(field_name="page_id", help_text="Public page id.")
    platform = django_filters.MultipleChoiceFilter(field_name="page__platform", choices=Platform.choices)
    kind = django_filters.ChoiceFilter(choices=AppealKind.choices)
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices)
    category = django_filters.NumberFilter(
        method="filter_category", help_text="Category id; a top-level topic includes its subtopics."
    )
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    assignee = django_filters.NumberFilter(field_name="assignee_id", help_text="User id of the assignee.")
    received_at = django_filters.IsoDateTimeFromToRangeFilter(
        help_text="`received_at_after` / `received_at_before`: ISO 8601 bounds (inclusive)."
    )
    due_at = django_filters.IsoDateTimeFromToRangeFilter(
        help_text="`due_at_after` / `due_at_before`: bounds of the deadline the clock runs for now."
    )
    search = django_filters.CharFilter(
        method="filter_search", help_text="Part of the text or author's name, or the external id."
    )

    class Meta:
        model = Appeal
        fields = ["kind"]

    def filter_category(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(Q(category_id=value) | Q(category__parent_id=value))

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(text__icontains=value) | Q(author_name__icontains=value) | Q(external_id=value))


class CategoryFilter(django_filters.FilterSet):
    parent = django_filters.NumberFilter(field_name="parent_id", help_text="Parent category id.")
    is_top_level = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull", help_text="Top-level only.")

    class Meta:
        model = Category
        fields = ["parent", "is_active"]
