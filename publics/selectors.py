"""Reads of the registry, already narrowed to the caller's scope (core.access) and joined for display."""

import datetime as dt

from django.db.models import QuerySet

from core.access import scope_for
from publics.models import AudienceSnapshot, Membership, Organization, Page, Region


def regions_all() -> QuerySet[Region]:
    """Regions are public reference data: every authenticated user reads all 89."""
    return Region.objects.all()


def regions_visible_to(user) -> QuerySet[Region]:
    """The regions the user sees organisations in: all of them for a federal scope (no read of the
    organisations), else those of the organisations in their scope."""
    if scope_for(user).read.everything:
        return Region.objects.all()
    return Region.objects.filter(pk__in=organizations_visible_to(user).order_by().values("region_id"))


def organizations_visible_to(user, *, mode: str = "read") -> QuerySet[Organization]:
    scope = scope_for(user)
    return Organization.objects.filter(scope.filter_q(mode=mode, region="region_id", organization="id")).select_related(
        "region", "parent"
    )


def pages_visible_to(user, *, mode: str = "read") -> QuerySet[Page]:
    scope = scope_for(user)
    return Page.objects.filter(
        scope.filter_q(mode=mode, region="organization__region_id", organization="organization_id", page="id")
    ).select_related("organization__region")


def page_ids_visible_to(user, page_ids: set[int], *, mode: str = "read") -> set[int]:
    """Which of the given page ids the user may reach: one query whatever the number of ids."""
    return set(pages_visible_to(user, mode=mode).filter(id__in=page_ids).values_list("id", flat=True))


def audience_series(*, page: Page, date_from: dt.date | None, date_to: dt.date | None) -> QuerySet[AudienceSnapshot]:
    snapshots = AudienceSnapshot.objects.filter(page=page).order_by("date")
    if date_from:
        snapshots = snapshots.filter(date__gte=date_from)
    if date_to:
        snapshots = snapshots.filter(date__lte=date_to)
    return snapshots


def memberships_of(user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization", "region", "page").order_by("role", "id")
