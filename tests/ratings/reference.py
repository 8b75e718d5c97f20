"""The rollups computed from scratch in Python, appeal by appeal, with appeals.sla's Python predicates and
core.worktime: what the SQL of ratings.services must reproduce exactly."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict

from appeals import sla
from appeals.models import OPEN_STATUSES, Appeal
from core import worktime
from ratings import histogram
from ratings.models import Rollup
from ratings.services import COUNT_COLUMNS


def _minutes_between(start: dt.datetime, end: dt.datetime) -> float:
    delta = end - start
    return float((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) / 60000000.0


def expected_rows(*, now: dt.datetime) -> dict[tuple, dict]:
    rows: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(COUNT_COLUMNS, 0) | {"hist": defaultdict(int)})
    for appeal in Appeal.objects.select_related("organization__region", "page", "policy"):
        organization = appeal.organization
        zone = zoneinfo.ZoneInfo(organization.effective_timezone)
        schedule = sla.schedule_for(organization)
        key = (
            appeal.received_at.astimezone(zone).date(),
            appeal.region_id,
            appeal.organization_id,
            appeal.page_id,
            appeal.page.platform if appeal.page else "",
            organization.kind,
            appeal.kind,
            appeal.category_id,
        )
        row = rows[key]
        row["received"] += 1
        row["answered"] += appeal.first_responded_at is not None
        row["first_response_on_time"] += sla.first_response_on_time(appeal)
        row["first_response_breached"] += sla.first_response_breached(appeal, now=now)
        row["resolution_on_time"] += sla.resolution_on_time(appeal)
        row["resolution_breached"] += sla.resolution_breached(appeal, now=now)
        row["open"] += appeal.status in OPEN_STATUSES
        row["overdue"] += sla.is_overdue(appeal, now=now)
        spans = {
            "frc": (appeal.received_at, appeal.first_responded_at),
            "rsc": (appeal.resolution_started_at, appeal.resolved_at),
        }
        for metric, (start, end) in spans.items():
            if end is None:
                continue
            working = worktime.elapsed(start, end, "working_hours", schedule) * 60
            row["hist"][(metric, histogram.bucket_of(_minutes_between(start, end)))] += 1
            row["hist"][(metric[:2] + "w", histogram.bucket_of(working))] += 1
    return {key: {**row, "hist": dict(row["hist"])} for key, row in rows.items()}


def stored_rows() -> dict[tuple, dict]:
    result = {}
    for rollup in Rollup.objects.all():
        key = (
            rollup.day,
            rollup.region_id,
            rollup.organization_id,
            rollup.page_id,
            rollup.platform,
            rollup.organization_kind,
            rollup.kind,
            rollup.category_id,
        )
        row = {name: getattr(rollup, name) for name in COUNT_COLUMNS}
        row["hist"] = {
            (metric, k): getattr(rollup, histogram.column(metric, k))
            for metric in histogram.METRICS
            for k in range(histogram.BUCKETS)
            if getattr(rollup, histogram.column(metric, k))
        }
        result[key] = row
    return result


def region_day_rows_agree() -> bool:
    """Whether the region-and-day sums equal the sums of the rollup rows they stand for."""
    from collections import Counter

    from ratings.models import RollupRegionDay

    columns = [*COUNT_COLUMNS, *(histogram.column(m, k) for m in histogram.METRICS for k in range(histogram.BUCKETS))]
    expected: dict[tuple, Counter] = defaultdict(Counter)
    for row in Rollup.objects.values("region_id", "day", *columns):
        key = (row["region_id"], row["day"])
        expected[key].update({name: row[name] or 0 for name in columns})
    stored = {
        (row["region_id"], row["day"]): Counter({name: row[name] or 0 for name in columns})
        for row in RollupRegionDay.objects.values("region_id", "day", *columns)
    }
    if {key: +counts for key, counts in expected.items()} != {key: +counts for key, counts in stored.items()}:
        return False
    from ratings.models import RollupRegionMonth

    months: dict[tuple, Counter] = defaultdict(Counter)
    for (region_id, day), counts in expected.items():
        months[(region_id, day.replace(day=1))].update(counts)
    stored_months = {
        (row["region_id"], row["month"]): Counter({name: row[name] or 0 for name in columns})
        for row in RollupRegionMonth.objects.values("region_id", "month", *columns)
    }
    return {key: +counts for key, counts in months.items()} == {key: +counts for key, counts in stored_months.items()}
