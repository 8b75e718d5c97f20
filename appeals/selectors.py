"""Reads of appeals, narrowed to the caller's scope (core.access).

The SLA state and the running deadline are stored on the appeal (kept by appeals.sla.refresh_tracking), so a list
filters, orders and counts by them through indexes; `appeals.sla.current_facts` and `sla_state_q` advance the
stored state to the moment of the request, so they are never stale, whatever the sweep has got to.
"""

import datetime as dt

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Case, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from appeals import sla
from appeals.models import Appeal, AppealEvent, CalendarOverride, Category, Priority, Reply, SlaPolicy
from core.access import Actor, Mode, may_see_personal_data, scope_for
from publics.models import Organization


def appeals_visible_to(user: Actor, *, mode: Mode = "read") -> QuerySet[Appeal]:
    """Appeals the user may see (or, with mode="manage", handle), joined for display."""
    scope = scope_for(user)
    appeals = Appeal.objects.filter(
        scope.filter_q(mode=mode, region="region_id", organization="organization_id", page="page_id")
    ).select_related("organization__region", "region", "page", "policy")
    appeals = appeals.defer("search_vector")  # the search's own column, never shown
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
    return appeals


def appeals_queue_visible_to(user: Actor) -> QuerySet[Appeal]:
    """Appeals the user may see, joined for a queue's rows only: the page, the organisation with its region (the
    local time), the assignee and the category. None of `appeals_visible_to`'s other joins and subqueries, which
    a row of the queue never shows and which, on a table of millions, cost the planner more than the rows cost to
    read (nine joined tables: ~18 ms of planning against ~1 ms of execution for 50 rows)."""
    scope = scope_for(user)
    return (
        Appeal.objects.filter(scope.filter_q(region="region_id", organization="organization_id", page="page_id"))
        .select_related("organization__region", "page", "assignee", "category")
        .defer("search_vector")
    )


def appeals_in_state(queryset: QuerySet[Appeal], states: list[str], *, now: dt.datetime) -> QuerySet[Appeal]:
    """Appeals whose SLA state as of `now` is one of `states`."""
    condition = Q()
    for state in states:
        condition |= sla.sla_state_q(state, now)
    return queryset.filter(condition)


def appeals_overdue(queryset: QuerySet[Appeal], overdue: bool, *, now: dt.datetime) -> QuerySet[Appeal]:
    return queryset.filter(sla.overdue_q(now)) if overdue else queryset.exclude(sla.overdue_q(now))


def appeals_search(queryset: QuerySet[Appeal], value: str, *, user: Actor) -> QuerySet[Appeal]:
    """Appeals whose text (or external id) matches, and whose author's name does where `user` may see names.

    On PostgreSQL the text is searched as Russian full text (word forms match: «мусор» finds «мусора»), through
    the GIN index of `search_vector`; elsewhere (the SQLite demo) as a substring. Names are matched as
    substrings (a trigram index on PostgreSQL). A user who sees names masked must not find appeals by them
    either: a search is a way to read a field.
    """
    if connection.vendor == "postgresql":
        condition = Q(search_vector=SearchQuery(value, config="russian", search_type="websearch"))
    else:
        condition = Q(text__icontains=value)
    condition |= Q(external_id=value)
    if may_see_personal_data(user):
        condition |= Q(author_name__icontains=value)
    return queryset.filter(condition)


def appeal_events(appeal: Appeal) -> QuerySet[AppealEvent]:
    return AppealEvent.objects.filter(appeal=appeal).select_related("actor").order_by("created_at", "id")


def appeal_replies(appeal: Appeal) -> QuerySet[Reply]:
    return Reply.objects.filter(appeal=appeal).select_related("author").order_by("created_at", "id")


def categories_all() -> QuerySet[Category]:
    return Category.objects.select_related("parent").order_by("parent_id", "name")


def sla_policies_visible_to(user: Actor, *, mode: Mode = "read") -> QuerySet[SlaPolicy]:
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
    return current.filter(scope.manageable_rules_q())


def calendar_overrides_visible_to(user: Actor, *, mode: Mode = "read") -> QuerySet[CalendarOverride]:
    scope = scope_for(user)
    if scope.read.is_empty:
        return CalendarOverride.objects.none()
    if mode == "read":
        return CalendarOverride.objects.select_related("region")
    return CalendarOverride.objects.filter(scope.manageable_rules_q(organization=None)).select_related("region")
