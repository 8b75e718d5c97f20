"""Input (query parameters) and output of the dashboards and ratings API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from appeals.models import AppealKind
from core.filters import MAX_ID
from publics.models import OrganizationKind, Platform, Region
from ratings import selectors

# The longest period a dashboard sums: three years (a leap day included).
MAX_PERIOD_DAYS = 3 * 365 + 1
DEFAULT_PERIOD_DAYS = 30


class _Period(serializers.Serializer):
    """`from` and `to`: local dates of receipt, both included (default: the last 30 days)."""

    vars()["from"] = serializers.DateField(
        required=False, help_text="First local date of receipt (included). Default: 29 days before `to`."
    )
    to = serializers.DateField(required=False, help_text="Last local date of receipt (included). Default: today.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        date_to = attrs.get("to") or timezone.localdate()
        date_from = attrs.get("from") or date_to - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
        if date_to < date_from:
            raise serializers.ValidationError({"to": [_("The period ends before it starts.")]})
        if (date_to - date_from).days + 1 > MAX_PERIOD_DAYS:
            raise serializers.ValidationError({"to": [_("The period may span at most three years.")]})
        attrs["from"], attrs["to"] = date_from, date_to
        return attrs


class DashboardFilterSerializer(_Period):
    region = serializers.ListField(
        child=serializers.CharField(max_length=8), required=False, help_text="Region code(s); repeat for several."
    )
    organization = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    organization_kind = serializers.ChoiceField(choices=OrganizationKind.choices, required=False)
    page_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    platform = serializers.ChoiceField(choices=Platform.choices, required=False)
    kind = serializers.ChoiceField(choices=AppealKind.choices, required=False)
    category = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="A category; a top-level one includes its subcategories."
    )
    format = serializers.ChoiceField(
        choices=["json", "csv"], required=False, help_text="`csv`: the rows as CSV (UTF-8 with BOM)."
    )

    def validate_region(self, codes: list[str]) -> list[int]:
        found = dict(Region.objects.filter(code__in=codes).values_list("code", "pk"))
        unknown = sorted(set(codes) - set(found))
        if unknown:
            raise serializers.ValidationError(_("Unknown region code: %(codes)s.") % {"codes": ", ".join(unknown)})
        return sorted(found.values())

    def filters(self) -> selectors.DashboardFilters:
        data = self.validated_data
        return selectors.DashboardFilters(
            date_from=data["from"],
            date_to=data["to"],
            region_ids=tuple(data.get("region") or ()),
            organization_id=data.get("organization"),
            organization_kind=data.get("organization_kind", ""),
            page_id=data.get("page_id"),
            platform=data.get("platform", ""),
            kind=data.get("kind", ""),
            category_ids=selectors.category_with_children(data["category"]) if data.get("category") else (),
        )


class DashboardQuerySerializer(DashboardFilterSerializer):
    group_by = serializers.ChoiceField(
        choices=selectors.GROUPS, required=False, help_text="Group rows by this; without it, one total row."
    )


class SeriesQuerySerializer(DashboardFilterSerializer):
    interval = serializers.ChoiceField(choices=selectors.INTERVALS, default="day")


class WorstQuerySerializer(DashboardFilterSerializer):
    group_by = serializers.ChoiceField(
        choices=("region", "organization", "page", "platform", "category"), default="organization"
    )
    min_volume = serializers.IntegerField(
        min_value=1, max_value=1_000_000, default=20, help_text="Judged appeals (on time + breached) a group needs."
    )
    limit = serializers.IntegerField(min_value=1, max_value=500, default=10)


class MeasuresSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="Appeals received in the period.")
    answered = serializers.IntegerField(help_text="Of them, answered (a first public reply).")
    answered_on_time = serializers.IntegerField(help_text="First response at or before its deadline.")
    breached = serializers.IntegerField(help_text="First-response deadline passed unanswered, or answered late.")
    compliance = serializers.FloatField(
        allow_null=True, help_text="answered_on_time / (answered_on_time + breached); null when nothing is judged."
    )
    first_response_p50_minutes = serializers.FloatField(allow_null=True)
    first_response_p90_minutes = serializers.FloatField(allow_null=True)
    first_response_p50_working_minutes = serializers.FloatField(allow_null=True)
    first_response_p90_working_minutes = serializers.FloatField(allow_null=True)
    resolution_on_time = serializers.IntegerField()
    resolution_breached = serializers.IntegerField()
    resolution_compliance = serializers.FloatField(allow_null=True)
    resolution_p50_minutes = serializers.FloatField(allow_null=True)
    resolution_p90_minutes = serializers.FloatField(allow_null=True)
    resolution_p50_working_minutes = serializers.FloatField(allow_null=True)
    resolution_p90_working_minutes = serializers.FloatField(allow_null=True)
    open = serializers.IntegerField(help_text="Of the appeals received in the period, open now.")
    overdue = serializers.IntegerField(help_text="Of them, overdue now.")


class DashboardRowSerializer(MeasuresSerializer):
    key = serializers.JSONField(
        allow_null=True, help_text="Region code, organisation/page/category id, platform, or the period's first day."
    )
    name = serializers.CharField()

    def get_fields(self):
        fields = super().get_fields()
        return {"key": fields.pop("key"), "name": fields.pop("name"), **fields}


class SeriesRowSerializer(MeasuresSerializer):
    period = serializers.DateField(help_text="First day of the day, ISO week or month.")

    def get_fields(self):
        fields = super().get_fields()
        return {"period": fields.pop("period"), **fields}


class _Meta(serializers.Serializer):
    vars()["from"] = serializers.DateField()
    to = serializers.DateField()
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="Every change recorded before this moment is included in the figures."
    )


class DashboardSerializer(_Meta):
    group_by = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DashboardRowSerializer(many=True)


class SeriesSerializer(_Meta):
    interval = serializers.CharField()
    results = SeriesRowSerializer(many=True)


class WorstSerializer(_Meta):
    group_by = serializers.CharField()
    min_volume = serializers.IntegerField()
    results = DashboardRowSerializer(many=True)
