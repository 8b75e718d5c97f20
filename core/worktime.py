"""Working-time arithmetic for SLA deadlines (domain.md sections 4 and 5): pure functions, no Django.

The base calendar is the Russian production calendar of the `holidays` package (country RU): the non-working
holidays of Labour Code art. 112, the days off moved by the Government's decrees and the Saturdays those decrees
make working. Overrides from the database (a late federal decree, a republic's own holidays) go on top, per date.

Shortened days (Labour Code art. 95). A working day is one hour shorter when
  (a) the next calendar day is itself a non-working holiday of art. 112 part 1 (1-8 January, 23 February,
      8 March, 1 May, 9 May, 12 June, 4 November), not a day off moved there by a decree or by art. 112 part 2;
  (b) or it is a weekend day made working by a decree, and the weekday whose day off it took is shortened by (a):
      a day worked in exchange keeps the length of the day it replaces (the long-standing rule of HR practice:
      "продолжительность работы в этот день должна соответствовать продолжительности рабочего дня, на который
      перенесён выходной день", e.g. kdelo.ru; Saturday 5 March 2022 was shortened for Monday 7 March).
This reproduces the official production calendars for 2025 and 2026 (as reported from the Government's decrees
and the Ministry of Labour's calendars by Rostrud, the State Duma labour committee and the press):
  2025: 7 March, 30 April, 11 June, 1 November. Not 7 May (8 May is a day off moved from 23 February, not a
        holiday: Rostrud and the State Duma labour committee, May 2025) and not 30 December (31 December is a day
        off moved from 5 January: Y. Nilov, TASS, 19.12.2025). 1 November is a working Saturday standing in for
        Monday 3 November, the eve of 4 November (Kommersant, 01.10.2025, https://www.kommersant.ru/doc/8079701).
  2026: 30 April, 8 May, 11 June, 3 November (Y. Nilov, RIA Novosti, 11.02.2026,
        https://www.amic.ru/news/deputat-nazval-daty-sokraschennyh-rabochih-dney-dlya-rossiyan-v-2026-godu-577792).
        Not 30 December 2026 (31 December is a day off moved from 4 January, as in 2025).
  2024, as a check of rule (b): Saturday 2 November was shortened (it stood in for 30 April, the eve of 1 May),
        Saturday 28 December was not (it stood in for 30 December, followed by a moved day off).
Overrides act on their own date only: a regional "non_working" holiday does not shorten its eve by itself; the
region declares the eve as a "shortened" override (the republic's own decree names it).

Units (domain.md section 5), all counted in the schedule's zone and returned in UTC:
  calendar_hours N  start + N hours of absolute time.
  working_hours N   the moment N hours of office time have passed; a start outside office hours starts the clock
                    at the next opening; a deadline exactly at closing time stays there. 0 gives the clock start.
  calendar_days N   23:59:59 local on (start date + N days), or on the next working day if that date is not one.
  working_days N    23:59:59 local on the N-th working day after the start date (the start date is day zero);
                    N = 0 is read as the calendar-days rule, so that a deadline never falls on a day off.
Day units count dates, not 24-hour periods: `elapsed` in days is the number of dates (working dates) after the
start's date up to the end's date, so `elapsed(start, add_time(start, n, unit))` gives back n, and a pause moves
a day deadline by the dates it covered.

Speed (domain: "a deadline costs microseconds, not a walk over minutes"): per calendar and office hours, a
timeline over whole years holds prefix sums of office microseconds and of working days; a deadline is a bisect.
"""

import datetime as dt
import math
import re
import threading
import zoneinfo
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from numbers import Real
from typing import Literal, get_args

import holidays

DayKind = Literal["working", "non_working", "shortened"]
Unit = Literal["calendar_hours", "working_hours", "calendar_days", "working_days"]

DAY_KINDS: frozenset[str] = frozenset(get_args(DayKind))
UNITS: frozenset[str] = frozenset(get_args(Unit))
END_OF_DAY = dt.time(23, 59, 59)

_US_PER_SECOND = 1_000_000
_US_PER_HOUR = 3_600 * _US_PER_SECOND
_US_PER_DAY = 24 * _US_PER_HOUR
_PRE_HOLIDAY_CUT_US = _US_PER_HOUR
_UTC = dt.UTC
_MIDNIGHT = dt.time(0)
_END_OF_DAY_US = ((23 * 60 + 59) * 60 + 59) * _US_PER_SECOND
_ANSWERING_ZONES = (zoneinfo.ZoneInfo, dt.timezone)
_LAST_ORDINAL = dt.date.max.toordinal()
# The `holidays` labels of moved days off, in its en_US translation: "Day off (substituted from 11/01/2025)".
_SUBSTITUTED_FROM = re.compile(r"substituted from (\d{2})/(\d{2})/(\d{4})")
_OBSERVED = "(observed)"


@dataclass(frozen=True)
class DayOverride:
    """One date made working, non-working or shortened, for the federation or one region (from the database).

    `hours` is the length of that working day when it is not the default: for "working" the full office day,
    for "shortened" the office day less one hour. It must be None for "non_working".
    """

    date: dt.date
    kind: DayKind
    hours: float | None = None

    def __post_init__(self) -> None:
        # A datetime is a date too, and would silently never match a calendar date.
        if not isinstance(self.date, dt.date) or isinstance(self.date, dt.datetime):
            raise ValueError(f"override date must be a date, got {self.date!r}")
        if self.kind not in DAY_KINDS:
            raise ValueError(f"unknown day kind {self.kind!r}; expected one of {sorted(DAY_KINDS)}")
        if self.hours is not None:
            if self.kind == "non_working":
                raise ValueError("a non-working day has no working hours")
            if isinstance(self.hours, bool) or not isinstance(self.hours, Real | Decimal):
                raise ValueError(f"hours must be a number, got {self.hours!r}")
            if not 0 < float(self.hours) <= 24:
                raise ValueError(f"hours must be in (0, 24], got {self.hours!r}")


@dataclass(frozen=True)
class _BaseYear:
    """What the production calendar says about one year, before overrides."""

    days_off: frozenset[dt.date]  # every day off the package lists: holidays, moved days off (weekends aside)
    working_weekends: frozenset[dt.date]
    shortened: frozenset[dt.date]

    def is_working(self, day: dt.date) -> bool:
        if day in self.working_weekends:
            return True
        return day.weekday() < 5 and day not in self.days_off


@lru_cache(maxsize=256)
def _base_year(year: int) -> _BaseYear:
    # Neighbouring years too: the eve of 1 January is in December, and a decree may swap days across years.
    years = [y for y in (year - 1, year, year + 1) if dt.MINYEAR <= y <= dt.MAXYEAR]
    calendar = holidays.country_holidays("RU", years=years, language="en_US")
    days_off = frozenset(calendar)
    working_weekends = frozenset(calendar.weekend_workdays)
    proper_holidays: set[dt.date] = set()
    stands_in_for: dict[dt.date, dt.date] = {}  # working weekend day -> the weekday whose day off it took
    for day in days_off:
        names = calendar.get_list(day)
        if any(not _SUBSTITUTED_FROM.search(name) and not name.endswith(_OBSERVED) for name in names):
            proper_holidays.add(day)
        for name in names:
            match = _SUBSTITUTED_FROM.search(name)
            if match:
                month, day_of_month, source_year = (int(part) for part in match.groups())
                source = dt.date(source_year, month, day_of_month)
                if source in working_weekends:
                    stands_in_for[source] = day

    def is_working(day: dt.date) -> bool:
        return day in working_weekends or (day.weekday() < 5 and day not in days_off)

    def is_eve(day: dt.date) -> bool:
        return day < dt.date.max and day + dt.timedelta(days=1) in proper_holidays

    shortened = set()
    day = dt.date(year, 1, 1)
    while day.year == year:
        if is_working(day):
            replaced = stands_in_for.get(day)
            if is_eve(day) or (replaced is not None and is_eve(replaced)):
                shortened.add(day)
        if day == dt.date.max:
            break
        day += dt.timedelta(days=1)
    in_year = frozenset(d for d in days_off if d.year == year)
    return _BaseYear(in_year, frozenset(d for d in working_weekends if d.year == year), frozenset(shortened))


class _Timeline:
    """Office time of one calendar and one pair of office hours over whole years, as prefix sums.

    Day i is `first + i` (ordinals). `cum[i]` is the office microseconds of the days before day i, `wcount[i]` the
    number of working days before day i, `working` the ordinals of the working days, `closes[i]` the day's closing
    time in microseconds from midnight (equal to `opens` on a day off, so that the day adds nothing).
    """

    __slots__ = ("closes", "cum", "end", "first", "opens", "wcount", "working")

    def __init__(
        self, calendar: "WorkCalendar", opens_us: int, office_us: int, first_year: int, last_year: int
    ) -> None:
        self.first = dt.date(first_year, 1, 1).toordinal()
        self.end = dt.date(last_year, 12, 31).toordinal() + 1
        self.opens = opens_us
        closes: list[int] = []
        cum = [0]
        wcount = [0]
        working: list[int] = []
        total = 0
        count = 0
        for ordinal in range(self.first, self.end):
            length = calendar._office_length_us(dt.date.fromordinal(ordinal), office_us)
            if length is None:
                closes.append(opens_us)
            else:
                close = min(opens_us + length, _US_PER_DAY)
                closes.append(close)
                total += close - opens_us
                count += 1
                working.append(ordinal)
            cum.append(total)
            wcount.append(count)
        self.closes = closes
        self.cum = cum
        self.wcount = wcount
        self.working = working

    def position(self, ordinal: int, time_us: int) -> int:
        """Office microseconds from the timeline's start to a local moment (clamped to office hours)."""
        i = ordinal - self.first
        if time_us <= self.opens:
            return self.cum[i]
        close = self.closes[i]
        if time_us >= close:
            return self.cum[i + 1]
        return self.cum[i] + time_us - self.opens


class WorkCalendar:
    """Russian production calendar (holidays RU) + overrides, for one region. Immutable; built per (region, overrides).

    When two overrides name the same date the later one wins: pass the federal ones first, then the region's.
    """

    __slots__ = ("_overrides", "_timelines")

    def __init__(self, overrides: Iterable[DayOverride] = ()) -> None:
        by_date: dict[dt.date, DayOverride] = {}
        for override in overrides:
            if not isinstance(override, DayOverride):
                raise ValueError(f"expected a DayOverride, got {override!r}")
            by_date[override.date] = override
        self._overrides = by_date
        # Filled lazily per office hours; the calendar stays logically immutable, this is only a cache.
        self._timelines: dict[tuple[dt.time, dt.time], _Timeline] = {}

    def __repr__(self) -> str:
        return f"WorkCalendar({len(self._overrides)} overrides)"

    def is_working_day(self, day: dt.date) -> bool:
        override = self._overrides.get(day)
        if override is not None:
            return override.kind != "non_working"
        return _base_year(day.year).is_working(day)

    def is_shortened(self, day: dt.date) -> bool:
        """Whether the day is a working day one hour shorter (art. 95, see the module docstring) or made shorter."""
        override = self._overrides.get(day)
        if override is not None:
            return override.kind == "shortened"
        return day in _base_year(day.year).shortened

    def _office_length_us(self, day: dt.date, office_us: int) -> int | None:
        """Office time of a day in microseconds, or None for a day off."""
        override = self._overrides.get(day)
        if override is None:
            base = _base_year(day.year)
            if not base.is_working(day):
                return None
            return max(office_us - _PRE_HOLIDAY_CUT_US, 0) if day in base.shortened else office_us
        if override.kind == "non_working":
            return None
        if override.hours is not None:
            return round(float(override.hours) * _US_PER_HOUR)
        return office_us if override.kind == "working" else max(office_us - _PRE_HOLIDAY_CUT_US, 0)

    def _timeline(self, opens: dt.time, closes: dt.time, low: int, high: int) -> _Timeline:
        """A timeline for these office hours covering the ordinals low..high (both included)."""
        key = (opens, closes)
        timeline = self._timelines.get(key)
        if timeline is not None and timeline.first <= low and high < timeline.end:
            return timeline
        if high > _LAST_ORDINAL or low < 1:
            raise ValueError("the deadline falls outside the years 1-9999")
        first_year = dt.date.fromordinal(low).year
        # A year of margin ahead: most deadlines of the next weeks then need no rebuild.
        last_year = min(dt.date.fromordinal(high).year + 1, dt.MAXYEAR)
        if timeline is not None:
            first_year = min(first_year, dt.date.fromordinal(timeline.first).year)
            last_year = max(last_year, dt.date.fromordinal(timeline.end - 1).year)
        opens_us = _time_us(opens)
        timeline = _Timeline(self, opens_us, _time_us(closes) - opens_us, first_year, last_year)
        self._timelines[key] = timeline
        return timeline


@dataclass(frozen=True)
class Schedule:
    """Where and when an organisation works: its calendar, its zone and its office hours (local wall time)."""

    calendar: WorkCalendar
    tz: zoneinfo.ZoneInfo
    opens: dt.time = dt.time(9)
    closes: dt.time = dt.time(18)

    def __post_init__(self) -> None:
        if not isinstance(self.calendar, WorkCalendar):
            raise ValueError(f"calendar must be a WorkCalendar, got {self.calendar!r}")
        if not isinstance(self.tz, dt.tzinfo):
            raise ValueError(f"tz must be a time zone, got {self.tz!r}")
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("office hours are local wall time, without a time zone")
        if not self.opens < self.closes:
            raise ValueError(f"office hours must open before they close, got {self.opens}-{self.closes}")


def _time_us(moment: dt.time | dt.datetime) -> int:
    return ((moment.hour * 60 + moment.minute) * 60 + moment.second) * _US_PER_SECOND + moment.microsecond


def _check_moment(value: dt.datetime, name: str) -> None:
    if not isinstance(value, dt.datetime):
        raise ValueError(f"{name} must be a datetime, got {value!r}")
    zone = value.tzinfo
    # utcoffset() is only asked of unusual tzinfo classes: ZoneInfo and timezone always answer.
    if zone is None or (type(zone) not in _ANSWERING_ZONES and value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got the naive {value!r}")


def _check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; expected one of {sorted(UNITS)}")


def _checked_amount(amount: float, unit: str) -> float:
    # The exact-type test first: the abstract Real check costs more than the rest of a calendar-hours deadline.
    if type(amount) not in (int, float) and (isinstance(amount, bool) or not isinstance(amount, Real | Decimal)):
        raise ValueError(f"amount must be a number, got {amount!r}")
    value = float(amount)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"amount must be a finite number >= 0, got {amount!r}")
    if unit in ("calendar_days", "working_days") and value != int(value):
        raise ValueError(f"{unit} are counted in whole days, got {amount!r}")
    return value


_MIDNIGHTS_KEPT = 100_000
_midnights_utc: dict[tuple[dt.tzinfo, int], dt.datetime | None] = {}
_days_end_utc: dict[tuple[dt.tzinfo, int], dt.datetime] = {}


def _midnight_utc(ordinal: int, tz: dt.tzinfo) -> dt.datetime | None:
    """Local midnight of a date in UTC, or None when the zone's offset changes during that day (DST, a reform)."""
    key = (tz, ordinal)
    try:
        return _midnights_utc[key]
    except KeyError:
        pass
    day = dt.date.fromordinal(ordinal)
    midnight = dt.datetime.combine(day, _MIDNIGHT, tzinfo=tz)
    steady = midnight.utcoffset() == dt.datetime.combine(day, dt.time.max, tzinfo=tz).utcoffset()
    if len(_midnights_utc) >= _MIDNIGHTS_KEPT:
        _midnights_utc.clear()
    _midnights_utc[key] = found = midnight.astimezone(_UTC) if steady else None
    return found


def _local_at(ordinal: int, time_us: int, tz: dt.tzinfo) -> dt.datetime:
    """A local wall-clock moment (date ordinal, microseconds from midnight) as an aware UTC datetime."""
    midnight = _midnight_utc(ordinal, tz)
    if midnight is not None:
        seconds, micro = divmod(time_us, _US_PER_SECOND)
        return midnight + dt.timedelta(0, seconds, micro)
    # Wall-clock arithmetic on purpose: office hours are local time whatever the offset at that hour.
    local_midnight = dt.datetime.combine(dt.date.fromordinal(ordinal), _MIDNIGHT, tzinfo=tz)
    return (local_midnight + dt.timedelta(microseconds=time_us)).astimezone(_UTC)


def _end_of_day(ordinal: int, tz: dt.tzinfo) -> dt.datetime:
    """23:59:59 local on a date, in UTC: every day-unit deadline, so it is kept."""
    key = (tz, ordinal)
    found = _days_end_utc.get(key)
    if found is None:
        if len(_days_end_utc) >= _MIDNIGHTS_KEPT:
            _days_end_utc.clear()
        _days_end_utc[key] = found = _local_at(ordinal, _END_OF_DAY_US, tz)
    return found


def _add_office_us(local: dt.datetime, amount_us: int, schedule: Schedule) -> dt.datetime:
    ordinal = local.toordinal()
    if amount_us > (_LAST_ORDINAL - ordinal) * _US_PER_DAY:
        # Refused before building timelines up to the year 9999 only to find it too short.
        raise ValueError("the deadline falls outside the years 1-9999")
    opens, closes = schedule.opens, schedule.closes
    timeline = schedule.calendar._timeline(opens, closes, ordinal, ordinal)
    target = timeline.position(ordinal, _time_us(local)) + amount_us
    # The target must lie inside the timeline; with 0 it must be before its end, so that a next opening exists.
    while target > timeline.cum[-1] or (amount_us == 0 and target == timeline.cum[-1]):
        office_us_per_day = max(_time_us(closes) - _time_us(opens), _US_PER_HOUR)
        # Twice the office days still needed, in calendar days, covers weekends and holidays with room to spare.
        high = min(timeline.end + 2 * (target - timeline.cum[-1]) // office_us_per_day + 366, _LAST_ORDINAL + 1)
        timeline = schedule.calendar._timeline(opens, closes, ordinal, high)
    # Day j holds the target when cum[j] < target <= cum[j + 1]: a target at closing time stays on that day.
    # For 0 the clock start is wanted instead: the first day with office time left at or after the start.
    cum = timeline.cum
    day = (bisect_left(cum, target) if amount_us else bisect_right(cum, target)) - 1
    return _local_at(timeline.first + day, timeline.opens + target - cum[day], schedule.tz)


def _first_working_on_or_after(ordinal: int, schedule: Schedule) -> int:
    timeline = schedule.calendar._timeline(schedule.opens, schedule.closes, ordinal, ordinal)
    while timeline.wcount[ordinal - timeline.first] >= len(timeline.working):
        timeline = schedule.calendar._timeline(schedule.opens, schedule.closes, ordinal, timeline.end + 366)
    return timeline.working[timeline.wcount[ordinal - timeline.first]]


def _nth_working_after(ordinal: int, count: int, schedule: Schedule) -> int:
    if count == 0:
        return _first_working_on_or_after(ordinal, schedule)
    timeline = schedule.calendar._timeline(schedule.opens, schedule.closes, ordinal, ordinal)
    # wcount[i + 1] working days up to and including the start date; the next ones follow in `working`.
    while (index := timeline.wcount[ordinal - timeline.first + 1] + count - 1) >= len(timeline.working):
        timeline = schedule.calendar._timeline(schedule.opens, schedule.closes, ordinal, timeline.end + count * 2 + 366)
    return timeline.working[index]


def add_time(start: dt.datetime, amount: int | float, unit: Unit, schedule: Schedule) -> dt.datetime:
    """The deadline `amount` `unit`s after `start` (domain.md section 5), aware, in UTC."""
    _check_moment(start, "start")
    _check_unit(unit)
    value = _checked_amount(amount, unit)
    if unit == "calendar_hours":
        # In UTC: adding to an aware local datetime would add wall-clock time.
        seconds, micro = divmod(round(value * _US_PER_HOUR), _US_PER_SECOND)
        return start.astimezone(_UTC) + dt.timedelta(0, seconds, micro)
    local = start.astimezone(schedule.tz)
    if unit == "working_hours":
        return _add_office_us(local, round(value * _US_PER_HOUR), schedule)
    days = int(value)
    if unit == "calendar_days":
        due = _first_working_on_or_after(local.toordinal() + days, schedule)
    else:
        due = _nth_working_after(local.toordinal(), days, schedule)
    return _end_of_day(due, schedule.tz)


def _office_us_between(start: dt.datetime, end: dt.datetime, schedule: Schedule) -> int:
    """Office microseconds from `start` to a later `end`: exact integers, so a pause shifts without rounding."""
    start_local = start.astimezone(schedule.tz)
    end_local = end.astimezone(schedule.tz)
    low, high = start_local.toordinal(), end_local.toordinal()
    timeline = schedule.calendar._timeline(schedule.opens, schedule.closes, low, high)
    return timeline.position(high, _time_us(end_local)) - timeline.position(low, _time_us(start_local))


def _elapsed_forward(start: dt.datetime, end: dt.datetime, unit: str, schedule: Schedule) -> int | float:
    if unit == "calendar_hours":
        return (end.astimezone(_UTC) - start.astimezone(_UTC)).total_seconds() / 3600
    if unit == "working_hours":
        return _office_us_between(start, end, schedule) / _US_PER_HOUR
    low = start.astimezone(schedule.tz).toordinal()
    high = end.astimezone(schedule.tz).toordinal()
    if unit == "calendar_days":
        return high - low
    timeline = schedule.calendar._timeline(schedule.opens, schedule.closes, low, high)
    return timeline.wcount[high - timeline.first + 1] - timeline.wcount[low - timeline.first + 1]


def elapsed(start: dt.datetime, end: dt.datetime, unit: Unit, schedule: Schedule) -> float:
    """Time from `start` to `end` in the unit (negative when `end` is earlier).

    calendar_hours: hours; working_hours: office hours only; calendar_days: dates after start's date up to end's
    date; working_days: working dates after start's date up to end's date (whole days passed, start is day zero).
    """
    _check_moment(start, "start")
    _check_moment(end, "end")
    _check_unit(unit)
    if end < start:
        return -float(_elapsed_forward(end, start, unit, schedule))
    return float(_elapsed_forward(start, end, unit, schedule))


def shift_for_pause(
    deadline: dt.datetime, paused_at: dt.datetime, resumed_at: dt.datetime, unit: Unit, schedule: Schedule
) -> dt.datetime:
    """The deadline moved forward by the paused time measured in the target's unit (domain.md "Clock stops").

    A pause that covered no office time (working hours) or no date boundary (days) leaves the deadline where it
    was. A day deadline keeps its time of day; in calendar days it moves on to the next working day if needed.
    """
    _check_moment(deadline, "deadline")
    _check_moment(paused_at, "paused_at")
    _check_moment(resumed_at, "resumed_at")
    _check_unit(unit)
    if resumed_at < paused_at:
        raise ValueError(f"resumed_at {resumed_at.isoformat()} is before paused_at {paused_at.isoformat()}")
    if unit == "calendar_hours":
        return deadline.astimezone(_UTC) + (resumed_at.astimezone(_UTC) - paused_at.astimezone(_UTC))
    if unit == "working_hours":
        paused = _office_us_between(paused_at, resumed_at, schedule)
    else:
        paused = int(_elapsed_forward(paused_at, resumed_at, unit, schedule))
    if paused == 0:
        # Not a zero-length add: from a deadline at closing time that would jump to the next opening.
        return deadline.astimezone(_UTC)
    local = deadline.astimezone(schedule.tz)
    if unit == "working_hours":
        return _add_office_us(local, paused, schedule)
    if unit == "calendar_days":
        due = _first_working_on_or_after(local.toordinal() + paused, schedule)
    else:
        due = _nth_working_after(local.toordinal(), paused, schedule)
    return _local_at(due, _time_us(local), schedule.tz)


_CALENDAR_CACHE_SIZE = 512
_calendars: OrderedDict[Hashable, tuple[tuple[DayOverride, ...], WorkCalendar]] = OrderedDict()
_calendars_lock = threading.Lock()


def get_calendar(key: Hashable, overrides: tuple[DayOverride, ...]) -> WorkCalendar:
    """The calendar for `key` (e.g. region code + overrides version), built once and kept with its timelines.

    The overrides are compared too, so a key that was not bumped after a change cannot serve a stale calendar.
    """
    overrides = tuple(overrides)
    with _calendars_lock:
        cached = _calendars.get(key)
        if cached is not None and (cached[0] is overrides or cached[0] == overrides):
            _calendars.move_to_end(key)
            return cached[1]
    calendar = WorkCalendar(overrides)
    with _calendars_lock:
        _calendars[key] = (overrides, calendar)
        _calendars.move_to_end(key)
        while len(_calendars) > _CALENDAR_CACHE_SIZE:
            _calendars.popitem(last=False)
    return calendar
