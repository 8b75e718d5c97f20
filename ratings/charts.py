"""Charts for the control centre's page, drawn on the server as SVG: the project ships its own few lines, so
the page needs no script and no network at run time (closed government networks)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]
    colour: str


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 3, 4, 5, 6 or 8 times a power of ten at or above `raw`: the step between grid lines."""
    power = 10 ** math.floor(math.log10(raw))
    return next(power * factor for factor in (1, 2, 3, 4, 5, 6, 8, 10) if power * factor >= raw)


def _tick(value: float) -> str:
    return f"{value:g}".replace(".", ",")  # a decimal comma, as the page's other figures


def line_chart(
    labels: Sequence[str], series: Sequence[Series], *, width: int = 900, height: int = 260, top: float | None = None
) -> str:
    """A line chart as an SVG string: one polyline per series, gaps where a value is missing."""
    left, right, upper, lower = 48, 12, 12, 28
    plot_w, plot_h = width - left - right, height - upper - lower
    values = [v for s in series for v in s.values if v is not None]
    # Four grid steps of a round size: a given top (100 %), or the data's maximum rounded up (counts: whole steps).
    ceiling = top if top is not None else 4 * _nice_step(max(max(values, default=0) / 4, 1))
    count = max(len(labels) - 1, 1)

    def x(index: int) -> float:
        return left + plot_w * index / count

    def y(value: float) -> float:
        return upper + plot_h * (1 - value / ceiling)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'style="width:100%;max-width:{width}px;font:11px sans-serif">'
    ]
    for step in range(5):
        value = ceiling * step / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y(value) + 4:.1f}" text-anchor="end">{_tick(value)}</text>'
        )
    every = max(len(labels) // 8, 1)
    for index, label in enumerate(labels):
        if index % every == 0:
            parts.append(f'<text x="{x(index):.1f}" y="{height - 8}" text-anchor="middle">{escape(label)}</text>')
    for item in series:
        segment: list[str] = []
        for index, value in enumerate([*list(item.values), None]):
            if value is None:
                if segment:
                    parts.append(
                        f'<polyline fill="none" stroke="{item.colour}" stroke-width="2" points="{" ".join(segment)}"/>'
                    )
                segment = []
            else:
                segment.append(f"{x(index):.1f},{y(value):.1f}")
    legend_x = left
    for item in series:
        parts.append(
            f'<rect x="{legend_x}" y="0" width="10" height="10" fill="{item.colour}"/>'
            f'<text x="{legend_x + 14}" y="9">{escape(item.label)}</text>'
        )
        legend_x += 14 + 7 * len(item.label) + 20
    parts.append("</svg>")
    return "".join(parts)
