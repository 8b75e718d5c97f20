"""Reads of the connectors, narrowed to the caller's scope (core.access) and joined for display."""

from django.db.models import OuterRef, QuerySet, Subquery

from connectors.models import AppealSource, Delivery, PlatformEvent
from core.access import Actor, Mode, scope_for
from publics.models import Page
from publics.selectors import pages_visible_to


def deliveries_visible_to(user: Actor, *, mode: Mode = "read") -> QuerySet[Delivery]:
    """Deliveries of the appeals the user may see (or handle): scoped through the appeal's stored keys."""
    scope = scope_for(user)
    return Delivery.objects.filter(
        scope.filter_q(
            mode=mode, region="appeal__region_id", organization="appeal__organization_id", page="appeal__page_id"
        )
    ).select_related("appeal", "page")


def platform_events_visible_to(user: Actor) -> QuerySet[PlatformEvent]:
    """Raw platform events carry citizens' personal data as the platform sent it: administrators only."""
    if not scope_for(user).is_federal_admin:
        return PlatformEvent.objects.none()
    return PlatformEvent.objects.select_related("page")


def pages_with_webhooks(user: Actor) -> QuerySet[Page]:
    """The user's pages with their last received event (two correlated look-ups on the page's index, not a
    query per page)."""
    last = PlatformEvent.objects.filter(page=OuterRef("pk")).order_by("-received_at")
    return (
        pages_visible_to(user)
        .annotate(
            last_event_at=Subquery(last.values("received_at")[:1]),
            last_event_type=Subquery(last.values("event_type")[:1]),
        )
        .select_related("connector")
        .order_by("id")
    )


def appeal_source(appeal_id: int) -> AppealSource | None:
    return AppealSource.objects.filter(appeal_id=appeal_id).first()


def appeal_deliveries(user: Actor, appeal_id: int) -> QuerySet[Delivery]:
    """The outgoing replies of one appeal the user may see, oldest first (the desk's appeal page)."""
    return deliveries_visible_to(user).filter(appeal_id=appeal_id).order_by("created_at", "id")
