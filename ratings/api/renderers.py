"""CSV for the analysts who paste figures into their reports: UTF-8 with a BOM (Excel then reads Cyrillic
right), one header row, the rows of the response's `results`."""

from __future__ import annotations

import csv
import io
from typing import Any

from rest_framework.renderers import BaseRenderer


class CsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> bytes:
        view = (renderer_context or {}).get("view")
        rows = data.get("results", []) if isinstance(data, dict) else []
        columns = list(getattr(view, "csv_columns", None) or (rows[0].keys() if rows else []))
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(name) is None else row.get(name) for name in columns])
        response = (renderer_context or {}).get("response")
        filename = getattr(view, "csv_filename", None)
        if response is not None and filename:
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return buffer.getvalue().encode("utf-8")
