"""Working-time arithmetic (core.worktime): domain.md section 5 on the real 2024-2027 production calendars.

Plain pytest, no database. Every moment is fixed; expected deadlines are written in local time with the offset.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.worktime import (
    DayOverride,
    Schedule,
    WorkCalendar,
    add_time,
    elapsed,
    get_calendar,
    shift_for_pause,
)

MOSCOW = ZoneInfo("Europe/Moscow")
KALININGRAD = ZoneInfo("Europe/Kaliningrad")
ANADYR = ZoneInfo("Asia/Anadyr")
YEKATERINBURG = ZoneInfo("Asia/Yekaterinburg")

BASE = WorkCalendar()
# A republic's own day off (Kurban Bayram, Friday 6 June 2025) and a Saturday it made working.
REGIONAL = WorkCalendar(
    [DayOverride(dt.date(2025, 6, 6), "non_working"), DayOverride(dt.date(2025, 10, 18), "working")]
)
SATURDAY_FOUR_HOURS = WorkCalendar([DayOverride(dt.date(2025, 10, 18), "working", hours=4)])
MONDAY_SHORTENED = WorkCalendar([DayOverride(dt.date(2025, 10, 20), "shortened")])
MONDAY_SIX_HOURS = WorkCalendar([DayOverride(dt.date(2025, 10, 20), "shortened", hours=6)])


def at(text: str, tz: ZoneInfo = MOSCOW) -> dt.datetime:
    """A moment written as ISO 8601: with an offset as given, without one in the zone `tz`."""
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def schedule(tz: ZoneInfo = MOSCOW, calendar: WorkCalendar = BASE, opens: int = 9, closes: int = 18) -> Schedule:
    return Schedule(calendar=calendar, tz=tz, opens=dt.time(opens), closes=dt.time(closes))


def rows(*table: tuple) -> list[object]:
    """Table rows (name, *values[, schedule options]) as pytest params named after their first column."""
    params = []
    for name, *values in table:
        options = values.pop() if isinstance(values[-1], dict) else {}
        params.append(pytest.param(*values, options, id=name))
    return params


KGD = {"tz": KALININGRAD}
CHUKOTKA = {"tz": ANADYR}
REGION = {"calendar": REGIONAL}
OFFICE_8_17 = {"opens": 8, "closes": 17}
OFFICE_10_19 = {"opens": 10, "closes": 19}
SATURDAY_4H = {"calendar": SATURDAY_FOUR_HOURS}
MONDAY_SHORT = {"calendar": MONDAY_SHORTENED}
MONDAY_6H = {"calendar": MONDAY_SIX_HOURS}

# Moments without an offset are local to the schedule's zone (Moscow unless the row says otherwise).
ADD_TIME_CASES = rows(
    # calendar_hours: absolute time, the calendar plays no part.
    ("calendar hours over a day", "2025-01-10 10:00", 24, "calendar_hours", "2025-01-11 10:00"),
    ("calendar hours in Kaliningrad", "2025-03-07 17:00", 1.5, "calendar_hours", "2025-03-07 18:30", KGD),
    ("calendar hours over New Year in Chukotka", "2025-12-31 23:00", 2, "calendar_hours", "2026-01-01 01:00", CHUKOTKA),
    # working_hours
    ("domain example: Friday 17:30 + 8 working hours", "2025-10-17 17:30", 8, "working_hours", "2025-10-20 16:30"),
    ("working Saturday 28.12.2024 is a full day", "2024-12-27 17:00", 2, "working_hours", "2024-12-28 10:00"),
    ("New Year holidays 2025", "2024-12-28 17:00", 2, "working_hours", "2025-01-09 10:00"),
    ("31.12.2025 and New Year holidays 2026", "2025-12-30 17:00", 2, "working_hours", "2026-01-12 10:00"),
    ("31.12.2026 and New Year holidays 2027", "2026-12-30 17:00", 2, "working_hours", "2027-01-11 10:00"),
    ("working Saturday 1 November 2025", "2025-10-31 17:00", 2, "working_hours", "2025-11-01 10:00"),
    ("1.11.2025 closes at 17:00, 3.11 is off", "2025-11-01 16:00", 2, "working_hours", "2025-11-05 10:00"),
    ("deadline exactly at closing time stays there", "2025-10-20 10:00", 8, "working_hours", "2025-10-20 18:00"),
    ("shortened 7.03.2025 closes at 17:00", "2025-03-07 09:00", 8, "working_hours", "2025-03-07 17:00"),
    ("after the shortened 7.03.2025", "2025-03-07 09:00", 9, "working_hours", "2025-03-10 10:00"),
    ("shortened 30.04.2025, then 1 and 2 May off", "2025-04-30 16:30", 1, "working_hours", "2025-05-05 09:30"),
    ("2.05.2025 is a moved day off", "2025-04-30 09:00", 10, "working_hours", "2025-05-05 11:00"),
    ("7.05.2025 is a full day", "2025-05-07 17:00", 1, "working_hours", "2025-05-07 18:00"),
    ("8.05.2025 is a moved day off", "2025-05-07 17:30", 1, "working_hours", "2025-05-12 09:30"),
    ("13.06.2025 is a moved day off", "2025-06-11 16:00", 2, "working_hours", "2025-06-16 10:00"),
    ("start before opening", "2025-10-21 07:00", 2, "working_hours", "2025-10-21 11:00"),
    ("start after closing", "2025-10-21 20:00", 2, "working_hours", "2025-10-22 11:00"),
    ("start on a weekend", "2025-10-18 12:00", 2, "working_hours", "2025-10-20 11:00"),
    ("a quarter of an hour", "2025-10-20 09:00", 0.25, "working_hours", "2025-10-20 09:15"),
    ("zero hours after closing is the next opening", "2025-10-20 19:00", 0, "working_hours", "2025-10-21 09:00"),
    ("Kaliningrad office hours", "2025-10-17 17:30", 8, "working_hours", "2025-10-20 16:30", KGD),
    ("Chukotka office hours, start in UTC", "2025-10-17 05:30+00:00", 8, "working_hours", "2025-10-20 16:30", CHUKOTKA),
    ("office hours 08-17", "2025-10-17 16:30", 8, "working_hours", "2025-10-20 15:30", OFFICE_8_17),
    ("office hours 10-19, shortened", "2025-03-07 17:00", 2, "working_hours", "2025-03-10 11:00", OFFICE_10_19),
    ("regional day off", "2025-06-05 17:00", 2, "working_hours", "2025-06-09 10:00", REGION),
    ("same start without the regional day off", "2025-06-05 17:00", 2, "working_hours", "2025-06-06 10:00"),
    ("regional working Saturday", "2025-10-17 17:30", 8, "working_hours", "2025-10-18 16:30", REGION),
    ("working override of 4 hours", "2025-10-17 17:30", 8, "working_hours", "2025-10-20 12:30", SATURDAY_4H),
    ("shortened override", "2025-10-20 09:00", 8, "working_hours", "2025-10-20 17:00", MONDAY_SHORT),
    ("shortened override of 6 hours", "2025-10-20 09:00", 8, "working_hours", "2025-10-21 11:00", MONDAY_6H),
    # calendar_days: end of the date, moved on to the next working day (the Civil Code rule).
    ("calendar days in a plain week", "2025-10-20 15:00", 3, "calendar_days", "2025-10-23 23:59:59"),
    ("calendar days ending on a Saturday", "2025-10-17 10:00", 1, "calendar_days", "2025-10-20 23:59:59"),
    ("zero calendar days on a Saturday", "2025-10-18 12:00", 0, "calendar_days", "2025-10-20 23:59:59"),
    ("calendar days into New Year 2025", "2024-12-27 10:00", 5, "calendar_days", "2025-01-09 23:59:59"),
    ("calendar days onto 2.05.2025", "2025-04-28 10:00", 4, "calendar_days", "2025-05-05 23:59:59"),
    ("calendar days onto 13.06.2025", "2025-06-10 10:00", 3, "calendar_days", "2025-06-16 23:59:59"),
    ("calendar days onto working Saturday 1.11.2025", "2025-10-27 10:00", 5, "calendar_days", "2025-11-01 23:59:59"),
    ("calendar days onto 3.11.2025", "2025-10-31 10:00", 3, "calendar_days", "2025-11-05 23:59:59"),
    ("calendar days onto 31.12.2025", "2025-12-30 10:00", 1, "calendar_days", "2026-01-12 23:59:59"),
    ("calendar days onto 9.01.2026", "2025-12-29 10:00", 11, "calendar_days", "2026-01-12 23:59:59"),
    ("calendar days onto 31.12.2026", "2026-12-30 10:00", 1, "calendar_days", "2027-01-11 23:59:59"),
    ("calendar days in Kaliningrad", "2025-10-20 21:30+00:00", 1, "calendar_days", "2025-10-21 23:59:59", KGD),
    ("calendar days in Chukotka", "2025-10-20 13:00+00:00", 1, "calendar_days", "2025-10-22 23:59:59", CHUKOTKA),
    ("calendar days onto a regional day off", "2025-06-04 10:00", 2, "calendar_days", "2025-06-09 23:59:59", REGION),
    # working_days: end of the N-th working day after the start date.
    ("one working day", "2025-10-20 10:00", 1, "working_days", "2025-10-21 23:59:59"),
    ("one working day from a Friday", "2025-10-17 10:00", 1, "working_days", "2025-10-20 23:59:59"),
    ("one working day from a Saturday", "2025-10-18 10:00", 1, "working_days", "2025-10-20 23:59:59"),
    ("working days over New Year 2025", "2024-12-27 10:00", 2, "working_days", "2025-01-09 23:59:59"),
    ("working days over New Year 2026", "2025-12-29 10:00", 3, "working_days", "2026-01-13 23:59:59"),
    ("working days over 31.12.2025", "2025-12-26 10:00", 3, "working_days", "2026-01-12 23:59:59"),
    ("working days from a holiday over 9.01.2026", "2026-01-08 10:00", 1, "working_days", "2026-01-12 23:59:59"),
    ("working days over 31.12.2026", "2026-12-29 10:00", 2, "working_days", "2027-01-11 23:59:59"),
    ("working days over 8.05.2025", "2025-05-06 10:00", 2, "working_days", "2025-05-12 23:59:59"),
    ("working days onto Saturday 1.11.2025", "2025-10-30 10:00", 2, "working_days", "2025-11-01 23:59:59"),
    ("working days over 3.11.2025", "2025-10-31 10:00", 2, "working_days", "2025-11-05 23:59:59"),
    ("thirty working days", "2025-10-20 10:00", 30, "working_days", "2025-12-02 23:59:59"),
    ("working days over a regional day off", "2025-06-05 10:00", 1, "working_days", "2025-06-09 23:59:59", REGION),
    ("working days onto a regional working day", "2025-10-17 10:00", 1, "working_days", "2025-10-18 23:59:59", REGION),
    # 01:00 on Friday in Chukotka is still Thursday in Moscow.
    ("working days in Chukotka", "2025-10-16 13:00+00:00", 1, "working_days", "2025-10-20 23:59:59", CHUKOTKA),
)


@pytest.mark.parametrize(("start", "amount", "unit", "expected", "options"), ADD_TIME_CASES)
def test_add_time_gives_the_deadline_of_domain_section_5(
    start: str, amount: float, unit: str, expected: str, options: dict
) -> None:
    plan = schedule(**options)

    deadline = add_time(at(start, plan.tz), amount, unit, plan)

    assert deadline == at(expected, plan.tz)
    assert deadline.utcoffset() == dt.timedelta(0)


# Two lines a row: (name, unit, [options]) then (deadline, paused at, resumed at, moved deadline).
# fmt: off
PAUSE_CASES = rows(
    ("calendar hours", "calendar_hours",
     "2025-10-21 10:00", "2025-10-20 12:00", "2025-10-20 15:30", "2025-10-21 13:30"),
    ("working hours", "working_hours",
     "2025-10-20 16:30", "2025-10-20 10:00", "2025-10-20 17:00", "2025-10-21 14:30"),
    ("working hours over a weekend count Friday's last hour", "working_hours",
     "2025-10-21 12:00", "2025-10-17 17:00", "2025-10-20 08:00", "2025-10-21 13:00"),
    ("no office time paused leaves a closing-time deadline", "working_hours",
     "2025-10-20 18:00", "2025-10-18 10:00", "2025-10-19 12:00", "2025-10-20 18:00"),
    ("a closing-time deadline moves to the next morning", "working_hours",
     "2025-10-20 18:00", "2025-10-20 10:00", "2025-10-20 11:00", "2025-10-21 10:00"),
    ("working hours over New Year 2026", "working_hours",
     "2025-12-30 17:00", "2025-12-30 16:00", "2026-01-12 10:00", "2026-01-12 11:00"),
    ("working hours in Kaliningrad", "working_hours",
     "2025-10-20 16:30", "2025-10-20 09:00", "2025-10-20 10:00", "2025-10-20 17:30", KGD),
    ("calendar days move by the dates crossed", "calendar_days",
     "2025-10-23 23:59:59", "2025-10-21 17:00", "2025-10-22 10:00", "2025-10-24 23:59:59"),
    ("calendar days moved onto a Saturday go on to Monday", "calendar_days",
     "2025-10-24 23:59:59", "2025-10-21 10:00", "2025-10-22 10:00", "2025-10-27 23:59:59"),
    ("a pause within one date leaves calendar days", "calendar_days",
     "2025-10-24 23:59:59", "2025-10-21 10:00", "2025-10-21 16:00", "2025-10-24 23:59:59"),
    ("working days move by the working dates crossed", "working_days",
     "2025-10-24 23:59:59", "2025-10-17 17:00", "2025-10-20 10:00", "2025-10-27 23:59:59"),
    ("a pause within a weekend leaves working days", "working_days",
     "2025-10-24 23:59:59", "2025-10-18 10:00", "2025-10-19 18:00", "2025-10-24 23:59:59"),
    ("working days moved onto Saturday 1.11.2025", "working_days",
     "2025-10-31 23:59:59", "2025-10-30 12:00", "2025-10-31 12:00", "2025-11-01 23:59:59"),
)
# fmt: on


@pytest.mark.parametrize(("unit", "deadline", "paused_at", "resumed_at", "expected", "options"), PAUSE_CASES)
def test_shift_for_pause_moves_the_deadline_by_the_paused_time_in_its_unit(
    unit: str, deadline: str, paused_at: str, resumed_at: str, expected: str, options: dict
) -> None:
    plan = schedule(**options)

    moved = shift_for_pause(at(deadline, plan.tz), at(paused_at, plan.tz), at(resumed_at, plan.tz), unit, plan)

    assert moved == at(expected, plan.tz)
    assert moved.utcoffset() == dt.timedelta(0)


def test_shortened_days_are_those_of_the_official_2025_and_2026_calendars() -> None:
    def shortened(year: int) -> list[dt.date]:
        days = (dt.date(year, 1, 1) + dt.timedelta(days=n) for n in range(365))
        return [day for day in days if BASE.is_shortened(day)]

    assert shortened(2025) == [dt.date(2025, 3, 7), dt.date(2025, 4, 30), dt.date(2025, 6, 11), dt.date(2025, 11, 1)]
    assert shortened(2026) == [dt.date(2026, 4, 30), dt.date(2026, 5, 8), dt.date(2026, 6, 11), dt.date(2026, 11, 3)]
    # A working Saturday keeps the length of the weekday it stands in for: 30 April 2024 (eve of 1 May), yes;
    # 30 December 2024 (before a moved day off), no.
    assert BASE.is_shortened(dt.date(2024, 11, 2))
    assert not BASE.is_shortened(dt.date(2024, 12, 28))


@pytest.mark.parametrize(
    "day",
    [dt.date(2025, 5, 7), dt.date(2025, 12, 30), dt.date(2026, 12, 30), dt.date(2026, 2, 20), dt.date(2026, 3, 6)],
)
def test_eve_of_a_moved_day_off_or_of_a_weekend_is_not_shortened(day: dt.date) -> None:
    assert BASE.is_working_day(day)
    assert not BASE.is_shortened(day)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (dt.date(2025, 1, 8), False),
        (dt.date(2025, 1, 9), True),
        (dt.date(2025, 5, 2), False),
        (dt.date(2025, 5, 8), False),
        (dt.date(2025, 6, 13), False),
        (dt.date(2025, 11, 1), True),
        (dt.date(2025, 11, 3), False),
        (dt.date(2025, 12, 31), False),
        (dt.date(2026, 1, 9), False),
        (dt.date(2026, 1, 12), True),
        (dt.date(2026, 3, 9), False),
        (dt.date(2026, 12, 31), False),
    ],
)
def test_moved_days_off_and_working_saturdays_follow_the_decrees(day: dt.date, working: bool) -> None:
    assert BASE.is_working_day(day) is working


def test_overrides_decide_their_own_date_only() -> None:
    assert not REGIONAL.is_working_day(dt.date(2025, 6, 6))
    assert REGIONAL.is_working_day(dt.date(2025, 10, 18))
    assert not REGIONAL.is_shortened(dt.date(2025, 6, 5))  # the eve of a regional day off: declared, not implied
    assert MONDAY_SHORTENED.is_shortened(dt.date(2025, 10, 20))
    assert not WorkCalendar([DayOverride(dt.date(2025, 3, 7), "working")]).is_shortened(dt.date(2025, 3, 7))


@pytest.mark.parametrize(
    ("start", "end", "unit", "expected"),
    [
        ("2025-10-17T17:30+03:00", "2025-10-20T16:30+03:00", "working_hours", 8.0),
        ("2025-10-17T17:30+03:00", "2025-10-20T16:30+03:00", "calendar_hours", 71.0),
        ("2025-10-17T17:30+03:00", "2025-10-20T16:30+03:00", "calendar_days", 3.0),
        ("2025-10-17T17:30+03:00", "2025-10-20T16:30+03:00", "working_days", 1.0),
        ("2025-10-20T16:30+03:00", "2025-10-17T17:30+03:00", "working_hours", -8.0),
        ("2025-12-30T10:00+03:00", "2026-01-12T10:00+03:00", "working_days", 1.0),
    ],
)
def test_elapsed_measures_time_in_the_unit(start: str, end: str, unit: str, expected: float) -> None:
    assert elapsed(at(start), at(end), unit, schedule()) == expected


@pytest.mark.parametrize(
    ("start", "amount", "unit"),
    [
        (dt.datetime(2025, 10, 20, 10), 1, "working_hours"),  # naive
        (at("2025-10-20T10:00+03:00"), -1, "working_hours"),
        (at("2025-10-20T10:00+03:00"), float("nan"), "calendar_hours"),
        (at("2025-10-20T10:00+03:00"), 1, "fortnights"),
        (at("2025-10-20T10:00+03:00"), 1.5, "working_days"),
        (at("2025-10-20T10:00+03:00"), "8", "working_hours"),
    ],
)
def test_add_time_refuses_bad_input(start: dt.datetime, amount: object, unit: str) -> None:
    with pytest.raises(ValueError):
        add_time(start, amount, unit, schedule())  # type: ignore[arg-type]


def test_bad_pauses_overrides_and_schedules_are_refused() -> None:
    with pytest.raises(ValueError):
        shift_for_pause(
            at("2025-10-21T10:00+03:00"),
            at("2025-10-20T12:00+03:00"),
            at("2025-10-20T11:00+03:00"),
            "working_hours",
            schedule(),
        )
    with pytest.raises(ValueError):
        elapsed(at("2025-10-20T10:00+03:00"), dt.datetime(2025, 10, 21), "working_hours", schedule())
    with pytest.raises(ValueError):
        DayOverride(dt.date(2025, 10, 20), "holiday")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DayOverride(dt.date(2025, 10, 20), "non_working", hours=4)
    with pytest.raises(ValueError):
        DayOverride(dt.date(2025, 10, 20), "working", hours=0)
    with pytest.raises(ValueError):
        schedule(opens=18, closes=9)


def test_get_calendar_is_cached_per_key_and_rebuilt_when_the_overrides_differ() -> None:
    overrides = (DayOverride(dt.date(2025, 6, 6), "non_working"),)

    first = get_calendar(("RU-TA", "test", 1), overrides)

    assert get_calendar(("RU-TA", "test", 1), overrides) is first
    assert get_calendar(("RU-TA", "test", 1), tuple(overrides)) is first
    assert get_calendar(("RU-TA", "test", 2), overrides) is not first
    stale = get_calendar(("RU-TA", "test", 1), ())
    assert stale is not first
    assert stale.is_working_day(dt.date(2025, 6, 6))


# Properties: random starts over 2024-2027 in four zones, against the same real calendar.
ZONES = [MOSCOW, KALININGRAD, YEKATERINBURG, ANADYR]
starts = st.datetimes(
    min_value=dt.datetime(2024, 6, 1), max_value=dt.datetime(2027, 6, 30), timezones=st.sampled_from(ZONES)
)
minutes = st.integers(min_value=0, max_value=30 * 9 * 60)
units = st.sampled_from(["calendar_hours", "working_hours", "calendar_days", "working_days"])
# No example database: tests must not write files, and the examples are cheap to regenerate.
few = settings(max_examples=150, deadline=None, database=None)


def schedule_for(start: dt.datetime) -> Schedule:
    return schedule(tz=start.tzinfo)  # type: ignore[arg-type]


@few
@given(
    start=starts, amount=st.integers(min_value=0, max_value=40), unit=st.sampled_from(["calendar_days", "working_days"])
)
def test_day_deadlines_never_fall_on_a_day_off(start: dt.datetime, amount: int, unit: str) -> None:
    local = add_time(start, amount, unit, schedule_for(start)).astimezone(start.tzinfo)

    assert BASE.is_working_day(local.date())
    assert local.time() == dt.time(23, 59, 59)
    assert local.date() >= start.date()


@few
@given(start=starts, first=minutes, second=minutes)
def test_working_hours_added_in_two_steps_equal_added_at_once(start: dt.datetime, first: int, second: int) -> None:
    plan = schedule_for(start)

    in_two_steps = add_time(add_time(start, first / 60, "working_hours", plan), second / 60, "working_hours", plan)

    assert in_two_steps == add_time(start, (first + second) / 60, "working_hours", plan)


@few
@given(start=starts, unit=units, smaller=st.integers(0, 30 * 24), larger=st.integers(0, 30 * 24))
def test_deadlines_never_move_backwards_as_the_amount_grows(
    start: dt.datetime, unit: str, smaller: int, larger: int
) -> None:
    smaller, larger = sorted((smaller, larger))
    if unit in ("calendar_days", "working_days"):
        smaller, larger = smaller // 24, larger // 24
    plan = schedule_for(start)

    assert add_time(start, smaller, unit, plan) <= add_time(start, larger, unit, plan)


@few
@given(
    day=st.dates(min_value=dt.date(2024, 6, 1), max_value=dt.date(2027, 6, 30)),
    minute_of_day=st.integers(min_value=9 * 60, max_value=17 * 60 - 1),  # inside even a shortened day
    zone=st.sampled_from(ZONES),
    amount=minutes,
)
def test_elapsed_working_hours_gives_back_the_amount_added(
    day: dt.date, minute_of_day: int, zone: ZoneInfo, amount: int
) -> None:
    assume(BASE.is_working_day(day))
    start = dt.datetime.combine(day, dt.time(minute_of_day // 60, minute_of_day % 60), tzinfo=zone)
    plan = schedule(tz=zone)

    assert elapsed(start, add_time(start, amount / 60, "working_hours", plan), "working_hours", plan) == amount / 60


@few
@given(start=starts, amount=st.integers(1, 20), pause_start=st.integers(0, 20 * 24 * 60), pause=minutes)
def test_a_pause_in_working_days_equals_a_longer_term(
    start: dt.datetime, amount: int, pause_start: int, pause: int
) -> None:
    plan = schedule_for(start)
    paused_at = start + dt.timedelta(minutes=pause_start)
    resumed_at = paused_at + dt.timedelta(minutes=pause)
    paused_days = elapsed(paused_at, resumed_at, "working_days", plan)

    moved = shift_for_pause(add_time(start, amount, "working_days", plan), paused_at, resumed_at, "working_days", plan)

    assert moved == add_time(start, amount + int(paused_days), "working_days", plan)


@few
@given(start=starts, amount=minutes, pause_start=st.integers(0, 20 * 24 * 60), pause=minutes)
def test_a_pause_in_working_hours_adds_exactly_the_paused_office_time(
    start: dt.datetime, amount: int, pause_start: int, pause: int
) -> None:
    plan = schedule_for(start)
    paused_at = start + dt.timedelta(minutes=pause_start)
    resumed_at = paused_at + dt.timedelta(minutes=pause)
    deadline = add_time(start, amount / 60, "working_hours", plan)

    moved = shift_for_pause(deadline, paused_at, resumed_at, "working_hours", plan)

    assert moved >= deadline
    paused_hours = elapsed(paused_at, resumed_at, "working_hours", plan)
    assert elapsed(start, moved, "working_hours", plan) == pytest.approx(amount / 60 + paused_hours, abs=1e-9)


def naive_office_walk(start: dt.datetime, amount_minutes: int, plan: Schedule) -> dt.datetime:
    """The definition of working hours, minute by minute: slow and obviously right, for whole-minute starts."""
    moment = start.astimezone(plan.tz).replace(tzinfo=None)
    left = amount_minutes
    while True:
        day = moment.date()
        closes = dt.datetime.combine(day, plan.closes) - dt.timedelta(hours=plan.calendar.is_shortened(day))
        opens = dt.datetime.combine(day, plan.opens)
        if plan.calendar.is_working_day(day) and opens <= moment and moment + dt.timedelta(minutes=1) <= closes:
            left -= 1
        moment += dt.timedelta(minutes=1)
        if left == 0:
            return moment.replace(tzinfo=plan.tz)


@settings(max_examples=40, deadline=None, database=None)
@given(start=starts.map(lambda moment: moment.replace(second=0, microsecond=0)), amount=st.integers(1, 16 * 60))
def test_working_hours_agree_with_a_minute_by_minute_walk(start: dt.datetime, amount: int) -> None:
    plan = schedule_for(start)

    assert add_time(start, amount / 60, "working_hours", plan) == naive_office_walk(start, amount, plan)
