import datetime as dt
import zoneinfo

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appeals import sla
from appeals.models import (
    Appeal,
    AppealEvent,
    AppealKind,
    CalendarOverride,
    Category,
    Channel,
    Priority,
    RejectReason,
    Reply,
    SlaPolicy,
    SlaState,
    Status,
    Unit,
)
from core.access import author_shown
from core.fields import MomentField
from core.filters import MAX_ID
from publics.api.serializers import RegionCodeField
from publics.models import Organization


class LocalDateTimeField(serializers.DateTimeField):
    """A moment in the organisation's local zone, ISO 8601 with its offset (domain.md section 4)."""

    def to_representation(self, value: dt.datetime | None) -> str | None:
        if value is None:
            return None
        zone = getattr(self.root, "_local_zone", None) or self.context.get("local_zone")
        return value.astimezone(zone).isoformat() if zone else super().to_representation(value)


class AuthorSerializer(serializers.Serializer):
    platform_user_id = serializers.CharField(allow_blank=True, max_length=64, required=False, default="")
    name = serializers.CharField(allow_blank=True, max_length=200, required=False, default="")


def _id(source: str, **kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(source=source, read_only=True, allow_null=True, **kwargs)


class AppealSerializer(serializers.Serializer):
    """An appeal as clients see it. Every field is declared (not derived from the model per instance): this is
    the output of every appeal endpoint, and the intake path in particular must stay cheap."""

    id = serializers.IntegerField(read_only=True)
    page_id = serializers.IntegerField(read_only=True, allow_null=True, help_text="Public page id.")
    platform = serializers.CharField(source="page.platform", read_only=True, default=None, allow_null=True)
    organization = serializers.IntegerField(source="organization_id", read_only=True)
    region = serializers.CharField(source="region.code", read_only=True, help_text="Region code.")
    kind = serializers.ChoiceField(choices=AppealKind.choices, read_only=True)
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True)
    external_id = serializers.CharField(read_only=True, allow_blank=True)
    author = serializers.SerializerMethodField()
    text = serializers.CharField(read_only=True)
    category = _id("category_id", help_text="Category id.")
    priority = serializers.ChoiceField(choices=Priority.choices, read_only=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    assignee = _id("assignee_id", help_text="User id of the assignee.")
    received_at = LocalDateTimeField(read_only=True)
    registered_at = LocalDateTimeField(read_only=True)
    first_responded_at = LocalDateTimeField(read_only=True, allow_null=True)
    resolved_at = LocalDateTimeField(read_only=True, allow_null=True)
    closed_at = LocalDateTimeField(read_only=True, allow_null=True)
    policy = _id("policy_id", help_text="SLA policy (version) applied.")
    policy_version = serializers.IntegerField(source="policy.version", read_only=True, default=None, allow_null=True)
    first_response_due_at = LocalDateTimeField(read_only=True, allow_null=True)
    resolution_due_at = LocalDateTimeField(read_only=True, allow_null=True)
    due_at = LocalDateTimeField(
        read_only=True, allow_null=True, help_text="The deadline the clock runs for now: the earliest unmet one."
    )
    sla_state = serializers.ChoiceField(
        source="current_sla_state", choices=SlaState.choices, read_only=True, help_text="SLA state as of now."
    )
    is_overdue = serializers.BooleanField(read_only=True)
    time_left_seconds = serializers.SerializerMethodField(help_text="Seconds to `due_at`; negative when overdue.")
    paused_at = LocalDateTimeField(read_only=True, allow_null=True)
    paused_seconds = serializers.IntegerField(read_only=True, help_text="Total length of closed pauses.")
    extended_at = LocalDateTimeField(read_only=True, allow_null=True)
    extension_reason = serializers.CharField(read_only=True, allow_blank=True)
    # "" until the appeal is rejected.
    reject_reason = serializers.ChoiceField(choices=RejectReason.choices, allow_blank=True, read_only=True)
    redirected_to = _id("redirected_to_id", help_text="The appeal created at the competent organization.")
    redirected_from = serializers.SerializerMethodField()
    duplicate_of = _id("duplicate_of_id", help_text="The case this appeal repeats.")
    converted_from = _id("converted_from_id", help_text="The message this formal appeal was converted from.")
    converted_to = serializers.SerializerMethodField()
    created_at = LocalDateTimeField(read_only=True)
    updated_at = LocalDateTimeField(read_only=True)

    def to_representation(self, instance: Appeal) -> dict:
        zone = zoneinfo.ZoneInfo(instance.organization.effective_timezone)
        now = self.context.get("now") or timezone.now()
        # The stored state advanced to the request's moment (no query: the columns are on the row).
        facts = sla.current_facts(instance, now=now)
        instance.current_sla_state, instance.is_overdue = facts.sla_state, facts.is_overdue  # type: ignore[attr-defined]
        return self._lean(instance, zone, now)

    def to_representation_by_fields(self, instance: Appeal) -> dict:
        """DRF's generic rendering, field by field, of what `to_representation` writes out directly: the
        reference its tests hold the lean path to (tests/appeals/test_appeal_output.py)."""
        self.root._local_zone = zoneinfo.ZoneInfo(instance.organization.effective_timezone)
        facts = sla.current_facts(instance, now=self.context.get("now") or timezone.now())
        instance.current_sla_state, instance.is_overdue = facts.sla_state, facts.is_overdue  # type: ignore[attr-defined]
        return super().to_representation(instance)

    def _lean(self, appeal: Appeal, zone: zoneinfo.ZoneInfo, now: dt.datetime) -> dict:
        """The declared fields' output, in their order, without DRF's per-field machinery (a deep copy of ~40
        fields per serializer, a lookup and a call per field): every appeal endpoint renders through here, the
        intake in particular. The declared fields stay the schema; a test compares both renderings."""

        def moment(value: dt.datetime | None) -> str | None:
            return None if value is None else value.astimezone(zone).isoformat()

        def number(value) -> int | None:
            return None if value is None else int(value)

        page, policy = appeal.page, appeal.policy
        return {
            "id": number(appeal.id),
            "page_id": number(appeal.page_id),
            "platform": None if page is None or page.platform is None else str(page.platform),
            "organization": number(appeal.organization_id),
            "region": str(appeal.region.code),
            "kind": _choice(appeal.kind),
            "channel": _choice(appeal.channel),
            "external_id": str(appeal.external_id),
            "author": self.get_author(appeal),
            "text": str(appeal.text),
            "category": number(appeal.category_id),
            "priority": _choice(appeal.priority),
            "status": _choice(appeal.status),
            "assignee": number(appeal.assignee_id),
            "received_at": moment(appeal.received_at),
            "registered_at": moment(appeal.registered_at),
            "first_responded_at": moment(appeal.first_responded_at),
            "resolved_at": moment(appeal.resolved_at),
            "closed_at": moment(appeal.closed_at),
            "policy": number(appeal.policy_id),
            "policy_version": None if policy is None else number(policy.version),
            "first_response_due_at": moment(appeal.first_response_due_at),
            "resolution_due_at": moment(appeal.resolution_due_at),
            "due_at": moment(appeal.due_at),
            "sla_state": _choice(appeal.current_sla_state),  # type: ignore[attr-defined]
            "is_overdue": bool(appeal.is_overdue),  # type: ignore[attr-defined]
            "time_left_seconds": self.get_time_left_seconds(appeal, now),
            "paused_at": moment(appeal.paused_at),
            "paused_seconds": int(appeal.paused_seconds),
            "extended_at": moment(appeal.extended_at),
            "extension_reason": str(appeal.extension_reason),
            "reject_reason": _choice(appeal.reject_reason),
            "redirected_to": number(appeal.redirected_to_id),
            "redirected_from": self.get_redirected_from(appeal),
            "duplicate_of": number(appeal.duplicate_of_id),
            "converted_from": number(appeal.converted_from_id),
            "converted_to": self.get_converted_to(appeal),
            "created_at": moment(appeal.created_at),
            "updated_at": moment(appeal.updated_at),
        }

    @extend_schema_field(AuthorSerializer)
    def get_author(self, appeal: Appeal) -> dict:
        # Masking is decided by core.access for the request's user, passed in the context by the view.
        author = author_shown(
            self.context.get("user"), name=appeal.author_name, platform_user_id=appeal.author_platform_id
        )
        return {"platform_user_id": author.platform_user_id, "name": author.name}

    def get_time_left_seconds(self, appeal: Appeal, now: dt.datetime | None = None) -> int | None:
        due = getattr(appeal, "due_at", None)
        if due is None or appeal.status == Status.WAITING:
            return None
        return int((due - (now or self.context.get("now") or timezone.now())).total_seconds())

    def get_redirected_from(self, appeal: Appeal) -> int | None:
        return getattr(appeal, "redirected_from_id", None)

    def get_converted_to(self, appeal: Appeal) -> int | None:
        return getattr(appeal, "converted_to_id", None)


def _choice(value) -> str | None:
    """A choice as DRF's ChoiceField writes it: the stored value as a plain string ("" and None as they are)."""
    return value if value in ("", None) else str(value)


class AppealCreateSerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, help_text="The public page's id.")
    external_id = serializers.CharField(max_length=128, help_text="The platform's id of the event or message.")
    kind = serializers.ChoiceField(choices=AppealKind.choices, default=AppealKind.MESSAGE)
    channel = serializers.ChoiceField(choices=Channel.choices)
    text = serializers.CharField(max_length=20_000)
    author = AuthorSerializer(required=False)
    received_at = MomentField(help_text="When the citizen wrote (ISO 8601 with offset).")
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(is_active=True), required=False, allow_null=True
    )
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)


class TextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20_000)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2_000, required=False, default="", allow_blank=True)


class RequiredReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2_000)


class AssignSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="User id.")


class RedirectSerializer(serializers.Serializer):
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.select_related("region"), help_text="The competent organization's id."
    )
    reason = serializers.CharField(max_length=2_000)


class RejectSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=RejectReason.choices, help_text="Ground under 59-FZ art. 11, or spam.")
    comment = serializers.CharField(max_length=2_000, required=False, default="", allow_blank=True)


class DuplicateSerializer(serializers.Serializer):
    duplicate_of = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="Id of the appeal this one repeats."
    )
    reason = serializers.CharField(max_length=2_000, required=False, default="", allow_blank=True)


class AppealEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    # "" for events that do not change the status (the creation has no `from_status`); see AppealSerializer.
    from_status = serializers.ChoiceField(choices=Status.choices, allow_blank=True, read_only=True)
    to_status = serializers.ChoiceField(choices=Status.choices, allow_blank=True, read_only=True)
    created_at = LocalDateTimeField(read_only=True)

    class Meta:
        model = AppealEvent
        fields = ["id", "action", "actor", "from_status", "to_status", "reason", "data", "created_at"]
        read_only_fields = fields

    def get_actor(self, event: AppealEvent) -> str | None:
        return event.actor.get_username() if event.actor_id else None


class ReplySerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    created_at = LocalDateTimeField(read_only=True)

    class Meta:
        model = Reply
        fields = ["id", "kind", "author", "text", "created_at"]
        read_only_fields = fields

    def get_author(self, reply: Reply) -> str | None:
        return reply.author.get_username() if reply.author_id else None


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "code", "name", "parent", "is_active"]
        read_only_fields = fields


class SlaPolicySerializer(serializers.ModelSerializer):
    """Flat fields, as outside clients expect them (domain.md section 9)."""

    region = RegionCodeField(required=False, allow_null=True)
    warn_at = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=99), required=False, max_length=10
    )
    apply_to_open_appeals = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="On update: move open appeals on older versions to this one and recompute their deadlines.",
    )
    first_response_unit = serializers.ChoiceField(choices=Unit.choices)
    resolution_unit = serializers.ChoiceField(choices=Unit.choices)
    extension_unit = serializers.ChoiceField(choices=Unit.choices, required=False, allow_blank=True)

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "lineage",
            "version",
            "name",
            "is_active",
            "kind",
            "channel",
            "platform",
            "category",
            "priority",
            "organization_kind",
            "region",
            "organization",
            "first_response_amount",
            "first_response_unit",
            "resolution_amount",
            "resolution_unit",
            "extension_amount",
            "extension_unit",
            "warn_at",
            "apply_to_open_appeals",
            "created_at",
        ]
        read_only_fields = ["id", "lineage", "version", "created_at"]


class CalendarOverrideSerializer(serializers.ModelSerializer):
    region = RegionCodeField(required=False, allow_null=True, help_text="Region code; empty for a federal override.")

    class Meta:
        model = CalendarOverride
        fields = ["id", "date", "region", "kind", "hours", "reason", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate(self, attrs: dict) -> dict:
        # What DRF's unique-together validator would say, had the constraint plain fields: it is on
        # (date, Coalesce(region, 0)), so a federal and a regional override of one date may coexist.
        date = attrs.get("date", getattr(self.instance, "date", None))
        region = attrs["region"] if "region" in attrs else getattr(self.instance, "region", None)
        taken = CalendarOverride.objects.filter(date=date, region=region)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError({"date": _("This date already has an override for this region.")})
        return attrs
