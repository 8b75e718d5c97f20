"""The queue's result list: unfold's table, with each column worked out once per page instead of once per cell.

unfold's `result_list` tag recomputes every column header for every row (`items_for_result` calls
`result_headers`), looks each cell's value up by name and includes a row-actions template per row: at 50 rows
that is most of the queue's time. The queue's columns are all the appeal admin's own display methods, so here
each column's method, classes, label and link rule are settled once, and a row is the methods' values in that
markup, with the classes and the link of unfold's rows (the same look), into a table template of its own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django import template
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_list import result_hidden_fields
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.views.main import ChangeList
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from unfold.admin import checkbox
from unfold.templatetags.unfold_list import CHECKBOX_CLASSES, LINK_CLASSES, ROW_CLASSES, result_headers

register = template.Library()
LINK_CLASS = " ".join(LINK_CLASSES)


@dataclass(frozen=True)
class Column:
    method: Any  # the admin's bound display method: appeal -> str
    tag: str  # "th" for the first linked column (unfold's), else "td"
    attributes: SafeString  # class and data-label, escaped
    linked: bool


def columns(cl: ChangeList, headers: list[dict[str, Any]] | None = None) -> list[Column]:
    """The queue's columns in order, each settled once for the page (`headers`: unfold's, if already built)."""
    headers = headers if headers is not None else list(result_headers(cl))
    links = set(cl.list_display_links or ())
    first_link = True
    settled = []
    for index, name in enumerate(cl.list_display):
        classes = CHECKBOX_CLASSES if name == "action_checkbox" else [f"field-{name}", *ROW_CLASSES]
        label = _("Select record") if name == "action_checkbox" else headers[index]["text"]
        linked = name in links
        settled.append(
            Column(
                method=getattr(cl.model_admin, name),
                tag="th" if linked and first_link else "td",
                attributes=format_html(' class="{}" data-label="{}"', " ".join(classes), label),
                linked=linked,
            )
        )
        first_link = first_link and not linked
    return settled


def row(cl: ChangeList, settled: list[Column], appeal) -> SafeString:
    """One appeal's cells, as unfold's `items_for_result` writes them for these columns (the methods' values are
    escaped unless safe; the link is the change page with the list's filters kept)."""
    url = None
    cells = []
    for column in settled:
        value = conditional_escape(column.method(appeal))
        if column.linked:
            if url is None:
                url = escape(
                    add_preserved_filters(
                        {"preserved_filters": cl.preserved_filters, "opts": cl.opts}, cl.url_for_result(appeal)
                    )
                )
            value = f'<a href="{url}" class="{LINK_CLASS}">{value}</a>'
        cells.append(f"<{column.tag}{column.attributes}>{value}</{column.tag}>")
    return mark_safe("".join(cells))  # noqa: S308 - every part escaped above


@register.inclusion_tag("desk/queue_results.html", takes_context=True)
def desk_result_list(context: dict[str, Any], cl: ChangeList) -> dict[str, Any]:
    """The queue's table: unfold's headers and look, the rows built by `row`."""
    headers = list(result_headers(cl))
    settled = columns(cl, headers)
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "rows": [row(cl, settled, appeal) for appeal in cl.result_list],
        "request": context["request"],
    }


@functools.lru_cache
def _checkbox_parts(language: str | None) -> tuple[str, str]:
    marker = "__desk_value__"
    prefix, _marker, suffix = str(checkbox.render(helpers.ACTION_CHECKBOX_NAME, marker)).partition(marker)
    return prefix, suffix


def row_checkbox(value: object) -> SafeString:
    """unfold's row checkbox, rendered once per language around a marker and filled in per row: the same markup
    without a widget template render for every row."""
    prefix, suffix = _checkbox_parts(get_language())
    return mark_safe(prefix + conditional_escape(str(value)) + suffix)  # noqa: S308 - unfold's own markup
