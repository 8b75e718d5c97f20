"""Reads of appeals, narrowed to the caller's scope (core.access) and annotated with their SLA state.

The SLA state, the overdue flag and the active deadline are computed by the database at read time from the
stored deadlines and the given moment, so a list can be filtered and ordered by them and they are never
stale, whatever the sweep has got to.
"""

import datetime as dt

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from appeals.models import (
    FINAL_STATUSES,
    Appeal,
    AppealEvent,
    CalendarOverride,
    Category,
    Priority,
    Reply,
    SlaPolicy,
    SlaState,
    Status,
)
from core.access import scope_for
from publics.models import Organization


def _overdue_q(now: dt.datetime) -> Q:
    running = ~Q(status__in=[*FINAL_STATUSES, Status.WAITING])
    first_late = Q(first_responded_at__isnull=True, first_response_due_at__lt=now)
    resolution_late = Q(resolved_at__isnull=True, resolution_due_at__lt=now)
    return running & (first_late | resolution_late)


def _late_q() -> Q:
    return (
        Q(first_response_breached=True)
        | Q(resolution_breached=True)
        | Q(first_responded_at__gt=F("first_response_due_at"))
        | Q(resolved_at__gt=F("resolution_due_at"))
    )


def annotate_sla(queryset: QuerySet[Appeal], *, now: dt.datetime | None = None) -> QuerySet[Appeal]:
    """Add `sla_state`, `is_overdue` and `due_at` (the deadline the clock runs for now) as of `now`."""
    now = now or timezone.now()
    moment = Value(now, output_field=DateTimeField())
    return queryset.annotate(
        is_overdue=Case(When(_overdue_q(now), then=Value(True)), default=Value(False), output_field=BooleanField()),
        sla_state=Case(
            When(status=Status.WAITING, then=Value(SlaState.PAUSED)),
            When(_late_q() | _overdue_q(now), then=Value(SlaState.BREACHED)),
            When(status__in=FINAL_STATUSES, then=Value(SlaState.MET)),
            When(first_responded_at__isnull=False, resolution_due_at__isnull=True, then=Value(SlaState.MET)),
            When(sla_warn_from__lte=moment, then=Value(SlaState.AT_RISK)),
            default=Value(SlaState.ON_TRACK),
            output_field=CharField(),
        ),
        due_at=Case(
            When(status__in=FINAL_STATUSES, then=Value(None)),
            When(first_responded_at__isnull=True, then=F("first_response_due_at")),
            When(resolved_at__isnull=True, then=F("resolution_due_at")),
            default=Value(None),
            output_field=DateTimeField(),
        ),
    )


def appeals_visible_to(user, *, mode: str = "read", now: dt.datetime | None = None) -> QuerySet[Appeal]:
    """Appeals the user may see (or, with mode="manage", handle), joined for display and SLA-annotated."""
    scope = scope_for(user)
    appeals = Appeal.objects.filter(
        scope.filter_q(mode=mode, region="region_id", organization="organization_id", page="page_id")
    ).select_related("organization__region", "region", "page", "policy")
    # Reverse one-to-one links as ids, so a list needs no query per row to show them.
    appeals = appeals.annotate(
        redirected_from_id=Subquery(Appeal.objects.filter(redirected_to=OuterRef("pk")).order_by().values("pk")[:1]),
        converted_to_id=Subquery(Appeal.objects.filter(converted_from=OuterRef("pk")).order_by().values("pk")[:1]),
    )
    appeals = appeals.annotate(
        priority_rank=Case(
            *(When(priority=value, then=Value(rank)) for rank, value in enumerate(Priority.values)),
            output_field=IntegerField(),
        )
    )
    return annotate_sla(appeals, now=now)


def appeal_events(appeal: Appeal) -> QuerySet[AppealEvent]:
    return AppealEvent.objects.filter(appeal=appeal).select_related("actor").order_by("created_at", "id")


def appeal_replies(appeal: Appeal) -> QuerySet[Reply]:
    return Reply.objects.filter(appeal=appeal).select_related("author").order_by("created_at", "id")


def categories_all() -> QuerySet[Category]:
    return Category.objects.select_related("parent").order_by("parent_id", "name")


def sla_policies_visible_to(user, *, mode: str = "read") -> QuerySet[SlaPolicy]:
    """Policies a user may see (mode="read") or change (mode="manage").

    Read: everything for those who see everything; otherwise the federal policies (no region, no organisation),
    the regional ones of the user's regions and of the regions of the organisations they see, and the
    organisation-level ones of those organisations or located in their regions: an operator can read the rule
    their appeals run on. Manage: analysts change their regions' regional policies; federal and
    organisation-level ones are the administrators'.
    """
    scope = scope_for(user)
    current = SlaPolicy.objects.filter(is_current=True).select_related("region", "organization", "category")
    if scope.read.is_empty:
        return current.none()
    if mode == "read":
        if scope.read.everything:
            return current
        organizations = Organization.objects.filter(
            scope.filter_q(mode="read", region="region_id", organization="id", page="pages")
        )
        regions = set(scope.read.region_ids) | set(organizations.values_list("region_id", flat=True))
        return current.filter(
            Q(region__isnull=True, organization__isnull=True)
            | Q(region_id__in=regions, organization__isnull=True)
            | Q(organization__in=organizations.values("id"))
            | Q(organization__region_id__in=scope.read.region_ids)
        )
    if scope.manage.everything:
        return current
    return current.filter(region_id__in=scope.manage.region_ids, organization__isnull=True)


def calendar_overrides_visible_to(user, *, mode: str = "read") -> QuerySet[CalendarOverride]:
    scope = scope_for(user)
    if scope.read.is_empty:
        return CalendarOverride.objects.none()
    if mode == "read":
        return CalendarOverride.objects.select_related("region")
    condition = scope.filter_q(mode="manage", region="region_id")
    if not scope.manage.everything:
        condition &= Q(region__isnull=False)
    return CalendarOverride.objects.filter(condition).select_related("region")
