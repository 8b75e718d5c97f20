"""The overdue list as of a moment, narrowed to the caller's scope: one statement on PostgreSQL, the same rules
in Python elsewhere (the SQLite demo), and the export log and jobs each user may read.

PostgreSQL. Every cell is computed by the database (local times by AT TIME ZONE of the organisation's zone,
hours overdue as numbers, masking by a regular expression, the excerpt by left(), formula neutralising by a
CASE), so the CSV is `COPY (the statement) TO STDOUT` streamed as it comes, and the XLSX writer only moves typed
tuples from a server-side cursor into its sheet. Working hours come from two look-ups in a scratch table of
office seconds per (calendar, office hours, day), built per export for the days involved by core.worktime.
What is overdue, and the appeal as it stood then, are appeals.sla's (`appeal_as_of` and its SQL twins): an
appeal whose deadlines something after `as_of` moved (a pause that ended later, the extension, a reopening)
has them recomputed in Python, few rows, and joined from a second scratch table.

Elsewhere the same rows are built appeal by appeal in Python (`overdue_rows_python`); on PostgreSQL the tests
hold both equal (tests/exports/test_as_of.py).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Min, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from appeals import sla
from appeals.models import Appeal, AppealEvent, AppealKind, Category, EventAction, Status
from core import worktime
from core.access import Actor, mask_name, may_see_personal_data, scope_for
from exports.models import ExportJob, ExportLogEntry
from publics.models import Organization, Page, Platform

EXCERPT_LENGTH = 200
# Cells beginning with one of these are formulas to a spreadsheet: they get a leading apostrophe (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Target:
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


TARGET_LABELS = {Target.FIRST_RESPONSE: _("first response"), Target.RESOLUTION: _("resolution")}

# (key, header). The order is the file's.
COLUMNS: list[tuple[str, object]] = [
    ("appeal_id", _("Appeal no.")),
    ("region", _("Region")),
    ("organization", _("Organization")),
    ("page", _("Page")),
    ("platform", _("Platform")),
    ("link", _("Link to the original")),
    ("kind", _("Kind")),
    ("category", _("Category")),
    ("received_at", _("Received (local time)")),
    ("missed_deadline", _("Missed deadline (local time)")),
    ("timezone", _("Time zone")),
    ("missed_target", _("Missed target")),
    ("hours_overdue", _("Overdue by, hours")),
    ("working_hours_overdue", _("Overdue by, working hours")),
    ("status", _("Status at the moment")),
    ("assignee", _("Assignee")),
    ("author", _("Author")),
    ("excerpt", _("Text excerpt")),
]
DATETIME_COLUMNS = (8, 9)
NUMBER_COLUMNS = (12, 13)


def headers() -> list[str]:
    return [str(title) for _, title in COLUMNS]


@dataclass(frozen=True)
class OverdueFilters:
    """The filters of an overdue list, validated (exports.api.serializers); `as_of` is always set."""

    as_of: dt.datetime
    region_id: int | None = None
    organization_id: int | None = None
    organization_kind: str = ""
    page_id: int | None = None
    platform: str = ""
    kind: str = ""
    category_ids: tuple[int, ...] = field(default_factory=tuple)
    received_from: dt.datetime | None = None
    received_to: dt.datetime | None = None
    min_hours_overdue: Decimal | None = None
    # The admin's "export the selection": the list narrowed to these appeals.
    appeal_ids: tuple[int, ...] = field(default_factory=tuple)
    # Whether `as_of` is the moment of the request: then nothing recorded can lie after it.
    as_of_is_now: bool = False

    def filters_q(self) -> Q:
        """The filters on the appeal's own columns (subqueries instead of joins, so that the condition compiles
        onto the appeal table alone and the exports' statement can embed it)."""
        q = Q(received_at__lte=self.as_of)
        if self.region_id is not None:
            q &= Q(region_id=self.region_id)
        if self.organization_id is not None:
            q &= Q(organization_id=self.organization_id)
        if self.organization_kind:
            q &= Q(organization_id__in=Organization.objects.filter(kind=self.organization_kind).values("id"))
        if self.page_id is not None:
            q &= Q(page_id=self.page_id)
        if self.platform:
            q &= Q(page_id__in=Page.objects.filter(platform=self.platform).values("id"))
        if self.kind:
            q &= Q(kind=self.kind)
        if self.category_ids:
            q &= Q(category_id__in=list(self.category_ids))
        if self.appeal_ids:
            q &= Q(id__in=list(self.appeal_ids))
        if self.received_from is not None:
            q &= Q(received_at__gte=self.received_from)
        if self.received_to is not None:
            q &= Q(received_at__lt=self.received_to)
        return q


def category_with_children(category: Category) -> tuple[int, ...]:
    """A top-level category includes its subcategories (as in the dashboards)."""
    return (category.pk, *Category.objects.filter(parent=category).order_by("pk").values_list("pk", flat=True))


def overdue_candidates(user: Actor, filters: OverdueFilters) -> QuerySet[Appeal]:
    """The caller's appeals matching the filters, received by `as_of`: the overdue list is drawn from these."""
    scope = scope_for(user)
    return Appeal.objects.filter(
        scope.filter_q(mode="read", region="region_id", organization="organization_id", page="page_id")
        & filters.filters_q()
    )


def overdue_upper_bound(user: Actor, filters: OverdueFilters) -> int:
    """At least as many rows as the list has, near it (a job's progress): candidates with a stored deadline
    before `as_of`, plus those whose deadlines moved after it."""
    moment = filters.as_of
    late = Q(first_response_due_at__lt=moment) | Q(resolution_due_at__lt=moment)
    if not filters.as_of_is_now:
        late |= Q(extended_at__gt=moment) | Q(resolution_started_at__gt=moment) | ~Q(pauses=[])
    return overdue_candidates(user, filters).filter(late).count()


# Python: one appeal at a time (SQLite, and the oracle of the statement) ------------------------------------------


def _cell(value: str | None) -> str | None:
    if not value:
        return None
    if value.startswith(FORMULA_STARTS):
        value = "'" + value
    value = value.replace("\r", " ").replace("\n", " ")
    return value or None


def _local(moment: dt.datetime, zone: str) -> dt.datetime:
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None, microsecond=0)


def _labels(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


def _history(appeal_ids: list[int], moment: dt.datetime) -> dict[int, list[tuple]]:
    events: dict[int, list[tuple]] = {}
    rows = (
        AppealEvent.objects.filter(appeal_id__in=appeal_ids, created_at__lte=moment)
        .order_by("appeal_id", "created_at", "id")
        .values_list("appeal_id", "created_at", "id", "to_status", "action", "actor_id", "data")
    )
    for appeal_id, *rest in rows:
        events.setdefault(appeal_id, []).append(tuple(rest))
    return events


def _assignee_as_of(events: list[tuple]) -> int | None:
    """Taking or assigning sets the assignee; a reply sets the replier when there is none (appeal_reply)."""
    assigned = [e for e in events if e[3] in (EventAction.TAKEN, EventAction.ASSIGNED)]
    if assigned:
        last = assigned[-1]
        return last[4] if last[3] == EventAction.TAKEN else last[5].get("to")
    replies = [e for e in events if e[3] == EventAction.REPLIED]
    return replies[0][4] if replies else None


def _user_names(user_ids: set[int]) -> dict[int, str]:
    from django.contrib.auth import get_user_model

    names = {}
    for pk, username, first, last in (
        get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username", "first_name", "last_name")
    ):
        names[pk] = f"{first} {last}".strip() or username
    return names


def overdue_rows_python(user: Actor, filters: OverdueFilters, *, batch_size: int = 500) -> Iterator[tuple]:
    """The typed rows of the list (local naive datetimes, hours as floats rounded to 2 places), in id order."""
    moment = filters.as_of
    show_names = may_see_personal_data(user)
    platforms, kinds, statuses = _labels(Platform.choices), _labels(AppealKind.choices), _labels(Status.choices)
    candidates = (
        overdue_candidates(user, filters)
        .select_related("organization__region", "region", "page", "policy", "category__parent")
        .defer("search_vector")
        .order_by("id")
    )
    links = _source_links()
    last_id = 0
    while True:
        batch = list(candidates.filter(id__gt=last_id)[:batch_size])
        if not batch:
            return
        last_id = batch[-1].pk
        history = _history([appeal.pk for appeal in batch], moment)
        assignees = {appeal.pk: _assignee_as_of(history.get(appeal.pk, [])) for appeal in batch}
        names = _user_names({pk for pk in assignees.values() if pk})
        for appeal in batch:
            events = history.get(appeal.pk, [])
            reopenings = [e[0] for e in events if e[3] == EventAction.REOPENED]
            past = sla.appeal_as_of(
                appeal,
                moment=moment,
                status=sla.status_as_of([(e[0], e[1], e[2]) for e in events], moment),
                reopened_at=reopenings[-1] if reopenings else None,
            )
            if past is None or not sla.is_overdue_as_of(past, moment=moment):
                continue
            first_missed = past.first_responded_at is None and sla._before(past.first_response_due_at, moment)
            resolution_missed = past.resolved_at is None and sla._before(past.resolution_due_at, moment)
            if first_missed and (
                not resolution_missed or past.first_response_due_at <= past.resolution_due_at  # type: ignore[operator]
            ):
                target, due = Target.FIRST_RESPONSE, past.first_response_due_at
            else:
                target, due = Target.RESOLUTION, past.resolution_due_at
            assert due is not None
            hours = round((moment - due).total_seconds() / 3600, 2)
            if filters.min_hours_overdue is not None and hours < float(filters.min_hours_overdue):
                continue
            organization = appeal.organization
            zone = organization.effective_timezone
            schedule = sla.schedule_for(organization)
            working = round(worktime.elapsed(due, moment, "working_hours", schedule), 2)
            category = appeal.category
            category_name = None
            if category is not None:
                category_name = f"{category.parent.name} / {category.name}" if category.parent_id else category.name
            page = appeal.page
            author = appeal.author_name if show_names else mask_name(appeal.author_name)
            yield (
                appeal.pk,
                appeal.region.name,
                _cell(organization.name),
                _cell(page.title if page else None),
                platforms.get(page.platform) if page else None,
                _cell(links.get(appeal.pk) or (page.url if page else None)),
                kinds[appeal.kind],
                _cell(category_name),
                _local(appeal.received_at, zone),
                _local(due, zone),
                zone,
                str(TARGET_LABELS[target]),
                hours,
                working,
                statuses[past.status],
                _cell(names.get(assignees[appeal.pk])),  # type: ignore[arg-type]
                _cell(author),
                _cell(appeal.text[:EXCERPT_LENGTH]),
            )


def _source_links() -> dict[int, str]:
    """Links to the original post or dialog, kept by the connectors (read lazily: exports does not import them)."""
    source_table = _source_table()
    if source_table is None:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT appeal_id, url FROM {source_table} WHERE url <> ''")  # noqa: S608
        return dict(cursor.fetchall())


def _source_table() -> str | None:
    from django.apps import apps

    try:
        return apps.get_model("connectors", "AppealSource")._meta.db_table
    except LookupError:
        return None


def as_text(row: tuple) -> list[str]:
    """A typed row as the CSV's cells: exactly what the PostgreSQL statement prints."""
    cells = []
    for index, value in enumerate(row):
        if value is None:
            cells.append("")
        elif index in DATETIME_COLUMNS:
            cells.append(value.strftime("%Y-%m-%d %H:%M:%S"))
        elif index in NUMBER_COLUMNS:
            cells.append(f"{value:.2f}")
        else:
            cells.append(str(value))
    return cells


# PostgreSQL: one statement -----------------------------------------------------------------------------------

A = "appeals_appeal"  # the compiled filters qualify columns with the table's own name


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _case(column: str, labels: dict[str, str]) -> str:
    whens = " ".join(f"WHEN {_sql_literal(key)} THEN {_sql_literal(label)}" for key, label in labels.items())
    return f"(CASE {column} {whens} END)"


def _cell_sql(expression: str) -> str:
    starts = ", ".join(_sql_literal(start) for start in FORMULA_STARTS if start not in "\t\r") + ", E'\\t', E'\\r'"
    return (
        f"NULLIF(translate(CASE WHEN left({expression}, 1) IN ({starts}) THEN '''' || {expression} "
        f"ELSE {expression} END, E'\\r\\n', '  '), '')"
    )


def _where_sql(user: Actor, filters: OverdueFilters) -> tuple[str, list]:
    query = overdue_candidates(user, filters).query
    compiler = query.get_compiler(connection=connection)
    try:
        sql, params = compiler.compile(query.where)
    except EmptyResultSet:  # an empty scope: nothing matches
        return "false", []
    return sql, list(params)


def _mask_sql(expression: str) -> str:
    # mask_name: each word's first letter and three stars, words joined by one space.
    return f"regexp_replace(regexp_replace(btrim({expression}), '\\s+', ' ', 'g'), '(\\S)\\S*', '\\1***', 'g')"


def _working_seconds_sql(moment: str, workday: str, zone: str) -> str:
    local = f"({moment} AT TIME ZONE {zone})"
    return (
        f"({workday}.before_s + LEAST(GREATEST(EXTRACT(EPOCH FROM {local}::time) - {workday}.opens_s, 0), "
        f"{workday}.length_s))"
    )


def overdue_statement(user: Actor, filters: OverdueFilters, *, typed: bool) -> tuple[str, list]:
    """The SELECT of the list (PostgreSQL), after `prepare_scratch` on the same connection and transaction.

    `typed`: local times as timestamps and hours as float8 (XLSX); else text exactly as `as_text` prints it.
    """
    where, where_params = _where_sql(user, filters)
    t = "%(as_of)s"
    params: dict = {"as_of": filters.as_of}
    zone = "COALESCE(NULLIF(o.timezone, ''), r.timezone)"
    first_missed = f"(x.first_done IS NULL AND x.first_due < {t})"
    resolution_missed = f"(x.resolution_done IS NULL AND x.resolution_due < {t})"
    is_first = f"({first_missed} AND (NOT COALESCE({resolution_missed}, false) OR x.first_due <= x.resolution_due))"
    overdue = sla.overdue_as_of_sql(
        status="x.status_at",
        first_responded_at="x.first_done",
        first_response_due_at="x.first_due",
        resolved_at="x.resolution_done",
        resolution_due_at="x.resolution_due",
        moment=t,
    )
    assignee = (
        f"COALESCE((SELECT CASE WHEN e.action = 'taken' THEN e.actor_id ELSE (e.data->>'to')::bigint END "  # noqa: S608
        f"FROM appeals_appealevent e WHERE e.appeal_id = x.id AND e.created_at <= {t} "
        f"AND e.action IN ('taken', 'assigned') ORDER BY e.created_at DESC, e.id DESC LIMIT 1), "
        f"(SELECT e.actor_id FROM appeals_appealevent e WHERE e.appeal_id = x.id AND e.created_at <= {t} "
        f"AND e.action = 'replied' ORDER BY e.created_at, e.id LIMIT 1))"
    )
    author = "x.author_name" if may_see_personal_data(user) else _mask_sql("x.author_name")
    source_table = _source_table()
    link = "NULLIF(p.url, '')"
    source_join = ""
    if source_table is not None:
        source_join = f"LEFT JOIN {source_table} src ON src.appeal_id = x.id"
        link = f"COALESCE(NULLIF(src.url, ''), {link})"
    if typed:
        local = lambda column: f"date_trunc('second', {column} AT TIME ZONE {zone})"  # noqa: E731
        number = lambda expression: f"round(({expression})::numeric, 2)::float8"  # noqa: E731
    else:
        local = lambda column: f"to_char({column} AT TIME ZONE {zone}, 'YYYY-MM-DD HH24:MI:SS')"  # noqa: E731
        number = lambda expression: f"round(({expression})::numeric, 2)::text"  # noqa: E731
    hours = f"EXTRACT(EPOCH FROM ({t} - y.due)) / 3600"
    working = f"({_working_seconds_sql(t, 'wn', zone)} - {_working_seconds_sql('y.due', 'wd', zone)}) / 3600"
    min_hours = ""
    if filters.min_hours_overdue is not None:
        min_hours = f"WHERE {t} - y.due >= %(min_hours)s * interval '1 hour'"
        params["min_hours"] = filters.min_hours_overdue
    full_name = "btrim(u.first_name || ' ' || u.last_name)"
    columns = [
        "x.id",
        "r.name",
        _cell_sql("o.name"),
        _cell_sql("p.title"),
        _case("p.platform", _labels(Platform.choices)),
        _cell_sql(link),
        _case("x.kind", _labels(AppealKind.choices)),
        _cell_sql("CASE WHEN pc.id IS NULL THEN c.name ELSE pc.name || ' / ' || c.name END"),
        local("x.received_at"),
        local("y.due"),
        zone,
        f"CASE WHEN y.is_first THEN {_sql_literal(str(TARGET_LABELS[Target.FIRST_RESPONSE]))} "
        f"ELSE {_sql_literal(str(TARGET_LABELS[Target.RESOLUTION]))} END",
        number(hours),
        number(working),
        _case("x.status_at", _labels(Status.choices)),
        f"COALESCE({_cell_sql(full_name)}, {_cell_sql('u.username')})",
        _cell_sql(author),
        _cell_sql(f"left(x.text, {EXCERPT_LENGTH})"),
    ]
    # The where clause of the ORM carries %s placeholders: bind them by name too.
    named = where
    for index in range(len(where_params)):
        named = named.replace("%s", f"%(w{index})s", 1)
        params[f"w{index}"] = where_params[index]
    statement = f"""
SELECT {", ".join(columns)}
FROM (
    SELECT {A}.id, {A}.region_id, {A}.organization_id, {A}.page_id, {A}.kind, {A}.category_id,
           {A}.received_at, {A}.author_name, {A}.text,
           {sla.status_as_of_sql(A, t)} AS status_at,
           {sla.done_as_of_sql(f"{A}.first_responded_at", t)} AS first_done,
           {sla.done_as_of_sql(f"{A}.resolved_at", t)} AS resolution_done,
           CASE WHEN d.appeal_id IS NULL THEN {A}.first_response_due_at ELSE d.first_due END AS first_due,
           CASE WHEN d.appeal_id IS NULL THEN {A}.resolution_due_at ELSE d.resolution_due END AS resolution_due
    FROM {A} LEFT JOIN pg_temp.export_deadlines d ON d.appeal_id = {A}.id
    WHERE {named}
      AND ({A}.first_response_due_at < {t} OR {A}.resolution_due_at < {t} OR d.appeal_id IS NOT NULL)
) x
CROSS JOIN LATERAL (
    SELECT {is_first} AS is_first,
           CASE WHEN {is_first} THEN x.first_due ELSE x.resolution_due END AS due
) y
JOIN publics_organization o ON o.id = x.organization_id
JOIN publics_region r ON r.id = x.region_id
LEFT JOIN publics_page p ON p.id = x.page_id
LEFT JOIN appeals_category c ON c.id = x.category_id
LEFT JOIN appeals_category pc ON pc.id = c.parent_id
{source_join}
LEFT JOIN auth_user u ON u.id = {assignee}
LEFT JOIN pg_temp.export_calendar ec ON ec.region_id = o.region_id
LEFT JOIN pg_temp.export_workday wd ON wd.calendar = COALESCE(ec.calendar, 0) AND wd.opens = o.office_opens_at
     AND wd.closes = o.office_closes_at AND wd.day = (y.due AT TIME ZONE {zone})::date
LEFT JOIN pg_temp.export_workday wn ON wn.calendar = COALESCE(ec.calendar, 0) AND wn.opens = o.office_opens_at
     AND wn.closes = o.office_closes_at AND wn.day = ({t} AT TIME ZONE {zone})::date
{"WHERE " + overdue if not min_hours else min_hours + " AND " + overdue}
ORDER BY x.id
"""  # noqa: S608
    return statement, params


def prepare_scratch(cursor, user: Actor, filters: OverdueFilters) -> None:
    """Fill this transaction's scratch tables: the deadlines as they stood at `as_of` where something later moved
    them, and the office seconds per (calendar, office hours, day) for the days the list can involve.

    Call inside transaction.atomic() with the psycopg cursor of Django's connection (PostgreSQL)."""
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS export_deadlines "
        "(appeal_id bigint PRIMARY KEY, first_due timestamptz, resolution_due timestamptz) ON COMMIT DELETE ROWS"
    )
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS export_calendar (region_id bigint PRIMARY KEY, calendar bigint) "
        "ON COMMIT DELETE ROWS"
    )
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS export_workday (calendar bigint, opens time, closes time, day date, "
        "before_s float8, opens_s int, length_s float8, PRIMARY KEY (calendar, opens, closes, day)) "
        "ON COMMIT DELETE ROWS"
    )
    for table in ("export_deadlines", "export_calendar", "export_workday"):
        cursor.execute(f"TRUNCATE pg_temp.{table}")
    candidates = overdue_candidates(user, filters)
    moment = filters.as_of
    if not filters.as_of_is_now:
        _fill_moved_deadlines(cursor, candidates, moment)
    earliest = candidates.aggregate(first=Min("received_at"))["first"]
    if earliest is None:
        return
    _fill_workdays(cursor, earliest, moment)


def _fill_moved_deadlines(cursor, candidates: QuerySet[Appeal], moment: dt.datetime) -> None:
    moved = (
        candidates.extra(where=[sla.deadlines_moved_after_sql(A, "%s")], params=[moment] * 3)  # noqa: S610
        .select_related("organization__region", "policy")
        .defer("search_vector")
        .order_by("id")
    )
    rows = []
    for appeal in moved.iterator(chunk_size=2000):
        events = list(
            AppealEvent.objects.filter(appeal_id=appeal.pk, created_at__lte=moment)
            .order_by("created_at", "id")
            .values_list("created_at", "id", "to_status", "action")
        )
        reopenings = [e[0] for e in events if e[3] == EventAction.REOPENED]
        past = sla.appeal_as_of(
            appeal,
            moment=moment,
            status=sla.status_as_of([e[:3] for e in events], moment),
            reopened_at=reopenings[-1] if reopenings else None,
        )
        if past is not None:
            rows.append((appeal.pk, past.first_response_due_at, past.resolution_due_at))
    if rows:
        with cursor.copy("COPY pg_temp.export_deadlines (appeal_id, first_due, resolution_due) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _fill_workdays(cursor, earliest: dt.datetime, moment: dt.datetime) -> None:
    """Office seconds before each day and within it, for each calendar and office hours in use, from a day
    before the earliest receipt to a day after `as_of` (any zone's local date falls in between)."""
    region_ids = list(Organization.objects.order_by().values_list("region_id", flat=True).distinct())
    calendars: dict[int, worktime.WorkCalendar] = {}
    region_calendar = []
    for region_id in sorted(region_ids):
        calendar = sla.calendar_for_region(region_id)
        federal = sla.calendar_for_region(None)
        if calendar is federal:
            continue
        key = next((k for k, c in calendars.items() if c is calendar), region_id)
        calendars[key] = calendar
        region_calendar.append((region_id, key))
    calendars[0] = sla.calendar_for_region(None)
    hours = list(Organization.objects.order_by().values_list("office_opens_at", "office_closes_at").distinct())
    first_day = earliest.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    last_day = moment.astimezone(dt.UTC).date() + dt.timedelta(days=1)
    days = [first_day + dt.timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    if region_calendar:
        with cursor.copy("COPY pg_temp.export_calendar (region_id, calendar) FROM STDIN") as copy:
            for row in region_calendar:
                copy.write_row(row)
    with cursor.copy(
        "COPY pg_temp.export_workday (calendar, opens, closes, day, before_s, opens_s, length_s) FROM STDIN"
    ) as copy:
        for key, calendar in calendars.items():
            for opens, closes in hours:
                schedule = worktime.Schedule(calendar=calendar, tz=zoneinfo.ZoneInfo("UTC"), opens=opens, closes=closes)
                opens_s = opens.hour * 3600 + opens.minute * 60 + opens.second
                before = 0.0
                for day in days:
                    start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
                    length = worktime.elapsed(start, start + dt.timedelta(days=1), "working_hours", schedule) * 3600
                    copy.write_row((key, opens, closes, day, before, opens_s, length))
                    before += length


# The export log and the jobs ------------------------------------------------------------------------------------


def export_log_visible_to(user: Actor) -> QuerySet[ExportLogEntry]:
    """Administrators read every entry; everyone else their own."""
    entries = ExportLogEntry.objects.select_related("user").order_by("-created_at", "-id")
    if scope_for(user).is_federal_admin:
        return entries
    if user is None or not user.is_authenticated:
        return entries.none()
    return entries.filter(user=user)


def export_jobs_visible_to(user: Actor) -> QuerySet[ExportJob]:
    """A job is its owner's (administrators see all)."""
    if scope_for(user).is_federal_admin:
        return ExportJob.objects.all()
    if user is None or not user.is_authenticated:
        return ExportJob.objects.none()
    return ExportJob.objects.filter(owner=user)


def storage_name(job: ExportJob, filename: str) -> str:
    return f"{settings.EXPORTS_STORAGE_PREFIX}{job.pk}/{filename}"
