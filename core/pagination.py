"""Pagination of every list: `page` and `page_size` (domain.md section 9), and counts that never scan millions.

A list's count is exact up to `EXACT_COUNT_CAP` rows, counted through a LIMIT-ed subquery so that it stops
there; above it the count is the PostgreSQL planner's estimate of the same query, and the response says so
(`count_is_exact: false`). Pages still work: the estimate only decides how many pages the links promise.

The estimate is asked first (a plan of the bare key query costs about a millisecond): when it is far above the
cap (`ESTIMATE_SKIPS_COUNT_ABOVE`), counting even to the cap would read ten thousand rows for a figure that
the estimate gives anyway, so it is skipped (bench/lists.py: a full-text search over millions of appeals
spent 300 ms there). Only a planner wrong by more than ten times could then show an estimate for a list that
is really under the cap.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


def _estimated_count(queryset: Any) -> int | None:
    """The planner's row estimate for `queryset` on PostgreSQL, or None elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    # The bare key query: planning the list's own joins and subqueries costs ten times more for the same estimate.
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # a queryset known to be empty (a scope with no grant): nothing to plan
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


# An estimate above this (and above ten times the cap) is trusted without counting to the cap first.
ESTIMATE_SKIPS_COUNT_ABOVE = 100_000


class CappedCountPaginator(Paginator):
    """A Paginator whose count stops at the cap; `count_is_exact` tells whether it is the true count."""

    count_is_exact = True

    @cached_property
    def count(self) -> int:
        cap = settings.EXACT_COUNT_CAP
        objects: Any = self.object_list
        if not hasattr(objects, "query"):
            return len(objects)
        estimate = _estimated_count(objects)
        if estimate is not None and estimate > max(10 * cap, ESTIMATE_SKIPS_COUNT_ABOVE):
            self.count_is_exact = False
            return estimate
        # Only the key in the counted subquery: the list's annotations (reverse links) are not computed for the
        # rows it counts.
        counted = objects.order_by().values("pk")[: cap + 1].count()
        if counted <= cap:
            return counted
        if estimate is None:
            return objects.count()  # no planner estimate (SQLite, a demo): count exactly
        self.count_is_exact = False
        return max(estimate, counted)


class Pagination(PageNumberPagination):
    """`page` and `page_size`; the page size is capped so one call stays cheap, and so is the count."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    django_paginator_class = CappedCountPaginator

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        paginator = self.page.paginator
        response.data["count_is_exact"] = getattr(paginator, "count_is_exact", True)
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count_is_exact"] = {
            "type": "boolean",
            "description": "False when `count` is the database's estimate: above the exact-count cap.",
        }
        described["properties"]["count"]["description"] = "Exact up to the cap, an estimate above it."
        return described
