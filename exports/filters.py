"""The filters of the overdue list, checked once for the API's query, a job's body and the admin page.

A bad value is a 400 in the one error shape (Russian by default); the checked filters are kept as JSON on the
job and in the export log in a canonical form, so an entry says exactly which list it proved.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from appeals.models import AppealKind, Category
from core.fields import MomentField
from core.filters import MAX_ID
from exports.models import ExportFormat
from exports.selectors import OverdueFilters, category_with_children
from publics.models import OrganizationKind, Platform, Region

# How far ahead of our clock `as_of` may be (a client's clock running fast); later is refused.
CLOCK_SKEW = dt.timedelta(minutes=5)

# No appeal is older than the law on official pages; a moment before this is a typing error.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _plausible(value: dt.datetime) -> dt.datetime:
    if value < EARLIEST:
        raise serializers.ValidationError(_("The moment is implausibly early."))
    return value


FILTER_NAMES = (
    "region",
    "organization",
    "organization_kind",
    "page_id",
    "platform",
    "kind",
    "category",
    "received_from",
    "received_to",
    "min_hours_overdue",
    "as_of",
)


class OverdueFiltersSerializer(serializers.Serializer):
    region = serializers.SlugRelatedField(
        slug_field="code", queryset=Region.objects.all(), required=False, help_text="Region code, e.g. `RU-MOW`."
    )
    organization = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    organization_kind = serializers.ChoiceField(choices=OrganizationKind.choices, required=False)
    page_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    platform = serializers.ChoiceField(choices=Platform.choices, required=False)
    kind = serializers.ChoiceField(choices=AppealKind.choices, required=False)
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, help_text="A top-level category includes its subcategories."
    )
    received_from = MomentField(required=False, help_text="Received at or after (ISO 8601 with offset).")
    received_to = MomentField(required=False, help_text="Received before (ISO 8601 with offset).")
    min_hours_overdue = serializers.DecimalField(
        max_digits=9, decimal_places=2, min_value=Decimal(0), required=False, help_text="In calendar hours."
    )
    as_of = MomentField(
        required=False, help_text="The moment the list is reconstructed at (ISO 8601 with offset); default now."
    )

    def validate_as_of(self, value: dt.datetime) -> dt.datetime:
        if value > timezone.now() + CLOCK_SKEW:
            raise serializers.ValidationError(_("The moment must not be in the future."))
        return _plausible(value)

    def validate_received_from(self, value: dt.datetime) -> dt.datetime:
        return _plausible(value)

    def validate_received_to(self, value: dt.datetime) -> dt.datetime:
        return _plausible(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("received_from"), attrs.get("received_to")
        if start is not None and end is not None and start >= end:
            raise serializers.ValidationError({"received_to": [_("Must be later than received_from.")]})
        return attrs

    def to_filters(self, *, as_of: dt.datetime | None = None) -> tuple[OverdueFilters, dict[str, Any]]:
        """The checked filters, and their canonical JSON (with `as_of` always set)."""
        data = self.validated_data
        is_now = as_of is None and data.get("as_of") is None
        moment = as_of or data.get("as_of") or timezone.now().replace(microsecond=0)
        category = data.get("category")
        region = data.get("region")
        filters = OverdueFilters(
            as_of=moment,
            region_id=region.pk if region else None,
            organization_id=data.get("organization"),
            organization_kind=data.get("organization_kind", ""),
            page_id=data.get("page_id"),
            platform=data.get("platform", ""),
            kind=data.get("kind", ""),
            category_ids=category_with_children(category) if category else (),
            received_from=data.get("received_from"),
            received_to=data.get("received_to"),
            min_hours_overdue=data.get("min_hours_overdue"),
            as_of_is_now=is_now,
        )
        canonical: dict[str, Any] = {}
        for name in FILTER_NAMES:
            value = data.get(name)
            if name == "as_of":
                value = moment
            if value is None or value == "":
                continue
            if isinstance(value, Region):
                value = value.code
            elif isinstance(value, Category):
                value = value.pk
            elif isinstance(value, dt.datetime):
                value = value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
            elif isinstance(value, Decimal):
                value = str(value)
            canonical[name] = value
        return filters, canonical


class ExportQuerySerializer(OverdueFiltersSerializer):
    format = serializers.ChoiceField(choices=ExportFormat.choices, required=False, default=ExportFormat.CSV)


def filters_from_json(stored: dict[str, Any], *, as_of: dt.datetime) -> OverdueFilters:
    """A job's stored filters back to `OverdueFilters` (they were checked when the job was made)."""
    serializer = OverdueFiltersSerializer(data={k: v for k, v in stored.items() if k != "as_of"})
    serializer.is_valid(raise_exception=True)
    filters, _canonical = serializer.to_filters(as_of=as_of)
    return filters
