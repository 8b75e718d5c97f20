"""Pagination of every list: `page` and `page_size` (domain.md section 9), and counts that never scan millions.

A list's count is exact up to `EXACT_COUNT_CAP` rows, counted through a LIMIT-ed subquery so that it stops
there; above it the count is the PostgreSQL planner's estimate of the same query, and the response says so
(`count_is_exact: false`). Pages still work: the estimate only decides how many pages the links promise.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


def _estimated_count(queryset: Any) -> int | None:
    """The planner's row estimate for `queryset` on PostgreSQL, or None elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


class CappedCountPaginator(Paginator):
    """A Paginator whose count stops at the cap; `count_is_exact` tells whether it is the true count."""

    count_is_exact = True

    @cached_property
    def count(self) -> int:
        cap = settings.EXACT_COUNT_CAP
        objects: Any = self.object_list
        if not hasattr(objects, "query"):
            return len(objects)
        # Only the key in the counted subquery: the list's annotations (SLA state, reverse links) are not computed
        # for the rows it counts.
        counted = objects.order_by().values("pk")[: cap + 1].count()
        if counted <= cap:
            return counted
        estimate = _estimated_count(objects)
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
