import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField, RangeField
from django_filters.widgets import DateRangeWidget
from rest_framework.filters import OrderingFilter

from appeals.models import Appeal, AppealKind, Category, Channel, Priority, SlaPolicy, SlaState, Status
from publics.api.filters import RegionCodeFilter
from publics.models import Platform


class _StrictBooleanField(forms.NullBooleanField):
    widget = forms.TextInput

    def to_python(self, value: object) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise ValidationError(_("Use true or false."), code="invalid")

    def validate(self, value: bool | None) -> None:
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    """`true`/`false` (or 1/0). django-filter's own widgets read anything else as "no filter", so a typo such as
    `?is_overdue=yes` would silently return every appeal; here it is a 400 like any other invalid filter value."""

    field_class = _StrictBooleanField


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number that fits the database's bigint (a longer one would be a 500, not a 400)."""

    field_class = forms.IntegerField

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(**kwargs)


class _StorableIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment that can be stored: 9999-12-31T23:59-12:00 parses, but overflows when turned to UTC."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is not None:
            try:
                moment.astimezone(dt.UTC)
            except OverflowError:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return moment


class _StorableIsoDateTimeRangeField(RangeField):
    widget = DateRangeWidget

    def __init__(self, *args, **kwargs):
        super().__init__((_StorableIsoDateTimeField(), _StorableIsoDateTimeField()), *args, **kwargs)


class IsoDateTimeRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    field_class = _StorableIsoDateTimeRangeField


class NullsLastOrderingFilter(OrderingFilter):
    """Rows without a value (an appeal with no running deadline) sort last in both directions and on every
    database: PostgreSQL puts NULL last when ascending, SQLite first. The id breaks ties, so pages are stable."""

    def filter_queryset(self, request, queryset: QuerySet, view) -> QuerySet:
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        # `priority` sorts by urgency, not by its letters (low < normal < high < urgent).
        aliases = {"priority": "priority_rank"}
        terms = [
            F(aliases.get(name[1:], name[1:])).desc(nulls_last=True)
            if name.startswith("-")
            else F(aliases.get(name, name)).asc(nulls_last=True)
            for name in ordering
        ]
        if not {"id", "-id"} & set(ordering):
            terms.append(F("id").desc() if ordering[0].startswith("-") else F("id").asc())
        return queryset.order_by(*terms)


class AppealFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, help_text="Status(es); repeat for several.")
    sla_state = django_filters.MultipleChoiceFilter(choices=SlaState.choices, help_text="SLA state(s) as of now.")
    is_overdue = StrictBooleanFilter(help_text="A deadline has passed and its target is unmet.")
    region = RegionCodeFilter(field_name="region_id")
    organization = IdFilter(field_name="organization_id", help_text="Organization id.")
    page_id = IdFilter(field_name="page_id", help_text="Public page id.")
    platform = django_filters.MultipleChoiceFilter(field_name="page__platform", choices=Platform.choices)
    kind = django_filters.ChoiceFilter(choices=AppealKind.choices)
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices)
    category = IdFilter(method="filter_category", help_text="Category id; a top-level topic includes its subtopics.")
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    assignee = IdFilter(field_name="assignee_id", help_text="User id of the assignee.")
    received_at = IsoDateTimeRangeFilter(
        help_text="`received_at_after` / `received_at_before`: ISO 8601 bounds (inclusive)."
    )
    due_at = IsoDateTimeRangeFilter(
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
