"""Deadline throughput of core.worktime, against a minute-by-minute walk and a bare `start + timedelta`.

    .venv/bin/python -m bench.deadlines [--starts 200000] [--runs 5] [--walk 400]

A realistic mix of SLA targets (domain.md section 3: 8 working hours, 24 hours, 1 and 3 days, 30 days for a formal
appeal, working days) over starts in 2025-2026 in seven regions, two of them with regional overrides. Timelines
are built by a warm-up pass (its time is printed too), then the median of the timed runs is reported.
Benchmarks are not tests: this prints its figures and the target, and never fails on timing.
"""

import argparse
import datetime as dt
import random
import statistics
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

from core.worktime import DayOverride, Schedule, Unit, add_time, get_calendar

TARGET_PER_SECOND = 50_000

# (region code, zone, regional overrides): Tatarstan and Bashkortostan have their own days off.
REGIONS: list[tuple[str, str, tuple[DayOverride, ...]]] = [
    ("RU-MOW", "Europe/Moscow", ()),
    ("RU-KGD", "Europe/Kaliningrad", ()),
    (
        "RU-TA",
        "Europe/Moscow",
        (
            DayOverride(dt.date(2025, 3, 31), "non_working"),  # Uraza Bayram
            DayOverride(dt.date(2025, 6, 6), "non_working"),  # Kurban Bayram
            DayOverride(dt.date(2025, 6, 5), "shortened"),
            DayOverride(dt.date(2025, 11, 6), "non_working"),  # Constitution Day of the republic
            DayOverride(dt.date(2026, 3, 20), "non_working"),
            DayOverride(dt.date(2026, 5, 27), "non_working"),
        ),
    ),
    ("RU-BA", "Asia/Yekaterinburg", (DayOverride(dt.date(2025, 10, 10), "shortened"),)),
    ("RU-NVS", "Asia/Novosibirsk", ()),
    ("RU-PRI", "Asia/Vladivostok", ()),
    ("RU-CHU", "Asia/Anadyr", ()),
]

# (unit, amount, weight): spans from one hour to 30 days.
TARGETS: list[tuple[Unit, int, int]] = [
    ("working_hours", 8, 25),
    ("working_hours", 1, 5),
    ("working_hours", 4, 5),
    ("working_hours", 40, 5),
    ("calendar_hours", 24, 15),
    ("calendar_days", 1, 10),
    ("calendar_days", 3, 10),
    ("calendar_days", 7, 5),
    ("calendar_days", 30, 10),
    ("working_days", 1, 5),
    ("working_days", 5, 3),
    ("working_days", 20, 2),
]

Job = tuple[dt.datetime, int, Unit, Schedule]


def make_jobs(count: int, seed: int = 2025) -> list[Job]:
    rng = random.Random(seed)
    schedules = []
    for code, zone, overrides in REGIONS:
        calendar = get_calendar((code, len(overrides)), overrides)
        schedules.append(Schedule(calendar, ZoneInfo(zone)))
        schedules.append(Schedule(calendar, ZoneInfo(zone), dt.time(8), dt.time(17)))
    weights = [weight for _, _, weight in TARGETS]
    first = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    two_years = 2 * 365 * 24 * 60
    jobs = []
    for (unit, amount, _), plan in zip(
        rng.choices(TARGETS, weights, k=count), rng.choices(schedules, k=count), strict=True
    ):
        # Platform timestamps: UTC, whole minutes (so that the minute walk below is exact).
        start = first + dt.timedelta(minutes=rng.randrange(two_years))
        jobs.append((start, amount, unit, plan))
    return jobs


def deadlines_worktime(jobs: list[Job]) -> list[dt.datetime]:
    return [add_time(start, amount, unit, plan) for start, amount, unit, plan in jobs]


def deadlines_floor(jobs: list[Job]) -> list[dt.datetime]:
    """The least any deadline can cost: one aware datetime addition (what calendar hours reduce to)."""
    return [start + dt.timedelta(hours=amount) for start, amount, _, _ in jobs]


def minute_walk(start: dt.datetime, hours: int, plan: Schedule) -> dt.datetime:
    """Working hours by their definition, a minute at a time: the implementation a deadline must not cost."""
    moment = start.astimezone(plan.tz).replace(tzinfo=None)
    left = hours * 60
    while left:
        day = moment.date()
        opens = dt.datetime.combine(day, plan.opens)
        closes = dt.datetime.combine(day, plan.closes) - dt.timedelta(hours=plan.calendar.is_shortened(day))
        if plan.calendar.is_working_day(day) and opens <= moment and moment + dt.timedelta(minutes=1) <= closes:
            left -= 1
        moment += dt.timedelta(minutes=1)
    return moment.replace(tzinfo=plan.tz).astimezone(dt.UTC)


def deadlines_walk(jobs: list[Job]) -> list[dt.datetime]:
    return [minute_walk(start, amount, plan) for start, amount, _, plan in jobs]


def per_second(compute: Callable[[list[Job]], list[dt.datetime]], jobs: list[Job], runs: int) -> list[float]:
    rates = []
    for _ in range(runs):
        began = time.perf_counter()
        compute(jobs)
        rates.append(len(jobs) / (time.perf_counter() - began))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=200_000, help="deadlines per run (default 200,000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs; the median is reported (default 5)")
    parser.add_argument("--walk", type=int, default=400, help="working-hours starts for the minute walk (default 400)")
    args = parser.parse_args()

    jobs = make_jobs(args.starts)
    began = time.perf_counter()
    deadlines_worktime(jobs)  # warm-up: builds each calendar's timelines once
    cold = len(jobs) / (time.perf_counter() - began)

    rates = per_second(deadlines_worktime, jobs, args.runs)
    median = statistics.median(rates)
    floor = statistics.median(per_second(deadlines_floor, jobs, args.runs))

    hour_jobs = [job for job in jobs if job[2] == "working_hours"][: args.walk]
    walk_began = time.perf_counter()
    walked = deadlines_walk(hour_jobs)
    walk_rate = len(hour_jobs) / (time.perf_counter() - walk_began)
    hours_rate = statistics.median(per_second(deadlines_worktime, hour_jobs, args.runs))
    agree = sum(ours == theirs for ours, theirs in zip(deadlines_worktime(hour_jobs), walked, strict=True))

    mix = ", ".join(f"{unit} {amount}" for unit, amount, _ in TARGETS)
    print(f"deadlines: {len(jobs):,} starts in {len(REGIONS)} regions, 2025-2026; targets: {mix}")
    print(
        f"core.worktime, mixed units    {median:>12,.0f} deadlines/s  "
        f"(median of {args.runs}: {min(rates):,.0f} .. {max(rates):,.0f}; first pass with timeline builds {cold:,.0f})"
    )
    print(
        f"floor: start + timedelta      {floor:>12,.0f} deadlines/s  (core.worktime costs {floor / median:.1f}x this)"
    )
    print(
        f"minute walk, working hours    {walk_rate:>12,.0f} deadlines/s  over {len(hour_jobs)} starts; core.worktime "
        f"on the same starts {hours_rate:,.0f}/s = {hours_rate / walk_rate:,.0f}x faster; same deadlines: "
        f"{agree}/{len(hour_jobs)}"
    )
    verdict = "met" if median >= TARGET_PER_SECOND else "NOT met"
    print(f"target {TARGET_PER_SECOND:,} deadlines/s: {verdict} ({median / TARGET_PER_SECOND:.1f}x the target)")


if __name__ == "__main__":
    main()
