"""Reads of the measures: rollups narrowed to the caller's scope (core.access), summed per group, with the
percentiles read from the merged histograms (ratings.histogram)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection
from django.db.models import F, FloatField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, NullIf, TruncMonth, TruncWeek
from django.utils.translation import gettext as _

from appeals.models import Category
from core.access import Actor, scope_for
from publics.models import AudienceSnapshot, Organization, Page, Platform, Region
from ratings import histogram, ranking
from ratings.models import RatingKind, RatingSnapshot, Rollup, RollupRegionDay, RollupRegionMonth, RollupState
from ratings.services import COUNT_COLUMNS
from ratings.sql import Dialect

GROUPS = ("region", "organization", "page", "platform", "category", "day", "week", "month")
INTERVALS = ("day", "week", "month")
_HISTOGRAM_COLUMNS = {metric: histogram.columns(metric) for metric in histogram.METRICS}


def rollups_visible_to(user: Actor) -> QuerySet[Rollup]:
    """Rollup rows of the appeals the user may read: the same grant as appeals_visible_to, on the same keys."""
    scope = scope_for(user)
    return Rollup.objects.filter(scope.filter_q(region="region_id", organization="organization_id", page="page_id"))


@dataclass(frozen=True)
class DashboardFilters:
    date_from: dt.date
    date_to: dt.date
    region_ids: tuple[int, ...] = ()
    organization_id: int | None = None
    organization_kind: str = ""
    page_id: int | None = None
    platform: str = ""
    kind: str = ""
    category_ids: tuple[int, ...] = ()  # a top-level category with its subcategories
    extra: dict[str, Any] = field(default_factory=dict)


COARSE_GROUPS = (None, "region", "day", "week", "month")


def _coarse(user: Actor, filters: DashboardFilters, group: str | None) -> bool:
    """Whether the region-and-day sums serve the query: no key finer than a region is asked for or needed to
    decide what the user sees."""
    grant = scope_for(user).read
    finer = (
        filters.organization_id is not None
        or filters.organization_kind
        or filters.page_id is not None
        or filters.platform
        or filters.kind
        or filters.category_ids
    )
    scoped_by_region = grant.everything or not (grant.organization_ids or grant.page_ids)
    return not finer and group in COARSE_GROUPS and scoped_by_region


def _filtered(user: Actor, filters: DashboardFilters, group: str | None = None) -> QuerySet:
    if _coarse(user, filters, group):
        return _region_rows(RollupRegionDay, user, filters).filter(day__gte=filters.date_from, day__lte=filters.date_to)
    rollups = rollups_visible_to(user).filter(day__gte=filters.date_from, day__lte=filters.date_to)
    if filters.region_ids:
        rollups = rollups.filter(region_id__in=filters.region_ids)
    if filters.organization_id is not None:
        rollups = rollups.filter(organization_id=filters.organization_id)
    if filters.organization_kind:
        rollups = rollups.filter(organization_kind=filters.organization_kind)
    if filters.page_id is not None:
        rollups = rollups.filter(page_id=filters.page_id)
    if filters.platform:
        rollups = rollups.filter(platform=filters.platform)
    if filters.kind:
        rollups = rollups.filter(kind=filters.kind)
    if filters.category_ids:
        rollups = rollups.filter(category_id__in=filters.category_ids)
    return rollups


def _region_rows(model, user: Actor, filters: DashboardFilters) -> QuerySet:
    rows = model.objects.filter(scope_for(user).filter_q(region="region_id"))
    return rows.filter(region_id__in=filters.region_ids) if filters.region_ids else rows


def _whole_months(date_from: dt.date, date_to: dt.date) -> tuple[dt.date, dt.date] | None:
    """The first days of the first and last calendar months lying wholly inside the period, if any."""
    first = date_from if date_from.day == 1 else (date_from.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    after = date_to + dt.timedelta(days=1)
    last_end = after.replace(day=1)  # the first day of the month after the last whole month
    if last_end <= first:
        return None
    last = (last_end - dt.timedelta(days=1)).replace(day=1)
    return first, last


def _merged(parts: Iterable[Iterable[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rows of several grouped results added up per key, ordered by key (empty keys last)."""
    merged: dict[Any, dict[str, Any]] = {}
    for part in parts:
        for row in part:
            target = merged.setdefault(row["key"], {"key": row["key"]})
            for name, value in row.items():
                if name != "key" and value is not None:
                    target[name] = (target.get(name) or 0) + value
    return [merged[key] for key in sorted(merged, key=lambda key: (key is None, key))]


_MEASURE_COLUMNS = [*COUNT_COLUMNS, *(name for columns in _HISTOGRAM_COLUMNS.values() for name in columns)]
# The ORM adds 548 Sum annotations one by one, each copying the annotation mask (quadratic in their number): that
# cost more than the federation's year of region-and-month rows takes to sum (bench.rollups), so the coarse
# path writes its SELECT list once, here, and lets the ORM compile only the filter.
_MEASURE_SUMS_SQL = ", ".join(f'SUM("{name}") AS "{name}"' for name in _MEASURE_COLUMNS)


def _summed(rows: QuerySet, key: str) -> list[dict[str, Any]]:
    """The measure columns of the filtered rows of a Measures table summed per `key` (SQL over its columns)."""
    compiler = rows.query.get_compiler(using=rows.db)
    try:
        where, params = compiler.compile(rows.query.where)
    except EmptyResultSet:
        return []
    except FullResultSet:
        where, params = "", []
    table = connection.ops.quote_name(rows.model._meta.db_table)
    sql = f"SELECT {key} AS key, {_MEASURE_SUMS_SQL} FROM {table} {'WHERE ' + where if where else ''} GROUP BY 1"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _by_months(user: Actor, filters: DashboardFilters, group: str | None) -> list[dict[str, Any]] | None:
    """For the federation or regions by region, by month or in total: whole months from the month sums, the
    days that cut a month at either end from the day sums. None when the query needs finer rows."""
    if group not in (None, "region", "month") or not _coarse(user, filters, group):
        return None
    months = _whole_months(filters.date_from, filters.date_to)
    if months is None:
        return None
    first, last = months
    after_last = (last + dt.timedelta(days=32)).replace(day=1)
    key = {None: "0", "region": '"region_id"', "month": '"month"'}[group]
    parts = [_summed(_region_rows(RollupRegionMonth, user, filters).filter(month__gte=first, month__lte=last), key)]
    day_key = {None: "0", "region": '"region_id"', "month": Dialect(connection.vendor).month_start('"day"')}[group]
    # The days before the first whole month and after the last one, if any (none for a period of whole months).
    for low, high in ((filters.date_from, first - dt.timedelta(days=1)), (after_last, filters.date_to)):
        if low <= high:
            days = _region_rows(RollupRegionDay, user, filters).filter(day__gte=low, day__lte=high)
            parts.append(_summed(days, day_key))
    return _merged(parts)


def category_with_children(category_id: int) -> tuple[int, ...]:
    return (category_id, *Category.objects.filter(parent_id=category_id).values_list("pk", flat=True))


def _group_expression(group: str):
    return {
        "region": F("region_id"),
        "organization": F("organization_id"),
        "page": F("page_id"),
        "platform": F("platform"),
        "category": F("category_id"),
        "day": F("day"),
        "week": TruncWeek("day"),
        "month": TruncMonth("day"),
    }[group]


def _sums() -> dict[str, Sum]:
    sums = {name: Sum(name) for name in COUNT_COLUMNS}
    for columns in _HISTOGRAM_COLUMNS.values():
        sums.update({name: Sum(name) for name in columns})
    return sums


def _judged() -> Any:
    return Coalesce(Sum("first_response_on_time"), 0) + Coalesce(Sum("first_response_breached"), 0)


def _compliance(on_time: int, breached: int) -> float | None:
    judged = on_time + breached
    return None if judged == 0 else round(on_time / judged, 4)


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def measures_of(sums: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's measures from summed rollup columns."""
    count = {name: int(sums.get(name) or 0) for name in COUNT_COLUMNS}
    histograms = {metric: [sums.get(name) or 0 for name in columns] for metric, columns in _HISTOGRAM_COLUMNS.items()}
    row: dict[str, Any] = {
        "received": count["received"],
        "answered": count["answered"],
        "answered_on_time": count["first_response_on_time"],
        "breached": count["first_response_breached"],
        "compliance": _compliance(count["first_response_on_time"], count["first_response_breached"]),
    }
    for metric, prefix, suffix in (
        ("frc", "first_response", "minutes"),
        ("frw", "first_response", "working_minutes"),
    ):
        row[f"{prefix}_p50_{suffix}"] = _minutes(histogram.percentile(histograms[metric], 0.5))
        row[f"{prefix}_p90_{suffix}"] = _minutes(histogram.percentile(histograms[metric], 0.9))
    row.update(
        {
            "resolution_on_time": count["resolution_on_time"],
            "resolution_breached": count["resolution_breached"],
            "resolution_compliance": _compliance(count["resolution_on_time"], count["resolution_breached"]),
        }
    )
    for metric, prefix, suffix in (("rsc", "resolution", "minutes"), ("rsw", "resolution", "working_minutes")):
        row[f"{prefix}_p50_{suffix}"] = _minutes(histogram.percentile(histograms[metric], 0.5))
        row[f"{prefix}_p90_{suffix}"] = _minutes(histogram.percentile(histograms[metric], 0.9))
    row["open"] = count["open"]
    row["overdue"] = count["overdue"]
    return row


MEASURES = (
    "received",
    "answered",
    "answered_on_time",
    "breached",
    "compliance",
    "first_response_p50_minutes",
    "first_response_p90_minutes",
    "first_response_p50_working_minutes",
    "first_response_p90_working_minutes",
    "resolution_on_time",
    "resolution_breached",
    "resolution_compliance",
    "resolution_p50_minutes",
    "resolution_p90_minutes",
    "resolution_p50_working_minutes",
    "resolution_p90_working_minutes",
    "open",
    "overdue",
)


def rollups_computed_at() -> dt.datetime | None:
    """Every change recorded in the history before this moment is in the rollups (the catch-up's mark)."""
    return RollupState.objects.filter(pk=1).values_list("caught_up_at", flat=True).first()


def dashboard_grouped(user: Actor, filters: DashboardFilters, group: str) -> QuerySet | list[dict[str, Any]]:
    """Summed rollups per group key (`key` in each values row), ordered by key; evaluate a page of it."""
    by_months = _by_months(user, filters, group)
    if by_months is not None:
        return by_months
    return (
        _filtered(user, filters, group)
        .annotate(key=_group_expression(group))
        .values("key")
        .annotate(**_sums())
        .order_by(F("key").asc(nulls_last=True))
    )


def dashboard_total(user: Actor, filters: DashboardFilters) -> dict[str, Any]:
    by_months = _by_months(user, filters, None)
    if by_months is not None:
        return measures_of(by_months[0] if by_months else {})
    return measures_of(_filtered(user, filters, None).aggregate(**_sums()))


def dashboard_worst(user: Actor, filters: DashboardFilters, group: str, *, min_volume: int, limit: int) -> list:
    """Groups with at least `min_volume` judged appeals, lowest compliance first (ties: more judged first)."""
    by_months = _by_months(user, filters, group)
    if by_months is not None:

        def judged(row: dict[str, Any]) -> int:
            return (row.get("first_response_on_time") or 0) + (row.get("first_response_breached") or 0)

        kept = [row for row in by_months if judged(row) >= min_volume]
        kept.sort(key=lambda row: ((row.get("first_response_on_time") or 0) / judged(row), -judged(row), row["key"]))
        return kept[:limit]
    rows = (
        _filtered(user, filters, group)
        .annotate(key=_group_expression(group))
        .values("key")
        .annotate(judged=_judged())
        .filter(judged__gte=min_volume)
        .annotate(
            ratio=Cast(Coalesce(Sum("first_response_on_time"), 0), FloatField())
            / Cast(NullIf(F("judged"), Value(0)), FloatField())
        )
        .annotate(**_sums())
        .order_by("ratio", "-judged", F("key").asc(nulls_last=True))[:limit]
    )
    return list(rows)


def dashboard_rows(group: str, grouped: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with their key and name (one query per page of rows for the names) and measures."""
    grouped = list(grouped)
    keys = [row["key"] for row in grouped]
    names = group_names(group, keys)
    result = []
    for row in grouped:
        key, name = names.get(row["key"], (row["key"], ""))
        result.append({"key": key, "name": name, **measures_of(row)})
    return result


def _period_key(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def group_names(group: str, keys: list[Any]) -> dict[Any, tuple[Any, str]]:
    """(key shown, name) per raw group key: regions by code, the rest by id; periods as ISO dates."""
    ids = [key for key in keys if key is not None]
    if group == "region":
        return {
            pk: (code, name) for pk, code, name in Region.objects.filter(pk__in=ids).values_list("pk", "code", "name")
        }
    if group == "organization":
        return {
            pk: (pk, short or name)
            for pk, name, short in Organization.objects.filter(pk__in=ids).values_list("pk", "name", "short_name")
        }
    if group == "page":
        found: dict[Any, tuple[Any, str]] = {
            pk: (pk, title) for pk, title in Page.objects.filter(pk__in=ids).values_list("pk", "title")
        }
        found[None] = (None, _("No page"))
        return found
    if group == "category":
        found = {pk: (pk, name) for pk, name in Category.objects.filter(pk__in=ids).values_list("pk", "name")}
        found[None] = (None, _("No category"))
        return found
    if group == "platform":
        labels = dict(Platform.choices)
        return {key: (key or None, str(labels.get(key, _("No page")))) for key in keys}
    return {key: (_period_key(key), _period_key(key)) for key in keys}


def periods(date_from: dt.date, date_to: dt.date, interval: str) -> list[dt.date]:
    """The first day of every day, ISO week or month that meets the period, in order."""
    if interval == "day":
        return [date_from + dt.timedelta(days=n) for n in range((date_to - date_from).days + 1)]
    if interval == "week":
        start = date_from - dt.timedelta(days=date_from.weekday())
        return [start + dt.timedelta(weeks=n) for n in range((date_to - start).days // 7 + 1)]
    result, month = [], date_from.replace(day=1)
    while month <= date_to:
        result.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return result


def dashboard_series(user: Actor, filters: DashboardFilters, interval: str) -> list[dict[str, Any]]:
    """One row per period of the interval, periods without appeals included (zeros), for charts."""
    sums = {_period_key(row["key"]): row for row in dashboard_grouped(user, filters, interval)}
    rows = []
    for start in periods(filters.date_from, filters.date_to, interval):
        period = start.isoformat()
        rows.append({"period": period, **measures_of(sums.get(period, {}))})
    return rows


__all__ = [
    "GROUPS",
    "INTERVALS",
    "MEASURES",
    "DashboardFilters",
    "dashboard_grouped",
    "dashboard_rows",
    "dashboard_series",
    "dashboard_total",
    "dashboard_worst",
    "rollups_computed_at",
    "rollups_visible_to",
]


# Ratings ------------------------------------------------------------------------------------------------------

PAGE_SETS = ("regional_government", "governor", "all")


def reach_pages(*, platform: str, page_set: str) -> QuerySet[Page]:
    """The pages a reach rating sums: each regional government's (or governor's) primary page on the platform,
    or, where none is marked primary, its oldest active one; `all`: every active page on the platform."""
    pages = Page.objects.filter(platform=platform, is_active=True)
    if page_set == "all":
        return pages
    chosen = (
        Page.objects.filter(organization=OuterRef("organization"), platform=platform, is_active=True)
        .order_by("-is_primary", "id")
        .values("pk")[:1]
    )
    return pages.filter(organization__kind=page_set, pk=Subquery(chosen))


def _reach_sums(query: ReachQuery) -> dict[int, dict[str, Any]]:
    """Per region id: the page set's subscribers as of the date, 7 and 30 days before, and its page count.

    A page's figure on a day is its latest snapshot on or before that day. Snapshots come daily, so almost every
    page has one dated exactly that day: those are read as one index-only range per day
    (`audience_snapshot_date_idx`) and hash-joined to the pages, and only a page without one looks its latest
    earlier snapshot up through the unique (page, date) index (COALESCE evaluates that sub-query only then).
    Three index descents per page cost three times the bare latest-snapshot query (bench.reach).
    """
    from django.db import connection

    pages_sql, pages_params = (
        reach_pages(platform=query.platform, page_set=query.page_set)
        .annotate(page_key=F("pk"), region=F("organization__region_id"))
        .values("page_key", "region")
        .order_by()
        .query.sql_with_params()
    )
    table = connection.ops.quote_name(AudienceSnapshot._meta.db_table)
    days = [query.date, query.date - dt.timedelta(days=7), query.date - dt.timedelta(days=30)]
    figures = ", ".join(
        f"SUM(COALESCE(s{i}.subscribers, (SELECT a.subscribers FROM {table} a WHERE a.page_id = p.page_key "
        f"AND a.date < %s ORDER BY a.date DESC LIMIT 1)))"
        for i in range(len(days))
    )
    joins = " ".join(
        f"LEFT JOIN {table} s{i} ON s{i}.page_id = p.page_key AND s{i}.date = %s" for i in range(len(days))
    )
    sql = f"SELECT p.region, {figures}, COUNT(*) FROM ({pages_sql}) p {joins} GROUP BY p.region"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*days, *pages_params, *days])
        rows = cursor.fetchall()

    def whole(value: Any) -> int | None:  # PostgreSQL's SUM of bigint is a numeric
        return None if value is None else int(value)

    return {
        region: {"subscribers": whole(now), "week_ago": whole(week), "month_ago": whole(month), "pages": pages}
        for region, now, week, month, pages in rows
    }


@dataclass(frozen=True)
class ReachQuery:
    platform: str
    date: dt.date
    page_set: str = "regional_government"
    weights: ranking.Weights = field(default_factory=ranking.Weights)


def reach_rating(query: ReachQuery) -> list[dict[str, Any]]:
    """One row per region (all 89): subscribers summed over the page set as of the date, penetration, growth,
    ranks by each measure and the composite (ratings.ranking). Audience figures are public: the rows are the
    federation's, and callers narrow them to their scope (`reach_rows_visible_to`)."""
    by_region = _reach_sums(query)
    rows: list[dict[str, Any]] = []
    for region in Region.objects.order_by("code"):
        found = by_region.get(region.pk, {})
        subscribers = found.get("subscribers")
        penetration = subscribers / region.population if subscribers is not None and region.population else None
        rows.append(
            {
                "region": region.code,
                "name": region.name,
                "pages": found.get("pages", 0),
                "subscribers": subscribers,
                "population": region.population,
                "population_known": bool(region.population),
                "penetration": penetration,
                "growth_7d": None if subscribers is None else subscribers - (found.get("week_ago") or 0),
                "growth_30d": None if subscribers is None else subscribers - (found.get("month_ago") or 0),
            }
        )
    for name, value in (("rank_subscribers", "subscribers"), ("rank_penetration", "penetration")):
        for row, rank in zip(rows, ranking.competition_ranks(rows, lambda row, v=value: row[v]), strict=True):
            row[name] = rank
    for row, score in zip(rows, ranking.composite_scores(rows, query.weights), strict=True):
        row["composite"] = score
    for row, rank in zip(rows, ranking.competition_ranks(rows, lambda row: row["composite"]), strict=True):
        row["rank_composite"] = rank
    return rows


def regions_readable_by(user: Actor) -> set[int] | None:
    """Regions the user's read grant reaches (None: all), through a region, an organisation or a page."""
    scope = scope_for(user)
    if scope.read.everything:
        return None
    regions = set(scope.read.region_ids)
    regions |= set(Organization.objects.filter(pk__in=scope.read.organization_ids).values_list("region_id", flat=True))
    regions |= set(Page.objects.filter(pk__in=scope.read.page_ids).values_list("organization__region_id", flat=True))
    return regions


def reach_rows_visible_to(user: Actor, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the regions in the user's scope; the ranks stay the federation's."""
    regions = regions_readable_by(user)
    if regions is None:
        return rows
    codes = set(Region.objects.filter(pk__in=regions).values_list("code", flat=True))
    return [row for row in rows if row["region"] in codes]


RESPONSIVENESS_GROUPS = ("region", "organization")


def responsiveness_rating(user: Actor, filters: DashboardFilters, *, by: str, min_volume: int) -> list[dict[str, Any]]:
    """Bodies (regions or organisations) in the user's scope by first-response compliance and median time.

    A body with fewer than `min_volume` judged appeals is listed but not ranked (a single fast answer must not
    put it on top). Ranks are competition ranks among the listed bodies: compliance descending, median first
    response ascending. Rows come ordered by compliance rank, unranked last.
    """
    grouped = dashboard_rows(by, dashboard_grouped(user, filters, by))
    rows = []
    for row in grouped:
        judged = row["answered_on_time"] + row["breached"]
        rows.append(
            {
                "key": row["key"],
                "name": row["name"],
                "received": row["received"],
                "volume": judged,
                "compliance": row["compliance"],
                "first_response_p50_minutes": row["first_response_p50_minutes"],
                "ranked": judged >= min_volume,
            }
        )
    ranked = [row for row in rows if row["ranked"]]
    for row, rank in zip(ranked, ranking.competition_ranks(ranked, lambda row: row["compliance"]), strict=True):
        row["rank_compliance"] = rank
    speed = ranking.competition_ranks(ranked, lambda row: row["first_response_p50_minutes"], descending=False)
    for row, rank in zip(ranked, speed, strict=True):
        row["rank_first_response"] = rank
    for row in rows:
        row.setdefault("rank_compliance", None)
        row.setdefault("rank_first_response", None)
    rows.sort(key=lambda row: (row["rank_compliance"] is None, row["rank_compliance"] or 0, str(row["name"])))
    return rows


def rating_snapshots_visible_to(user: Actor) -> QuerySet[RatingSnapshot]:
    """Reach snapshots (public figures) for anyone with a role; responsiveness ones for their author and for
    those who see the whole federation (the rows were computed within the author's scope)."""
    scope = scope_for(user)
    snapshots = RatingSnapshot.objects.select_related("created_by")
    if scope.read.everything:
        return snapshots
    if scope.read.is_empty:
        return snapshots.none()
    return snapshots.filter(Q(kind=RatingKind.REACH) | Q(created_by_id=getattr(user, "pk", None)))


def rating_snapshots_published() -> QuerySet[RatingSnapshot]:
    """Open data: published snapshots only, newest first."""
    return RatingSnapshot.objects.filter(published_at__isnull=False).order_by("-published_at", "-id")
