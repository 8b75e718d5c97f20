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
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="A category; a top-level one includes its subcategories.",
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


class ReachQuerySerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Platform.choices)
    date = serializers.DateField(required=False, help_text="As of this date (default: today).")
    page_set = serializers.ChoiceField(
        choices=selectors.PAGE_SETS,
        default="regional_government",
        help_text=(
            "`regional_government`: each regional government's primary page on the platform (its oldest active "
            "one where none is marked primary); `governor`: the same for governors; `all`: every active page."
        ),
    )
    weight_subscribers = serializers.FloatField(min_value=0, max_value=1000, default=0.4)
    weight_penetration = serializers.FloatField(min_value=0, max_value=1000, default=0.4)
    weight_growth = serializers.FloatField(min_value=0, max_value=1000, default=0.2)
    format = serializers.ChoiceField(choices=["json", "csv"], required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["weight_subscribers"] + attrs["weight_penetration"] + attrs["weight_growth"] <= 0:
            raise serializers.ValidationError({"weight_subscribers": [_("At least one weight must be positive.")]})
        attrs["date"] = attrs.get("date") or timezone.localdate()
        return attrs

    def reach_query(self) -> selectors.ReachQuery:
        data = self.validated_data
        return selectors.ReachQuery(
            platform=data["platform"],
            date=data["date"],
            page_set=data["page_set"],
            weights=selectors.ranking.Weights(
                subscribers=data["weight_subscribers"],
                penetration=data["weight_penetration"],
                growth=data["weight_growth"],
            ),
        )

    def parameters(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        data.pop("format", None)
        data["date"] = data["date"].isoformat()
        return data


class ReachRowSerializer(serializers.Serializer):
    region = serializers.CharField(help_text="Region code.")
    name = serializers.CharField()
    pages = serializers.IntegerField(help_text="Pages of the set with a snapshot on or before the date.")
    subscribers = serializers.IntegerField(allow_null=True)
    population = serializers.IntegerField(allow_null=True)
    population_known = serializers.BooleanField(help_text="False: no penetration (and no composite) for the region.")
    penetration = serializers.FloatField(allow_null=True, help_text="subscribers / population, a fraction.")
    growth_7d = serializers.IntegerField(allow_null=True, help_text="Change of subscribers over 7 days.")
    growth_30d = serializers.IntegerField(allow_null=True, help_text="Change of subscribers over 30 days.")
    rank_subscribers = serializers.IntegerField(allow_null=True)
    rank_penetration = serializers.IntegerField(allow_null=True)
    composite = serializers.FloatField(allow_null=True)
    rank_composite = serializers.IntegerField(allow_null=True)


class ReachSerializer(serializers.Serializer):
    platform = serializers.CharField()
    date = serializers.DateField()
    page_set = serializers.CharField()
    weights = serializers.DictField(child=serializers.FloatField())
    results = ReachRowSerializer(many=True)


class ResponsivenessQuerySerializer(DashboardFilterSerializer):
    by = serializers.ChoiceField(choices=selectors.RESPONSIVENESS_GROUPS, default="region")
    min_volume = serializers.IntegerField(
        min_value=1, max_value=1_000_000, default=20, help_text="Judged appeals a body needs to be ranked."
    )

    def parameters(self) -> dict[str, Any]:
        """The query as given (region codes, not ids), to store with a snapshot and to recompute it from."""
        raw = self.initial_data
        data = {
            name: raw.get(name)
            for name in ("organization", "organization_kind", "page_id", "platform", "kind", "category")
            if raw.get(name) not in (None, "")
        }
        regions = raw.getlist("region") if hasattr(raw, "getlist") else raw.get("region")
        if regions:
            data["region"] = list(regions) if isinstance(regions, list | tuple) else [regions]
        data.update(
            {
                "from": self.validated_data["from"].isoformat(),
                "to": self.validated_data["to"].isoformat(),
                "by": self.validated_data["by"],
                "min_volume": self.validated_data["min_volume"],
            }
        )
        return data


class ResponsivenessRowSerializer(serializers.Serializer):
    key = serializers.JSONField(help_text="Region code or organisation id.")
    name = serializers.CharField()
    received = serializers.IntegerField()
    volume = serializers.IntegerField(help_text="Judged appeals: first response on time or breached.")
    compliance = serializers.FloatField(allow_null=True)
    first_response_p50_minutes = serializers.FloatField(allow_null=True)
    ranked = serializers.BooleanField(help_text="False below the minimum volume: listed, not ranked.")
    rank_compliance = serializers.IntegerField(allow_null=True)
    rank_first_response = serializers.IntegerField(allow_null=True)


class ResponsivenessSerializer(_Meta):
    by = serializers.CharField()
    min_volume = serializers.IntegerField()
    results = ResponsivenessRowSerializer(many=True)


class SnapshotSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField()
    parameters = serializers.DictField()
    as_of = serializers.DateField()
    created_by = serializers.CharField(allow_null=True, source="created_by.username", default=None)
    created_at = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)
    rows = serializers.ListField(child=serializers.DictField())


class SnapshotListSerializer(SnapshotSerializer):
    rows = None  # type: ignore[assignment]  # the list omits the rows; the detail has them


class SnapshotCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["reach", "responsiveness"])
    parameters = serializers.DictField(
        help_text="The query parameters of the rating (those of /ratings/reach/ or /ratings/responsiveness/)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        query_class = ReachQuerySerializer if attrs["kind"] == "reach" else ResponsivenessQuerySerializer
        query = query_class(data=attrs["parameters"])
        if not query.is_valid():
            raise serializers.ValidationError({"parameters": query.errors})
        attrs["query"] = query
        return attrs


class OpenDataEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    as_of = serializers.DateField()
    parameters = serializers.DictField()
    published_at = serializers.DateTimeField()
    json_url = serializers.URLField()
    csv_url = serializers.URLField()
