"""Pure functions of the ratings: competition ranks and the composite reach score (domain.md section 7)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_WEIGHTS = {"subscribers": 0.4, "penetration": 0.4, "growth": 0.2}


def competition_ranks(
    rows: Sequence[dict[str, Any]], value: Callable[[dict[str, Any]], float | None], *, descending: bool = True
) -> list[int | None]:
    """Competition ranks (1, 2, 2, 4) of the rows by `value`; a row whose value is None has no rank."""
    present = sorted((v for row in rows if (v := value(row)) is not None), reverse=descending)
    first_place: dict[float, int] = {}
    for place, v in enumerate(present, start=1):
        first_place.setdefault(v, place)
    return [None if (v := value(row)) is None else first_place[v] for row in rows]


@dataclass(frozen=True)
class Weights:
    subscribers: float = DEFAULT_WEIGHTS["subscribers"]
    penetration: float = DEFAULT_WEIGHTS["penetration"]
    growth: float = DEFAULT_WEIGHTS["growth"]


def composite_scores(rows: Sequence[dict[str, Any]], weights: Weights) -> list[float | None]:
    """The composite reach score of each row, between 0 and 1.

    composite = (w_s * s / max s + w_p * p / max p + w_g * g / max g) / (w_s + w_p + w_g)

    with s the subscribers, p the penetration and g the relative growth over 30 days (growth_30d divided by the
    subscribers 30 days earlier, negative counted as 0, unknown as 0); each maximum is taken over the rows that
    have both subscribers and a penetration, and a term whose maximum is 0 adds 0. A row without subscribers or
    without a penetration (unknown population) has no composite, so no composite rank.
    """
    scored = [row for row in rows if row["subscribers"] is not None and row["penetration"] is not None]

    def growth(row: dict[str, Any]) -> float:
        before = (row["subscribers"] or 0) - (row["growth_30d"] or 0)
        if row["growth_30d"] is None or before <= 0:
            return 0.0
        return max(row["growth_30d"] / before, 0.0)

    top_s = max((row["subscribers"] for row in scored), default=0)
    top_p = max((row["penetration"] for row in scored), default=0)
    top_g = max((growth(row) for row in scored), default=0)
    total = weights.subscribers + weights.penetration + weights.growth
    result: list[float | None] = []
    for row in rows:
        if row["subscribers"] is None or row["penetration"] is None or total <= 0:
            result.append(None)
            continue
        score = (
            (weights.subscribers * row["subscribers"] / top_s if top_s else 0)
            + (weights.penetration * row["penetration"] / top_p if top_p else 0)
            + (weights.growth * growth(row) / top_g if top_g else 0)
        )
        result.append(round(score / total, 6))
    return result
