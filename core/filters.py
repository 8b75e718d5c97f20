"""Query filters shared by the apps' list endpoints: strict where django-filter is lenient, bounded where the
database would otherwise fail (a 500 where the client deserves a 400)."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.fields import RangeField
from django_filters.widgets import DateRangeWidget
from rest_framework import serializers
from rest_framework.filters import OrderingFilter

from core.fields import MomentFormField

# The largest id a bigint key holds: a larger one is a 400, not a database error.
MAX_ID = 2**63 - 1


class _RegionCodeField(forms.ModelMultipleChoiceField):
    def clean(self, value):
        # PostgreSQL text cannot hold NUL: such a code is simply unknown, not a database error.
        if any("\x00" in str(item) for item in (value or [])):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": "?"})
        return super().clean(value)


class RegionCodeFilter(django_filters.ModelMultipleChoiceFilter):
    """Regions named by code in the query (`?region=RU-MOW&region=RU-SPE`), filtered by key (no join)."""

    field_class = _RegionCodeField

    def __init__(self, **kwargs):
        from publics.models import Region  # core imports no app at module level (style.md)

        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("distinct", False)  # a filter on a key of the row itself: no duplicates to remove
        kwargs.setdefault("queryset", Region.objects.all())
        kwargs.setdefault("help_text", "Region code(s), e.g. `RU-MOW`; repeat for several.")
        super().__init__(**kwargs)

    def get_filter_predicate(self, v):
        return {self.field_name: v.pk}


class _StrictBooleanField(forms.NullBooleanField):
    widget = forms.TextInput

    def to_python(self, value: object) -> bool | None:  # type: ignore[override]  # None: not given
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
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class _MomentRangeField(RangeField):
    widget = DateRangeWidget

    def __init__(self, *args, **kwargs):
        super().__init__((MomentFormField(), MomentFormField()), *args, **kwargs)


class IsoDateTimeRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    """`<name>_after` / `<name>_before`: moments with their offset (core.fields), inclusive bounds."""

    field_class = _MomentRangeField


class StrictOrderingFilter(OrderingFilter):
    """DRF's `?ordering=` that answers 400 for a field it does not know, instead of silently ignoring it (a
    typo would otherwise return an order the client did not ask for), and lists the allowed values in the
    schema: each field of the view's `ordering_fields`, ascending or with `-` descending, comma-separated."""

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        unknown = [term for term in fields if term not in valid]
        if unknown:
            allowed = ", ".join(self.allowed_values(view) or [])
            raise serializers.ValidationError(
                {
                    self.ordering_param: [
                        _("Unknown ordering: %(unknown)s. Allowed: %(allowed)s.")
                        % {"unknown": ", ".join(unknown) or '""', "allowed": allowed}
                    ]
                }
            )
        return valid

    @staticmethod
    def allowed_values(view) -> list[str] | None:
        fields = getattr(view, "ordering_fields", None)
        if not isinstance(fields, (list, tuple)):
            return None  # "__all__" or derived from the serializer: not known without a request
        return [value for name in fields for value in (name, f"-{name}")]

    def get_schema_operation_parameters(self, view):
        allowed = self.allowed_values(view)
        if allowed is None:
            return super().get_schema_operation_parameters(view)
        listed = ", ".join(f"`{value}`" for value in allowed)
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": f"Sort by these fields, comma-separated; `-` sorts descending. Allowed: {listed}.",
                "schema": {"type": "array", "items": {"type": "string", "enum": allowed}},
                "style": "form",
                "explode": False,
            }
        ]
