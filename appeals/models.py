"""Appeals and their SLA: the case, its append-only history, replies, categories, policies, calendar overrides."""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from core.access import ScopeKeys
from publics.models import Organization, OrganizationKind, Page, Platform, Region


class AppealKind(models.TextChoices):
    MESSAGE = "message", _("message")
    APPEAL = "appeal", _("formal appeal (59-FZ)")


class Channel(models.TextChoices):
    COMMENT = "comment", _("comment")
    DIRECT_MESSAGE = "direct_message", _("direct message")
    WALL_POST = "wall_post", _("wall post")
    MENTION = "mention", _("mention")
    API = "api", _("API")


class Priority(models.TextChoices):
    LOW = "low", _("low")
    NORMAL = "normal", _("normal")
    HIGH = "high", _("high")
    URGENT = "urgent", _("urgent")


class Status(models.TextChoices):
    NEW = "new", _("new")
    IN_PROGRESS = "in_progress", _("in progress")
    WAITING = "waiting", _("waiting for the citizen")
    ANSWERED = "answered", _("answered")
    CLOSED = "closed", _("closed")
    REJECTED = "rejected", _("rejected")
    REDIRECTED = "redirected", _("redirected")


# Statuses in which a deadline still runs (or is paused): the sweep and the partial index look only at these.
OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.WAITING, Status.ANSWERED)
FINAL_STATUSES = (Status.CLOSED, Status.REJECTED, Status.REDIRECTED)
# Open statuses whose clock runs (`waiting` pauses it).
RUNNING_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.ANSWERED)


class Transition(models.TextChoices):
    """What can be done to an appeal. Each is a row of TRANSITIONS and an entry of appeals.actions' registry."""

    TAKE = "take", _("take into work")
    ASSIGN = "assign", _("assign")
    REPLY = "reply", _("reply publicly")
    NOTE = "note", _("add an internal note")
    WAIT = "wait", _("wait for the citizen")
    RESUME = "resume", _("resume")
    EXTEND = "extend", _("extend the term")
    REDIRECT = "redirect", _("redirect")
    REJECT = "reject", _("reject")
    CLOSE = "close", _("close")
    REOPEN = "reopen", _("reopen")
    CONVERT = "convert", _("convert to a formal appeal")
    MARK_DUPLICATE = "mark_duplicate", _("mark as a duplicate")


def _to(statuses, target: str) -> dict[str, str]:
    return dict.fromkeys(statuses, target)


def _same(statuses) -> dict[str, str]:
    return {status: status for status in statuses}


# The lifecycle of domain.md section 6 as one table: for each transition, the statuses it may start from and the
# status each leads to. A status missing from a row refuses the transition (409). Services, the API's actions and
# the desk's buttons all read it; tests/appeals/test_lifecycle.py holds the services to it.
TRANSITIONS: dict[str, dict[str, str]] = {
    Transition.TAKE: {Status.NEW: Status.IN_PROGRESS},
    Transition.ASSIGN: {**_same(OPEN_STATUSES), Status.NEW: Status.IN_PROGRESS},
    Transition.REPLY: _to(OPEN_STATUSES, Status.ANSWERED),
    Transition.NOTE: _same(Status.values),
    Transition.WAIT: _to(RUNNING_STATUSES, Status.WAITING),
    Transition.RESUME: {Status.WAITING: Status.IN_PROGRESS},
    Transition.EXTEND: _same(OPEN_STATUSES),
    Transition.REDIRECT: _to((Status.NEW, Status.IN_PROGRESS, Status.WAITING), Status.REDIRECTED),
    Transition.REJECT: _to(OPEN_STATUSES, Status.REJECTED),
    Transition.CLOSE: {Status.ANSWERED: Status.CLOSED},
    Transition.REOPEN: _to((Status.CLOSED, Status.ANSWERED), Status.IN_PROGRESS),
    Transition.CONVERT: _to(OPEN_STATUSES, Status.CLOSED),
    Transition.MARK_DUPLICATE: _to(OPEN_STATUSES, Status.CLOSED),
}


def transitions_allowed_from(status: str) -> list[str]:
    """The transitions an appeal in `status` allows, in the table's order."""
    return [name for name, moves in TRANSITIONS.items() if status in moves]


class SlaState(models.TextChoices):
    ON_TRACK = "on_track", _("on track")
    AT_RISK = "at_risk", _("at risk")
    BREACHED = "breached", _("breached")
    MET = "met", _("met")
    PAUSED = "paused", _("paused")


class Unit(models.TextChoices):
    CALENDAR_HOURS = "calendar_hours", _("calendar hours")
    WORKING_HOURS = "working_hours", _("working hours")
    CALENDAR_DAYS = "calendar_days", _("calendar days")
    WORKING_DAYS = "working_days", _("working days")


class RejectReason(models.TextChoices):
    """Grounds to leave an appeal without an answer on the merits (59-FZ art. 11), plus spam."""

    OBSCENE_OR_THREATENING = "obscene_or_threatening", _("obscene or threatening language")
    UNREADABLE = "unreadable", _("the text cannot be read")
    REPEATED_NO_NEW_ARGUMENTS = "repeated_no_new_arguments", _("already answered several times, no new arguments")
    NO_QUESTION = "no_question", _("contains no question or proposal")
    NO_SENDER = "no_sender", _("no name or address to answer to")
    SPAM = "spam", _("spam or advertising")


class Category(models.Model):
    """A topic in a two-level tree (roads → potholes), as on Gosuslugi's feedback platform."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent category")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["parent_id", "name"]

    def __str__(self) -> str:
        return f"{self.parent} / {self.name}" if self.parent_id else self.name

    def clean(self) -> None:
        if self.parent_id and (self.parent.parent_id is not None or self.parent_id == self.pk):
            raise ValidationError({"parent": _("Categories have two levels: the parent must be a top-level topic.")})


MAX_AMOUNT = 1000


class SlaPolicy(models.Model):
    """Targets for first response and resolution, chosen by filters (empty filter = any).

    Versioned: editing a policy stores a new row with the same `lineage` and `version + 1` and marks the old
    one not current. Appeals keep the version they started with (`Appeal.policy`) unless the editor applies
    the change to open appeals.
    """

    lineage = models.PositiveBigIntegerField(_("lineage"), db_index=True, help_text=_("Shared by all versions"))
    version = models.PositiveIntegerField(_("version"), default=1)
    is_current = models.BooleanField(_("current version"), default=True)
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    # Filters.
    kind = models.CharField(_("kind"), max_length=16, choices=AppealKind.choices, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices, blank=True)
    category = models.ForeignKey(
        Category, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("category")
    )
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, blank=True)
    organization_kind = models.CharField(
        _("organization kind"), max_length=32, choices=OrganizationKind.choices, blank=True
    )
    region = models.ForeignKey(
        Region, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("region")
    )
    organization = models.ForeignKey(
        Organization, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("organization")
    )
    # Targets.
    # Bounded so that every deadline stays a real date: a year of hours or three years of days is plenty.
    first_response_amount = models.PositiveIntegerField(
        _("first response: amount"), validators=[MinValueValidator(1), MaxValueValidator(MAX_AMOUNT)]
    )
    first_response_unit = models.CharField(_("first response: unit"), max_length=16, choices=Unit.choices)
    resolution_amount = models.PositiveIntegerField(
        _("resolution: amount"), validators=[MinValueValidator(1), MaxValueValidator(MAX_AMOUNT)]
    )
    resolution_unit = models.CharField(_("resolution: unit"), max_length=16, choices=Unit.choices)
    extension_amount = models.PositiveIntegerField(
        _("extension: amount"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(MAX_AMOUNT)]
    )
    extension_unit = models.CharField(_("extension: unit"), max_length=16, choices=Unit.choices, blank=True)
    warn_at = models.JSONField(_("warning thresholds, %"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("author")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    FILTER_FIELDS = (
        "organization",
        "region",
        "category",
        "organization_kind",
        "platform",
        "channel",
        "kind",
        "priority",
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["lineage", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["lineage", "version"], name="sla_policy_unique_version"),
            models.UniqueConstraint(
                fields=["lineage"], condition=Q(is_current=True), name="sla_policy_one_current_version"
            ),
            models.CheckConstraint(
                condition=(Q(extension_amount__isnull=True) & Q(extension_unit=""))
                | (Q(extension_amount__gt=0) & ~Q(extension_unit="")),
                name="sla_policy_extension_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    @property
    def warn_thresholds(self) -> list[int]:
        return sorted(self.warn_at) if self.warn_at else [50, 80]

    def clean(self) -> None:
        thresholds = self.warn_at or []
        if not isinstance(thresholds, list) or not all(
            isinstance(value, int) and not isinstance(value, bool) and 0 < value < 100 for value in thresholds
        ):
            raise ValidationError({"warn_at": _("Warning thresholds are whole percents between 1 and 99.")})
        if len(set(thresholds)) != len(thresholds):
            raise ValidationError({"warn_at": _("Warning thresholds must not repeat.")})
        if (self.extension_amount is None) != (not self.extension_unit):
            raise ValidationError({"extension_unit": _("Give both the extension amount and its unit, or neither.")})


class Appeal(models.Model):
    page = models.ForeignKey(
        Page, models.PROTECT, null=True, blank=True, related_name="appeals", verbose_name=_("page")
    )
    # Kept on the row so that scoping (by organisation or region) needs no join on millions of rows.
    organization = models.ForeignKey(
        Organization, models.PROTECT, related_name="appeals", verbose_name=_("organization")
    )
    region = models.ForeignKey(Region, models.PROTECT, related_name="appeals", verbose_name=_("region"))
    kind = models.CharField(_("kind"), max_length=16, choices=AppealKind.choices, default=AppealKind.MESSAGE)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    external_id = models.CharField(_("external id"), max_length=128, blank=True)
    author_platform_id = models.CharField(_("author's platform id"), max_length=64, blank=True)
    author_name = models.CharField(_("author's name"), max_length=200, blank=True)
    text = models.TextField(_("text"))
    category = models.ForeignKey(
        Category, models.PROTECT, null=True, blank=True, related_name="appeals", verbose_name=_("category")
    )
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_appeals",
        verbose_name=_("assignee"),
    )
    received_at = models.DateTimeField(_("received at"))
    registered_at = models.DateTimeField(_("registered at"))
    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # SLA: the policy version applied, the deadlines, and what the clock needs to recompute them.
    policy = models.ForeignKey(
        SlaPolicy, models.PROTECT, null=True, blank=True, related_name="appeals", verbose_name=_("SLA policy")
    )
    resolution_started_at = models.DateTimeField(_("resolution clock started at"))
    first_response_due_at = models.DateTimeField(_("first response due at"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    pauses = models.JSONField(_("pauses"), default=list, blank=True, help_text=_("Closed pauses: [[from, to], ...]"))
    extended_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    extension_reason = models.TextField(_("extension reason"), blank=True)
    reject_reason = models.CharField(_("reject reason"), max_length=32, choices=RejectReason.choices, blank=True)
    # What the sweep has already announced, and when it must look at the appeal next.
    sla_warned_percent = models.PositiveSmallIntegerField(_("last warning threshold sent, %"), default=0)
    sla_warn_from = models.DateTimeField(_("at risk from"), null=True, blank=True)
    first_response_breached = models.BooleanField(_("first response breached"), default=False)
    resolution_breached = models.BooleanField(_("resolution breached"), default=False)
    sla_next_check_at = models.DateTimeField(_("next SLA check at"), null=True, blank=True)
    # The SLA state and the running deadline (the earliest unmet one) as of the last write of the clock, kept by
    # appeals.sla.refresh_tracking: lists filter, order and count by them through indexes (appeals.sla explains
    # how they are advanced to "now" exactly).
    sla_state = models.CharField(_("SLA state"), max_length=16, choices=SlaState.choices, default=SlaState.ON_TRACK)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    # The text as a Russian full-text document: a trigger keeps it on PostgreSQL (migration 0012); NULL on SQLite.
    search_vector = SearchVectorField(_("search vector"), null=True, editable=False)
    # Links between cases.
    redirected_to = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="redirected_from", verbose_name=_("redirected to")
    )
    duplicate_of = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="duplicates", verbose_name=_("duplicate of")
    )
    converted_from = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="converted_to", verbose_name=_("converted from")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-received_at", "-id"]
        constraints = [
            # The same platform event delivered twice is one appeal (domain.md section 6).
            models.UniqueConstraint(
                fields=["page", "external_id"], condition=~Q(external_id=""), name="appeal_unique_page_external_id"
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="appeal_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=AppealKind.values), name="appeal_kind_valid"),
            models.CheckConstraint(
                condition=~Q(status=Status.WAITING) | Q(paused_at__isnull=False), name="appeal_waiting_is_paused"
            ),
            models.CheckConstraint(condition=~Q(duplicate_of=F("id")), name="appeal_not_duplicate_of_itself"),
        ]
        indexes = [
            # The SLA sweep: open appeals whose next check is due. Partial, so its size follows open appeals.
            models.Index(
                fields=["sla_next_check_at"],
                condition=Q(sla_next_check_at__isnull=False),
                name="appeal_sla_next_check_idx",
            ),
            # Queues by the nearest running deadline (no deadline last: closed appeals have none), and the overdue
            # ones (due_at in the past while the clock runs), for the federation, a region and an organisation.
            models.Index(fields=["due_at", "id"], name="appeal_due_idx"),
            models.Index(fields=["region", "due_at", "id"], name="appeal_region_due_idx"),
            models.Index(fields=["organization", "due_at", "id"], name="appeal_org_due_idx"),
            # The queue (open appeals, nearest deadline first, none last) of the federation, a region and an
            # organisation: partial, so a scope's open appeals are read in order without walking its closed ones
            # (they have no deadline, so they sit after the open ones in the indexes above, where an organisation
            # with fewer open appeals than a page would be walked to its end), and counted off the index alone.
            models.Index(fields=["due_at", "id"], condition=Q(status__in=OPEN_STATUSES), name="appeal_open_due_idx"),
            models.Index(
                fields=["region", "due_at", "id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="appeal_open_region_due_idx",
            ),
            models.Index(
                fields=["organization", "due_at", "id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="appeal_open_org_due_idx",
            ),
            # Lists by SLA state (breached, at risk, ...) in their default order; with the running deadline in it,
            # a state's count (`sla_state_q`: the stored state, or a passed deadline) is read off the index alone.
            models.Index(
                fields=["sla_state", "-received_at", "-id"], include=["due_at"], name="appeal_state_received_idx"
            ),
            # Running appeals (open, clock not paused): the overdue ones (`overdue_q`) newest first, read off the index
            # with the deadline in it, and counted by deadline. Partial: their size follows the open appeals.
            models.Index(
                fields=["-received_at", "-id"],
                include=["due_at"],
                condition=Q(status__in=RUNNING_STATUSES),
                name="appeal_running_received_idx",
            ),
            models.Index(fields=["due_at"], condition=Q(status__in=RUNNING_STATUSES), name="appeal_running_due_idx"),
            # Lists in their default order (newest first, id breaking ties), read straight off the index: the
            # federation's list, and an analyst's or an operator's narrowed to their regions or organisations.
            # They also serve reports by period of receipt (ratings, exports).
            models.Index(F("received_at").desc(), F("id").desc(), name="appeal_received_idx"),
            models.Index("region", F("received_at").desc(), F("id").desc(), name="appeal_region_received_idx"),
            models.Index("organization", F("received_at").desc(), F("id").desc(), name="appeal_org_received_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} ({self.get_status_display()})"

    def scope_keys(self) -> ScopeKeys:
        return ScopeKeys(region_id=self.region_id, organization_id=self.organization_id, page_id=self.page_id)

    def pause_intervals(self) -> list[tuple[dt.datetime, dt.datetime]]:
        """The closed pauses as (paused at, resumed at); `pauses` is their one stored record."""
        return [(dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)) for start, end in self.pauses]

    @property
    def paused_seconds(self) -> int:
        return sum(int((end - start).total_seconds()) for start, end in self.pause_intervals())


class AppealEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Appeal history is append-only: events are never updated.")

    def delete(self):
        raise TypeError("Appeal history is append-only: events are never deleted.")


class EventAction(models.TextChoices):
    CREATED = "created", _("created")
    TAKEN = "taken", _("taken")
    ASSIGNED = "assigned", _("assigned")
    REPLIED = "replied", _("replied")
    NOTED = "noted", _("internal note")
    WAITING = "waiting", _("waiting for the citizen")
    RESUMED = "resumed", _("resumed")
    EXTENDED = "extended", _("extended")
    REDIRECTED = "redirected", _("redirected")
    REDIRECT_RECEIVED = "redirect_received", _("received by redirect")
    REJECTED = "rejected", _("rejected")
    CLOSED = "closed", _("closed")
    REOPENED = "reopened", _("reopened")
    CONVERTED = "converted", _("converted to a formal appeal")
    CONVERTED_FROM = "converted_from", _("created from a message")
    DUPLICATE = "duplicate", _("marked as a duplicate")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACHED = "sla_breached", _("SLA breached")
    DEADLINES_RECOMPUTED = "deadlines_recomputed", _("deadlines recomputed")
    AUTHOR_EDITED = "author_edited", _("edited by the author")
    AUTHOR_DELETED = "author_deleted", _("deleted by the author")


class AppealEvent(models.Model):
    """One entry of an appeal's append-only history: who, when, from, to, why.

    `hash` chains the entry to the one before it of the same appeal (`previous_hash`, empty for the first):
    appeals/services/history.py computes both, `manage.py verify_history` checks them.
    """

    # No index of its own: appeal_event_history_idx (appeal, created_at) serves look-ups by appeal, and every
    # event written would pay for a second one.
    appeal = models.ForeignKey(Appeal, models.PROTECT, related_name="events", db_index=False, verbose_name=_("appeal"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("actor")
    )
    action = models.CharField(_("action"), max_length=32, choices=EventAction.choices)
    from_status = models.CharField(_("from status"), max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=16, choices=Status.choices, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), db_index=True)
    previous_hash = models.CharField(_("previous hash"), max_length=64, blank=True, editable=False)
    hash = models.CharField(_("hash"), max_length=64, editable=False)

    objects = AppealEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("appeal event")
        verbose_name_plural = _("appeal history")
        ordering = ["appeal_id", "created_at", "id"]
        indexes = [models.Index(fields=["appeal", "created_at"], name="appeal_event_history_idx")]
        constraints = [
            # An event written past history.chain() (a bare save or bulk_create) is refused, not left unchained.
            models.CheckConstraint(condition=~Q(hash=""), name="appeal_event_hashed"),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id}: {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("Appeal history is append-only: events are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Appeal history is append-only: events are never deleted.")


class ReplyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Replies are append-only: they are never updated.")

    def delete(self):
        raise TypeError("Replies are append-only: they are never deleted.")


class ReplyKind(models.TextChoices):
    PUBLIC = "public", _("public reply")
    NOTE = "note", _("internal note")


class Reply(models.Model):
    """A public reply or an internal note; append-only and hash-chained per appeal like `AppealEvent`."""

    # Served by reply_appeal_time_idx (appeal, created_at), as the events' look-ups by appeal.
    appeal = models.ForeignKey(Appeal, models.PROTECT, related_name="replies", db_index=False, verbose_name=_("appeal"))
    kind = models.CharField(_("kind"), max_length=8, choices=ReplyKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+", verbose_name=_("author")
    )
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("time"))
    previous_hash = models.CharField(_("previous hash"), max_length=64, blank=True, editable=False)
    hash = models.CharField(_("hash"), max_length=64, editable=False)

    objects = ReplyQuerySet.as_manager()

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["appeal_id", "created_at", "id"]
        indexes = [models.Index(fields=["appeal", "created_at"], name="reply_appeal_time_idx")]
        constraints = [models.CheckConstraint(condition=~Q(hash=""), name="reply_hashed")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("Replies are append-only: they are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Replies are append-only: they are never deleted.")


class OverrideKind(models.TextChoices):
    WORKING = "working", _("working day")
    NON_WORKING = "non_working", _("non-working day")
    SHORTENED = "shortened", _("shortened day")


class CalendarOverride(models.Model):
    """A change to the production calendar: federal (a late decree) or for one region (a regional holiday)."""

    date = models.DateField(_("date"))
    region = models.ForeignKey(
        Region, models.CASCADE, null=True, blank=True, related_name="calendar_overrides", verbose_name=_("region")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=OverrideKind.choices)
    hours = models.DecimalField(
        _("working hours"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal(24))],
        help_text=_("Length of the working day; empty for the default."),
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("author")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["date", "region_id"]
        constraints = [
            models.UniqueConstraint("date", Coalesce("region", 0), name="calendar_override_unique_date_region"),
            models.CheckConstraint(
                condition=~Q(kind="non_working") | Q(hours__isnull=True),
                name="calendar_override_no_hours_off",
                violation_error_message=_("A non-working day has no working hours."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} ({self.region or _('federal')})"
