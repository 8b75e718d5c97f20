"""The control centre's page in the admin, and the rating snapshots (stored, published as open data)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from core.access import scope_for
from core.admin import GrammaticalAdminMixin
from core.errors import ApplicationError, message_for
from publics.models import Role
from ratings import selectors, services
from ratings.charts import Series, line_chart
from ratings.models import RatingSnapshot

TREND_DAYS = 90
WORST_SHOWN = 30
DASH = "—"


def _number(value: float | int | None, decimals: int | None = None) -> str:
    """A figure as a Russian reader writes it (decimal comma, thin groups), a dash when there is none."""
    if value is None:
        return DASH
    rounded = round(value, decimals) if decimals is not None else value  # number_format cuts, it does not round
    return number_format(rounded, decimals, use_l10n=True, force_grouping=True)


def _percent(share: float | None, decimals: int = 0) -> str:
    return DASH if share is None else f"{_number(share * 100, decimals)}\u00a0%"


def _worst_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The worst organisations as unfold's table component takes them: headers and rows of cells."""
    return {
        "headers": [
            _("organisation"),
            _("received"),
            _("on time"),
            _("breached"),
            _("compliance"),
            _("median first response, min"),
            _("overdue"),
        ],
        "rows": [
            [
                row["name"],
                _number(row["received"]),
                _number(row["answered_on_time"]),
                _number(row["breached"]),
                _percent(row["compliance"]),
                _number(row["first_response_p50_minutes"], 1),
                _number(row["overdue"]),
            ]
            for row in rows
        ],
    }


def _ranked(value: str, rank: int | None) -> str:
    """A figure with its rank in brackets, as one cell: three more rank columns did not fit a laptop's width."""
    return value if rank is None else f"{value} ({rank})"


def _reach_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "headers": [
            _("region"),
            _("subscribers (rank)"),
            _("penetration (rank)"),
            _("growth over 30 days"),
            _("composite (rank)"),
        ],
        "rows": [
            [
                row["name"],
                _ranked(_number(row["subscribers"]), row["rank_subscribers"]),
                _ranked(_percent(row["penetration"], 2), row["rank_penetration"])
                if row["penetration"] is not None
                else _("population unknown"),
                _number(row["growth_30d"]),
                _ranked(_number(row["composite"], 3), row["rank_composite"]),
            ]
            for row in rows
        ],
    }


def _may_use(request: HttpRequest) -> bool:
    scope = scope_for(request.user)
    return (
        request.user.is_active
        and request.user.is_staff
        and (scope.read.everything or scope.has_role(Role.ANALYST, Role.AUDITOR))
    )


@admin.register(RatingSnapshot)
class RatingSnapshotAdmin(GrammaticalAdminMixin, ModelAdmin):
    list_display = ("kind", "as_of", "created_by", "created_at", "published_at")
    list_filter = ("kind",)
    readonly_fields = (
        "kind",
        "parameters",
        "as_of",
        "rows",
        "created_by",
        "created_at",
        "published_at",
        "published_by",
    )
    actions = ["publish"]
    change_list_template = "ratings/snapshot_changelist.html"

    def get_queryset(self, request: HttpRequest):
        return selectors.rating_snapshots_visible_to(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_use(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return _may_use(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # stored through the API or by beat: a rating is computed, not typed in

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return scope_for(request.user).is_federal_admin

    @admin.action(description=_("Publish as open data"))
    def publish(self, request: HttpRequest, queryset) -> None:
        done = 0
        for snapshot in queryset:
            try:
                services.rating_snapshot_publish(actor=request.user, snapshot_id=snapshot.pk)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, message_for(exc), messages.ERROR)
        if done:
            self.message_user(request, _("Published: %(count)s.") % {"count": done}, messages.SUCCESS)

    def get_urls(self):
        return [
            path(
                "control-centre/",
                self.admin_site.admin_view(self.control_centre_view),
                name="ratings_control_centre",
            ),
            *super().get_urls(),
        ]

    def control_centre_view(self, request: HttpRequest) -> HttpResponse:
        """Compliance by organisation for the analyst's regions, worst first; the trend over the last 90 days;
        the MAX reach rating of regional governments. Everything through the selectors the API uses."""
        if not _may_use(request):
            return TemplateResponse(request, "admin/base_site.html", status=403)
        today = timezone.localdate()
        last_30 = selectors.DashboardFilters(date_from=today - dt.timedelta(days=29), date_to=today)
        worst = selectors.dashboard_rows(
            "organization",
            selectors.dashboard_worst(request.user, last_30, "organization", min_volume=1, limit=WORST_SHOWN),
        )
        trend_filters = selectors.DashboardFilters(date_from=today - dt.timedelta(days=TREND_DAYS - 1), date_to=today)
        trend = selectors.dashboard_series(request.user, trend_filters, "day")
        labels = [row["period"][5:] for row in trend]
        compliance_chart = line_chart(
            labels,
            [
                Series(
                    str(_("first response compliance, %")),
                    [None if r["compliance"] is None else r["compliance"] * 100 for r in trend],
                    "#2a7ab0",
                ),
                Series(
                    str(_("resolution compliance, %")),
                    [None if r["resolution_compliance"] is None else r["resolution_compliance"] * 100 for r in trend],
                    "#c0392b",
                ),
            ],
            top=100,
        )
        volume_chart = line_chart(
            labels,
            [
                Series(str(_("received")), [r["received"] for r in trend], "#555"),
                Series(str(_("overdue")), [r["overdue"] for r in trend], "#c0392b"),
            ],
        )
        reach = selectors.reach_rows_visible_to(
            request.user, selectors.reach_rating(selectors.ReachQuery(platform="max", date=today))
        )
        reach = sorted((row for row in reach if row["rank_subscribers"]), key=lambda row: row["rank_subscribers"])
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": _("Control centre"),
            "worst": _worst_table(worst),
            "compliance_chart": mark_safe(compliance_chart),  # noqa: S308 - built from numbers and escaped labels
            "volume_chart": mark_safe(volume_chart),  # noqa: S308
            "reach": _reach_table(reach),
            "today": today,
            "snapshots_url": reverse("admin:ratings_ratingsnapshot_changelist"),
        }
        return TemplateResponse(request, "ratings/control_centre.html", context)
