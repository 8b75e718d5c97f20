"""The few SQL fragments that differ between PostgreSQL (production, CI) and SQLite (`make run`).

PostgreSQL does time zones natively. SQLite has none, so the project registers small deterministic functions
on each SQLite connection (`register_sqlite_functions`, connected in ratings.apps): the same statements then
run there, still set-based, with the per-row arithmetic in those functions.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Dialect:
    vendor: str

    @property
    def postgres(self) -> bool:
        return self.vendor == "postgresql"

    def local_date(self, moment: str, zone: str) -> str:
        if self.postgres:
            return f"(({moment}) AT TIME ZONE {zone})::date"
        return f"otk_local_date({moment}, {zone})"

    def local_us(self, moment: str, zone: str) -> str:
        """Microseconds from local midnight."""
        if self.postgres:
            local = f"(({moment}) AT TIME ZONE {zone})"
            return f"(EXTRACT(EPOCH FROM ({local} - date_trunc('day', {local}))) * 1000000)::bigint"
        return f"otk_local_us({moment}, {zone})"

    def epoch_us(self, moment: str) -> str:
        if self.postgres:
            return f"(EXTRACT(EPOCH FROM {moment}) * 1000000)::bigint"
        return f"otk_epoch_us({moment})"

    def time_us(self, value: str) -> str:
        """Microseconds from midnight of a TIME column."""
        if self.postgres:
            return f"(EXTRACT(EPOCH FROM {value}) * 1000000)::bigint"
        return f"otk_time_us({value})"

    def greatest(self, *values: str) -> str:
        return f"{'GREATEST' if self.postgres else 'MAX'}({', '.join(values)})"

    def least(self, *values: str) -> str:
        return f"{'LEAST' if self.postgres else 'MIN'}({', '.join(values)})"

    def month_start(self, day: str) -> str:
        if self.postgres:
            return f"date_trunc('month', {day})::date"
        return f"date({day}, 'start of month')"

    @property
    def count(self) -> str:
        """COUNT(*) as the rollup columns' integer on PostgreSQL (`ratings_count`, migration 0007)."""
        return "ratings_count(*)" if self.postgres else "COUNT(*)"

    @property
    def timestamp_parameter(self) -> str:
        """A `%s` parameter holding a moment, typed where a statement gives it no context (a CTE's column)."""
        return "CAST(%s AS timestamp with time zone)" if self.postgres else "%s"

    @property
    def floor_int(self) -> str:
        # Only ever applied to non-negative values: SQLite's CAST truncates, which is the floor there.
        return "floor({})::int" if self.postgres else "CAST({} AS INTEGER)"

    def real(self, value: str) -> str:
        return f"CAST({value} AS {'double precision' if self.postgres else 'REAL'})"


@lru_cache(maxsize=64)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def _moment(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def _local_date(value: str | None, zone: str) -> str | None:
    moment = _moment(value)
    return None if moment is None else moment.astimezone(_zone(zone)).date().isoformat()


def _local_us(value: str | None, zone: str) -> int | None:
    moment = _moment(value)
    if moment is None:
        return None
    local = moment.astimezone(_zone(zone))
    return ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000 + local.microsecond


def _epoch_us(value: str | None) -> int | None:
    moment = _moment(value)
    if moment is None:
        return None
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _time_us(value: str | None) -> int | None:
    if value is None:
        return None
    moment = dt.time.fromisoformat(value)
    return ((moment.hour * 60 + moment.minute) * 60 + moment.second) * 1_000_000 + moment.microsecond


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: the SQLite twins of the PostgreSQL expressions above."""
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_function("otk_local_date", 2, _local_date, deterministic=True)
    raw.create_function("otk_local_us", 2, _local_us, deterministic=True)
    raw.create_function("otk_epoch_us", 1, _epoch_us, deterministic=True)
    raw.create_function("otk_time_us", 1, _time_us, deterministic=True)
