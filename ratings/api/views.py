"""Dashboards and ratings API: thin views over ratings.selectors (reads) and ratings.services (writes)."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView, ListCreateAPIView, RetrieveAPIView
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import Pagination
from ratings import selectors, services
from ratings.api.renderers import CsvRenderer
from ratings.api.serializers import (
    DashboardQuerySerializer,
    DashboardSerializer,
    OpenDataEntrySerializer,
    ReachQuerySerializer,
    ReachSerializer,
    ResponsivenessQuerySerializer,
    ResponsivenessSerializer,
    SeriesQuerySerializer,
    SeriesSerializer,
    SnapshotCreateSerializer,
    SnapshotListSerializer,
    SnapshotSerializer,
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
    extra_error_codes = ["400"]  # bad query parameters
    csv_columns: list[str] = []
    csv_filename = "otklik.csv"

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Response:
        if response.status_code >= 400 and isinstance(getattr(request, "accepted_renderer", None), CsvRenderer):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # DRF answers an unknown `format` with a 404; it is a bad parameter, so a 400 naming it.
        try:
            return super().perform_content_negotiation(request, force=force)
        except Http404:
            raise ValidationError({"format": [_("Unknown format: use json or csv.")]}) from None

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
    extra_error_codes = ["400", "404"]  # a page number past the end is a 404

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


@extend_schema(
    tags=["ratings"],
    summary="Reach rating of regions",
    description=(
        "One row per region: subscribers summed over the page set (each page's latest snapshot on or before "
        "`date`), penetration = subscribers / population (null and `population_known: false` when the "
        "population is unknown), growth over 7 and 30 days, competition ranks (1, 2, 2, 4) by each measure, and "
        "the composite: (w_s·s/max s + w_p·p/max p + w_g·g/max g) / (w_s + w_p + w_g), g the relative growth "
        "over 30 days. A region without a value has no rank. Ranks are the federation's; you see the rows of "
        "the regions in your scope."
    ),
    parameters=[ReachQuerySerializer],
    responses={200: ReachSerializer, (200, "text/csv"): _CSV},
    filters=False,
)
class ReachRatingView(CsvOrJsonView):
    csv_columns = [
        "region",
        "name",
        "pages",
        "subscribers",
        "population",
        "population_known",
        "penetration",
        "growth_7d",
        "growth_30d",
        "rank_subscribers",
        "rank_penetration",
        "composite",
        "rank_composite",
    ]

    def get(self, request: Request) -> Response:
        query = self.query(ReachQuerySerializer, request)
        reach = query.reach_query()
        self.csv_filename = f"reach-{reach.platform}-{reach.date}.csv"
        rows = selectors.reach_rows_visible_to(request.user, selectors.reach_rating(reach))
        weights = {
            "subscribers": reach.weights.subscribers,
            "penetration": reach.weights.penetration,
            "growth": reach.weights.growth,
        }
        return Response(
            {
                "platform": reach.platform,
                "date": reach.date,
                "page_set": reach.page_set,
                "weights": weights,
                "results": rows,
            }
        )


@extend_schema(
    tags=["ratings"],
    summary="Responsiveness rating",
    description=(
        "Regions or organisations in your scope by first-response compliance and median first response over "
        "the period. Below `min_volume` judged appeals a body is listed but not ranked."
    ),
    parameters=[ResponsivenessQuerySerializer],
    responses={200: ResponsivenessSerializer, (200, "text/csv"): _CSV},
    filters=False,
)
class ResponsivenessRatingView(CsvOrJsonView):
    csv_columns = [
        "key",
        "name",
        "received",
        "volume",
        "compliance",
        "first_response_p50_minutes",
        "ranked",
        "rank_compliance",
        "rank_first_response",
    ]
    csv_name = "responsiveness"

    def get(self, request: Request) -> Response:
        query = self.query(ResponsivenessQuerySerializer, request)
        filters = query.filters()
        data = query.validated_data
        rows = selectors.responsiveness_rating(request.user, filters, by=data["by"], min_volume=data["min_volume"])
        return Response({**self.meta(filters), "by": data["by"], "min_volume": data["min_volume"], "results": rows})


def _snapshot_rows(kind: str, query, user) -> tuple[Any, list[dict[str, Any]]]:
    if kind == "reach":
        reach = query.reach_query()
        return reach.date, selectors.reach_rating(reach)
    data = query.validated_data
    filters = query.filters()
    return filters.date_to, selectors.responsiveness_rating(user, filters, by=data["by"], min_volume=data["min_volume"])


class SnapshotListView(ListCreateAPIView):
    """Stored ratings you may see; an analyst or administrator stores one by giving its kind and parameters."""

    serializer_class = SnapshotListSerializer

    def get_queryset(self):
        return selectors.rating_snapshots_visible_to(self.request.user)

    @extend_schema(tags=["ratings"], summary="List stored rating snapshots")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["ratings"],
        summary="Store a rating snapshot",
        request=SnapshotCreateSerializer,
        responses={201: SnapshotSerializer},
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        serializer = SnapshotCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kind, query = serializer.validated_data["kind"], serializer.validated_data["query"]
        as_of, rows = _snapshot_rows(kind, query, request.user)
        snapshot = services.rating_snapshot_store(
            actor=request.user, kind=kind, parameters=query.parameters(), as_of=as_of, rows=rows
        )
        return Response(SnapshotSerializer(snapshot).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["ratings"], summary="Get a rating snapshot with its rows")
class SnapshotDetailView(RetrieveAPIView):
    serializer_class = SnapshotSerializer

    def get_queryset(self):
        return selectors.rating_snapshots_visible_to(self.request.user)


class SnapshotPublishView(APIView):
    extra_error_codes = ["404"]

    @extend_schema(
        tags=["ratings"],
        summary="Publish a rating snapshot as open data",
        description="Then readable without login under /open-data/ratings/. Analysts and administrators only.",
        request=None,
        responses={200: SnapshotSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        snapshot = get_object_or_404(selectors.rating_snapshots_visible_to(request.user), pk=pk)
        snapshot = services.rating_snapshot_publish(actor=request.user, snapshot_id=snapshot.pk)
        return Response(SnapshotSerializer(snapshot).data)


# Open data: no login, published snapshots only -----------------------------------------------------------------


def _entry(request: Request, snapshot) -> dict[str, Any]:
    return {
        "id": snapshot.pk,
        "kind": snapshot.kind,
        "as_of": snapshot.as_of,
        "parameters": snapshot.parameters,
        "published_at": snapshot.published_at,
        "json_url": request.build_absolute_uri(reverse("open-data-rating-json", args=[snapshot.pk])),
        "csv_url": request.build_absolute_uri(reverse("open-data-rating-csv", args=[snapshot.pk])),
    }


class OpenDataListView(ListAPIView):
    """Published rating snapshots, newest first, each with the stable URLs of its JSON and CSV."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    serializer_class = OpenDataEntrySerializer

    def get_queryset(self):
        return selectors.rating_snapshots_published()

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([_entry(request, snapshot) for snapshot in page])

    @extend_schema(tags=["open-data"], summary="Published rating snapshots (no login)")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class OpenDataSnapshotView(CsvOrJsonView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    renderer_classes = [JSONRenderer, CsvRenderer]
    extra_error_codes = ["400", "404"]

    @extend_schema(
        tags=["open-data"],
        summary="A published rating snapshot (no login)",
        responses={200: SnapshotSerializer, (200, "text/csv"): _CSV},
    )
    def get(self, request: Request, pk: int, format: str | None = None) -> Response:
        snapshot = get_object_or_404(selectors.rating_snapshots_published(), pk=pk)
        rows = snapshot.rows
        # The rating's own column order (PostgreSQL's jsonb keeps keys in its own order).
        view = ReachRatingView if snapshot.kind == "reach" else ResponsivenessRatingView
        self.csv_columns = view.csv_columns
        self.csv_filename = f"rating-{snapshot.kind}-{snapshot.as_of}-{snapshot.pk}.csv"
        data = SnapshotSerializer(snapshot).data
        data.pop("created_by", None)
        data["results"] = rows
        return Response(data)
