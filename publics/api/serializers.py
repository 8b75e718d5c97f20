import datetime as dt
import re

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from core.validators import validate_ogrn
from publics.models import AudienceSnapshot, Membership, Organization, Page, Region
from publics.selectors import organizations_visible_to

_BIGINT_MAX = 2**63 - 1  # the columns' limits: a larger number is a 400, not a database error
_INT_MAX = 2**31 - 1
OFFICE_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "okato", "name", "name_en", "federal_district", "timezone", "population", "population_year"]


class RegionCodeField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", Region.objects.all())
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value="?")  # PostgreSQL text cannot hold NUL
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", "example": "09:00"})
class OfficeTimeField(serializers.TimeField):
    """A local wall-clock time of day, HH:MM[:SS], with no offset: office hours follow the organisation's zone."""

    def to_internal_value(self, value):
        if not isinstance(value, str) or not OFFICE_TIME.match(value):
            self.fail("invalid", format="HH:MM[:SS]")
        return super().to_internal_value(value)


class ScopedOrganizationField(serializers.PrimaryKeyRelatedField):
    """An organization id, looked up only among those the caller may see (others are 'not found')."""

    def get_queryset(self):
        request = self.context.get("request")
        return organizations_visible_to(request.user if request else None)


class OrganizationSerializer(serializers.ModelSerializer):
    region = RegionCodeField(read_only=True, help_text="Region code.")
    office_opens_at = OfficeTimeField(read_only=True)
    office_closes_at = OfficeTimeField(read_only=True)
    effective_timezone = serializers.CharField(read_only=True, help_text="Own time zone, else the region's.")

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "short_name",
            "kind",
            "region",
            "parent",
            "ogrn",
            "inn",
            "timezone",
            "effective_timezone",
            "office_opens_at",
            "office_closes_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OrganizationInputSerializer(serializers.ModelSerializer):
    region = RegionCodeField(help_text="Region code, e.g. `RU-MOW`.")
    office_opens_at = OfficeTimeField(required=False, help_text="Local time, 09:00 by default.")
    office_closes_at = OfficeTimeField(required=False, help_text="Local time, 18:00 by default.")
    parent = ScopedOrganizationField(required=False, allow_null=True, help_text="Parent organization id.")
    ogrn = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=15,
        validators=[validate_ogrn, UniqueValidator(queryset=Organization.objects.all())],
    )

    class Meta:
        model = Organization
        fields = list(Organization.EDITABLE_FIELDS)

    def validate_ogrn(self, value: str | None) -> str | None:
        return value or None  # an empty OGRN is "unknown", which must not collide with other unknowns


class PageSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="organization.region.code", read_only=True, help_text="Region code.")
    url = serializers.CharField(read_only=True, help_text="The page's address; empty when not known.")
    has_webhook_secret = serializers.SerializerMethodField()
    has_confirmation_code = serializers.SerializerMethodField()
    has_access_token = serializers.SerializerMethodField()

    class Meta:
        model = Page
        fields = [
            "id",
            "organization",
            "region",
            "platform",
            "platform_id",
            "url",
            "title",
            "verified",
            "category",
            "is_primary",
            "is_active",
            "has_webhook_secret",
            "has_confirmation_code",
            "has_access_token",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    # Secrets are never returned; clients only learn whether one is set.
    def get_has_webhook_secret(self, page: Page) -> bool:
        return bool(page.webhook_secret)

    def get_has_confirmation_code(self, page: Page) -> bool:
        return bool(page.confirmation_code)

    def get_has_access_token(self, page: Page) -> bool:
        return bool(page.access_token)


class PageInputSerializer(serializers.ModelSerializer):
    organization = ScopedOrganizationField(help_text="Organization id.")

    class Meta:
        model = Page
        fields = [*Page.EDITABLE_FIELDS, *Page.SECRET_FIELDS]
        extra_kwargs = {name: {"write_only": True} for name in Page.SECRET_FIELDS}


class AudienceSnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = AudienceSnapshot
        fields = ["date", "subscribers", "views", "posts"]


class AudienceQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


class AudienceRowSerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=_BIGINT_MAX, help_text="Page id.")
    date = serializers.DateField()
    subscribers = serializers.IntegerField(min_value=0, max_value=_BIGINT_MAX)
    views = serializers.IntegerField(min_value=0, max_value=_BIGINT_MAX, required=False, allow_null=True)
    posts = serializers.IntegerField(min_value=0, max_value=_INT_MAX, required=False, allow_null=True)


class AudienceBulkSerializer(serializers.Serializer):
    """Documents the bulk body; the view validates rows with `parse_audience_rows` (fast path, same rules)."""

    snapshots = AudienceRowSerializer(many=True, max_length=settings.AUDIENCE_BULK_MAX, min_length=1)


class AudienceBulkResultSerializer(serializers.Serializer):
    upserted = serializers.IntegerField(help_text="Rows inserted or updated.")


class MembershipSerializer(serializers.ModelSerializer):
    region = RegionCodeField(read_only=True, allow_null=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True, default=None, allow_null=True)
    page_title = serializers.CharField(source="page.title", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Membership
        fields = ["role", "region", "organization", "organization_name", "page", "page_title", "can_view_personal_data"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    sees_everything = serializers.BooleanField()
    can_view_personal_data = serializers.BooleanField()
    memberships = MembershipSerializer(many=True)


_MISSING = object()
_INT_FIELDS = (  # name, minimum, maximum (the column's), nullable, required
    ("page", 1, _BIGINT_MAX, False, True),
    ("subscribers", 0, _BIGINT_MAX, False, True),
    ("views", 0, _BIGINT_MAX, True, False),
    ("posts", 0, _INT_MAX, True, False),
)


def _parse_int(value, *, minimum: int, maximum: int, nullable: bool) -> int | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(_("A whole number is required."))
    if value < minimum:
        raise ValueError(_("Must be at least %(minimum)s.") % {"minimum": minimum})
    if value > maximum:
        raise ValueError(_("Must be at most %(maximum)s.") % {"maximum": maximum})
    return value


def parse_audience_rows(payload) -> tuple[list[dict], dict[str, list[str]]]:
    """Validate a bulk body by hand: a DRF serializer per row costs more than the database write.

    The rules are those of `AudienceBulkSerializer`; errors come back keyed `snapshots.<index>.<field>`.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("snapshots"), list):
        return [], {"snapshots": [_("A list of snapshots is required.")]}
    items = payload["snapshots"]
    if not items:
        return [], {"snapshots": [_("At least one snapshot is required.")]}
    if len(items) > settings.AUDIENCE_BULK_MAX:
        return [], {"snapshots": [_("At most %(max)s snapshots per request.") % {"max": settings.AUDIENCE_BULK_MAX}]}
    rows: list[dict] = []
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors[f"snapshots.{index}"] = [_("An object is required.")]
            continue
        row: dict = {}
        row_errors: dict[str, list[str]] = {}
        for name, minimum, maximum, nullable, required in _INT_FIELDS:
            value = item.get(name, _MISSING)
            if value is _MISSING:
                if required:
                    row_errors[name] = [_("This field is required.")]
                continue
            try:
                row[name] = _parse_int(value, minimum=minimum, maximum=maximum, nullable=nullable)
            except ValueError as exc:
                row_errors[name] = [str(exc)]
        raw_date = item.get("date")
        try:
            if not isinstance(raw_date, str) or len(raw_date) != 10:
                raise ValueError(raw_date)
            row["date"] = dt.date.fromisoformat(raw_date)
        except ValueError:
            row_errors["date"] = [_("A date in the form YYYY-MM-DD is required.")]
        if row_errors:
            errors.update({f"snapshots.{index}.{name}": messages for name, messages in row_errors.items()})
            continue
        row["page_id"] = row.pop("page")
        rows.append(row)
    return rows, errors
