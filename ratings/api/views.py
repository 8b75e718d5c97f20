"""Dashboards and ratings API: thin views over ratings.selectors (reads) and ratings.services (writes)."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import Pagination
from ratings import selectors
from ratings.api.renderers import CsvRenderer
from ratings.api.serializers import (
    DashboardQuerySerializer,
    DashboardSerializer,
    SeriesQuerySerializer,
    SeriesSerializer,
    WorstQuerySerializer,
    WorstSerializer,
)

_CSV = OpenApiResponse(response=OpenApiTypes.STR, description="With `format=csv`: the rows as CSV, UTF-8 with BOM.")


class _GroupPagination(Pagination):
    # Grouped rows are counted by the database as such (a COUNT over the GROUP BY); no planner estimate needed.
    django_paginator_class = Paginator


class CsvOrJsonView(APIView):
    """JSON by default, CSV with `format=csv`; errors are always the one JSON error shape."""

    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CsvRenderer]
    csv_columns: list[str] = []
    csv_filename = "otklik.csv"

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Response:
        if response.status_code >= 400 and isinstance(getattr(request, "accepted_renderer", None), CsvRenderer):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def wants_csv(self, request: Request) -> bool:
        return isinstance(getattr(request, "accepted_renderer", None), CsvRenderer)

    def query(self, serializer_class, request: Request):
        serializer = serializer_class(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer

    def meta(self, filters: selectors.DashboardFilters) -> dict[str, Any]:
        self.csv_filename = f"{self.csv_name}-{filters.date_from}-{filters.date_to}.csv"
        return {"from": filters.date_from, "to": filters.date_to, "computed_at": selectors.rollups_computed_at()}

    csv_name = "otklik"


@extend_schema(
    tags=["dashboards"],
    summary="SLA dashboard",
    description=(
        "Measures of domain.md section 7 over appeals received from `from` to `to` (local dates, inclusive), in "
        "the caller's scope, as one total row or one row per `group_by` key. Paginated (`page`, `page_size`) in "
        "JSON; `format=csv` gives every row. Percentiles are read from histograms: within 5% (0.5 minute below "
        "one minute) of the exact nearest-rank value."
    ),
    parameters=[DashboardQuerySerializer],
    responses={200: DashboardSerializer, (200, "text/csv"): _CSV},
    filters=False,
)
class SlaDashboardView(CsvOrJsonView):
    csv_columns = ["key", "name", *selectors.MEASURES]
    csv_name = "sla"
    pagination_class = _GroupPagination

    def get(self, request: Request) -> Response:
        query = self.query(DashboardQuerySerializer, request)
        filters = query.filters()
        group = query.validated_data.get("group_by")
        data = {**self.meta(filters), "group_by": group}
        if group is None:
            rows = [{"key": None, "name": _("Total"), **selectors.dashboard_total(request.user, filters)}]
            return Response({**data, "count": 1, "next": None, "previous": None, "results": rows})
        grouped = selectors.dashboard_grouped(request.user, filters, group)
        if self.wants_csv(request):
            return Response({**data, "results": selectors.dashboard_rows(group, grouped)})
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(grouped, request, view=self)
        rows = selectors.dashboard_rows(group, page or [])
        return Response(
            {
                **data,
                "count": paginator.page.paginator.count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": rows,
            }
        )


@extend_schema(
    tags=["dashboards"],
    summary="SLA measures as a time series",
    description="One row per day, ISO week (starting Monday) or month of receipt, periods without appeals included.",
    parameters=[SeriesQuerySerializer],
    responses={200: SeriesSerializer, (200, "text/csv"): _CSV},
    filters=False,
)
class SlaSeriesView(CsvOrJsonView):
    csv_columns = ["period", *selectors.MEASURES]
    csv_name = "sla-series"

    def get(self, request: Request) -> Response:
        query = self.query(SeriesQuerySerializer, request)
        filters = query.filters()
        interval = query.validated_data["interval"]
        rows = selectors.dashboard_series(request.user, filters, interval)
        return Response({**self.meta(filters), "interval": interval, "results": rows})


@extend_schema(
    tags=["dashboards"],
    summary="Lowest SLA compliance («отстающие»)",
    description=(
        "Groups with at least `min_volume` judged appeals (first response on time or breached), lowest "
        "compliance first; a tie goes to the group with more judged appeals."
    ),
    parameters=[WorstQuerySerializer],
    responses={200: WorstSerializer, (200, "text/csv"): _CSV},
    filters=False,
)
class SlaWorstView(CsvOrJsonView):
    csv_columns = ["key", "name", *selectors.MEASURES]
    csv_name = "sla-worst"

    def get(self, request: Request) -> Response:
        query = self.query(WorstQuerySerializer, request)
        filters = query.filters()
        data = query.validated_data
        grouped = selectors.dashboard_worst(
            request.user, filters, data["group_by"], min_volume=data["min_volume"], limit=data["limit"]
        )
        rows = selectors.dashboard_rows(data["group_by"], grouped)
        return Response(
            {**self.meta(filters), "group_by": data["group_by"], "min_volume": data["min_volume"], "results": rows}
        )
