"""The desk's start page (unfold's DASHBOARD_CALLBACK) and its sidebar, per user.

Counts are of the user's scope (the scoped selector) through the stored SLA columns, each capped like the lists'
counts; the chart of the last 14 days comes from the measures' rollups (ratings.selectors), or, before the rollups
have been computed at all (a fresh demo), from the appeals by the same definition.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import selectors, sla
from appeals.models import OPEN_STATUSES, SlaState, Status
from core.access import scope_for
from ratings.selectors import DashboardFilters, dashboard_series, rollups_computed_at

CHART_DAYS = 14


def styles(request: HttpRequest) -> str:
    return static("desk/desk.css")


def _capped(queryset) -> tuple[int, bool]:
    """The count up to the lists' cap, and whether it is exact (no full scan at national scale)."""
    cap = settings.EXACT_COUNT_CAP
    counted = queryset.order_by().values("pk")[: cap + 1].count()
    return min(counted, cap), counted <= cap


def _card(title: str, queryset, link: str, tone: str) -> dict[str, Any]:
    count, exact = _capped(queryset)
    shown = f"{count:,}".replace(",", " ") + ("" if exact else "+")
    return {"title": title, "count": shown, "link": link, "tone": tone}


def counts(request: HttpRequest, *, now: dt.datetime) -> list[dict[str, Any]]:
    appeals = selectors.appeals_visible_to(request.user)
    queue = reverse("admin:appeals_appeal_changelist")
    return [
        _card(_("New"), appeals.filter(status=Status.NEW), f"{queue}?status={Status.NEW}", "new"),
        _card(
            _("At risk"),
            appeals.filter(sla.sla_state_q(SlaState.AT_RISK, now), status__in=OPEN_STATUSES),
            f"{queue}?sla={SlaState.AT_RISK}",
            "at-risk",
        ),
        _card(_("Overdue"), appeals.filter(sla.overdue_q(now)), f"{queue}?overdue=yes", "breached"),
        _card(
            _("Mine, open"),
            appeals.filter(assignee=request.user, status__in=OPEN_STATUSES),
            f"{queue}?mine=me",
            "mine",
        ),
    ]


def last_days(request: HttpRequest, *, today: dt.date) -> list[dict[str, Any]]:
    """Per day of receipt: appeals received and answered on time (the measures' definition)."""
    first = today - dt.timedelta(days=CHART_DAYS - 1)
    if rollups_computed_at() is not None:
        rows = dashboard_series(request.user, DashboardFilters(date_from=first, date_to=today), "day")
        return [{"day": dt.date.fromisoformat(row["period"]), **row} for row in rows]
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    grouped = (
        selectors.appeals_visible_to(request.user)
        .filter(received_at__gte=start)
        .annotate(day=TruncDate("received_at", tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(received=Count("pk"), answered_on_time=Count("pk", filter=sla.first_response_on_time_q()))
    )
    by_day = {row["day"]: row for row in grouped}
    days = [first + dt.timedelta(days=n) for n in range(CHART_DAYS)]
    return [
        {
            "day": day,
            "received": by_day.get(day, {}).get("received", 0),
            "answered_on_time": by_day.get(day, {}).get("answered_on_time", 0),
        }
        for day in days
    ]


_BARS = {"barThickness": 14, "borderRadius": 3}


def chart(rows: list[dict[str, Any]]) -> str:
    """Chart.js data (unfold bundles Chart.js and draws `unfold/components/chart/bar.html`)."""
    return json.dumps(
        {
            "labels": [row["day"].strftime("%d.%m") for row in rows],
            "datasets": [
                {
                    "label": _("Received"),
                    "data": [row["received"] for row in rows],
                    "backgroundColor": "#60a5fa",
                    **_BARS,
                },
                {
                    "label": _("Answered on time"),
                    "data": [row["answered_on_time"] for row in rows],
                    "backgroundColor": "#16a34a",
                    **_BARS,
                },
            ],
        }
    )


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    rows = last_days(request, today=timezone.localdate(now))
    context.update(
        {
            "title": _("Start page"),
            "desk_cards": counts(request, now=now),
            "desk_chart": chart(rows),
            "desk_chart_total": {
                "received": sum(row["received"] for row in rows),
                "answered_on_time": sum(row["answered_on_time"] for row in rows),
            },
            "desk_scope": _scope_label(request),
        }
    )
    return context


def _scope_label(request: HttpRequest) -> str:
    from publics.selectors import organizations_visible_to

    scope = scope_for(request.user)
    if scope.read.everything:
        return _("All regions")
    names = list(organizations_visible_to(request.user).order_by("name").values_list("name", flat=True)[:4])
    if scope.read.region_ids or len(names) > 3:
        return _("Your regions and organisations")
    return ", ".join(names)


def sidebar(request: HttpRequest) -> list[dict[str, Any]]:
    """The desk's items first, then every other model the user may open (admin.site's own permission checks)."""
    desk = [
        {"title": _("Start page"), "icon": "dashboard", "link": reverse("admin:index")},
        {"title": _("Queue of appeals"), "icon": "inbox", "link": reverse("admin:appeals_appeal_changelist")},
    ]
    others = []
    for app in admin.site.get_app_list(request):
        for model in app["models"]:
            if model["object_name"] == "Appeal" or not model.get("admin_url"):
                continue
            others.append(
                {
                    "title": model["name"],
                    "icon": _ICONS.get(model["object_name"], "chevron_right"),
                    "link": model["admin_url"],
                }
            )
    groups = [{"title": _("Desk"), "separator": False, "items": desk}]
    if others:
        groups.append({"title": _("Reference and settings"), "separator": True, "collapsible": True, "items": others})
    return groups


_ICONS = {
    "ResponseTemplate": "quickreply",
    "Organization": "apartment",
    "Page": "public",
    "Region": "map",
    "Delivery": "outbox",
    "SlaPolicy": "timer",
    "CalendarOverride": "calendar_month",
    "Category": "category",
    "Membership": "badge",
    "User": "person",
    "Group": "group",
}
