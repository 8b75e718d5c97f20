"""CSV import of the registry: how a regional control centre onboards thousands of organisations and pages.

The file is UTF-8 text (a BOM is allowed) of at most ``settings.IMPORT_MAX_BYTES`` bytes, with a header row
and a comma or a semicolon as the delimiter (told apart by which one splits the header into known column
names). Column names are case-insensitive and may come in any order; an unknown column is an error, so that a
typo does not silently drop data. One row is one page together with its organisation; a row whose page
columns are all empty creates or updates the organisation only.

Organisation columns:

=================  ==========  ============================================================================
column             required    meaning
=================  ==========  ============================================================================
org_name           yes         full name, at most 500 characters
org_short_name                 short name
org_kind           yes         one of ``OrganizationKind`` (``school``, ``hospital``, ``local_government``…)
region             yes         region code, e.g. ``RU-MOW``
ogrn                           OGRN (13 digits) or OGRNIP (15) with a correct check digit
inn                            INN, 10 or 12 digits with correct check digits
parent_ogrn                    OGRN of the parent organisation: earlier or later in the file, or stored
org_timezone                   IANA time zone; empty means the region's
office_opens_at                HH:MM (default 09:00 for a new organisation)
office_closes_at               HH:MM (default 18:00)
=================  ==========  ============================================================================

Page columns (``platform`` and ``platform_id`` are required on a row that has any page cell filled):

=============  ==============  ==================================================================
platform       page rows       ``vk``, ``ok``, ``max`` or ``telegram``
platform_id    page rows       the platform's id of the community or channel
url                            the page's address
title          new pages       the page's title
verified                       the «Госорганизация» mark: ``true``/``false``, ``1``/``0``, ``да``/``нет``
category                       ``flagship``, ``active`` (default) or ``card``
is_primary                     primary page of the organisation on this platform (boolean)
is_active                      active page (boolean, default true)
=============  ==============  ==================================================================

Matching. An organisation is matched by OGRN when the row gives one; a stored organisation without an OGRN
but with the same name and region is matched too, and receives the OGRN. Without an OGRN it is matched by
(name, region), first among the file's organisations, then among the stored ones. Rows of one organisation
repeat its columns: they may leave cells empty, but two filled cells that differ are a conflict. A page is
matched by (platform, platform_id) and may appear on several rows only with the same data.

An empty optional cell keeps the stored value (a new object gets the model's default): a file never erases
data, so a partial export can be imported back without losing what operators typed in the admin.

Rights follow the ``manage`` grant of ``core.access``: analysts create and change organisations of their
regions, operators change their own organisations and their pages but create none, federal administrators
do everything. Auditors and integrations may not import at all (``core.errors.Refused``).

Every row is checked before anything is written. A file with any bad row writes nothing and every problem
comes back with its physical line (the header is line 1). A good file is applied in one transaction with a
fixed number of queries per batch of rows; importing the same file again changes nothing, and unchanged
objects keep their ``updated_at``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO, TypedDict, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, models, transaction
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from core.access import Actor, Scope, ScopeKeys, scope_for
from core.errors import Conflict, Refused
from core.validators import inn_is_valid, ogrn_is_valid
from publics import hooks
from publics.models import Organization, OrganizationKind, Page, PageCategory, Platform, Region

# CSV column → model attribute. `parent_ogrn` is resolved to `parent` separately.
ORGANIZATION_COLUMNS: dict[str, str] = {
    "org_name": "name",
    "org_short_name": "short_name",
    "org_kind": "kind",
    "region": "region_id",
    "ogrn": "ogrn",
    "inn": "inn",
    "org_timezone": "timezone",
    "office_opens_at": "office_opens_at",
    "office_closes_at": "office_closes_at",
}
PAGE_COLUMNS: dict[str, str] = {
    "platform": "platform",
    "platform_id": "platform_id",
    "url": "url",
    "title": "title",
    "verified": "verified",
    "category": "category",
    "is_primary": "is_primary",
    "is_active": "is_active",
}
ALL_COLUMNS: tuple[str, ...] = (*ORGANIZATION_COLUMNS, "parent_ogrn", *PAGE_COLUMNS)
REQUIRED_COLUMNS: tuple[str, ...] = ("org_name", "org_kind", "region")
PAGE_KEY_COLUMNS: tuple[str, ...] = ("platform", "platform_id")

# Lookups send at most this many values in one IN (...); writes go in batches of this many objects.
LOOKUP_CHUNK = 2000
WRITE_BATCH = 1000
# Progress is reported every this many rows while checking.
PROGRESS_EVERY = 500

# What an update writes; `updated_at` is set to now by its auto_now.
_ORGANIZATION_WRITE_FIELDS = [*Organization.EDITABLE_FIELDS, "updated_at"]
_PAGE_WRITE_FIELDS = [
    "organization",
    "url",
    "title",
    "verified",
    "category",
    "is_primary",
    "is_active",
    "updated_at",
]
_TRUE_WORDS = frozenset({"true", "1", "да"})
_FALSE_WORDS = frozenset({"false", "0", "нет"})
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")

T = TypeVar("T")


class RowError(TypedDict):
    line: int | None  # the physical CSV line (header = 1); None when the problem is the whole file
    field: str | None  # the CSV column, or None when the problem is the row as a whole
    message: str


@dataclass
class ImportResult:
    dry_run: bool = False
    rows: int = 0
    organizations_created: int = 0
    organizations_updated: int = 0
    organizations_unchanged: int = 0
    pages_created: int = 0
    pages_updated: int = 0
    pages_unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportProgress(Protocol):
    """Told how far the import got: `stage` is "check" (rows read) or "write" (objects written)."""

    def __call__(self, stage: str, done: int, total: int) -> None: ...


def registry_import_allowed(actor: Actor) -> bool:
    """Whether the actor may import at all: anyone with a `manage` grant (not auditors, not integrations)."""
    return not scope_for(actor).manage.is_empty


def registry_import(
    *,
    actor: Actor,
    source: TextIO | bytes,
    dry_run: bool = False,
    progress: ImportProgress | None = None,
) -> ImportResult:
    """Check the whole file, then apply it in one transaction; a file with any bad row writes nothing.

    Problems with the file come back in `ImportResult.errors`. Raises `core.errors.Refused` when the actor may
    manage nothing, and `core.errors.Conflict` when the registry changed under the import (a unique
    constraint lost a race with another writer): running it again is then safe.
    """
    if not registry_import_allowed(actor):
        raise Refused(_("Your role may not import the registry."))
    importer = _RegistryImport(actor=actor, dry_run=dry_run, progress=progress)
    try:
        text = _read_text(source)
    except _FileRejected as exc:
        importer.error(None, None, exc.message)
        return importer.finish()
    return importer.run(text)


class _FileRejected(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _CellError(ValueError):
    """A cell that cannot be read; the message is shown to the user."""


def _read_text(source: TextIO | bytes) -> str:
    limit = settings.IMPORT_MAX_BYTES
    too_large = _("The file is larger than the limit of %(limit)s bytes.") % {"limit": limit}
    if isinstance(source, bytes):
        if len(source) > limit:
            raise _FileRejected(too_large)
        try:
            return source.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _FileRejected(_("The file is not UTF-8 text.")) from exc
    # A character is at least one byte, so reading one character past the limit is enough to tell.
    text = source.read(limit + 1)
    if len(text) > limit or len(text.encode("utf-8")) > limit:
        raise _FileRejected(too_large)
    return text.removeprefix("\ufeff")


def _sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most known column names (comma on a tie).

    csv.Sniffer guesses from character frequencies and is easily fooled by a short file; the header's names
    are known, which makes the choice certain.
    """

    def known_names(delimiter: str) -> int:
        return sum(1 for name in header_line.split(delimiter) if name.strip().strip('"').lower() in ALL_COLUMNS)

    return max((",", ";"), key=known_names)


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _in_chunks(queryset: QuerySet, lookup: str, values: Iterable[Any]) -> Iterator[Any]:
    """Rows whose `lookup` is among `values`, a bounded IN (...) list per query."""
    for chunk in _chunks(sorted(set(values)), LOOKUP_CHUNK):
        yield from queryset.filter(**{f"{lookup}__in": chunk})


# Cell parsers: each takes a stripped, non-empty cell and returns the model value or raises _CellError.


def _text_parser(model: type[models.Model], field_name: str) -> Callable[[str], str]:
    max_length = model._meta.get_field(field_name).max_length

    def parse(cell: str) -> str:
        if max_length is not None and len(cell) > max_length:
            raise _CellError(_("At most %(max)s characters.") % {"max": max_length})
        return cell

    return parse


def _choice_parser(choices: type[models.TextChoices]) -> Callable[[str], str]:
    def parse(cell: str) -> str:
        value = cell.lower()
        if value not in choices.values:
            raise _CellError(
                _("Unknown value “%(value)s”; expected one of: %(choices)s.")
                % {"value": cell, "choices": ", ".join(choices.values)}
            )
        return value

    return parse


def _parse_bool(cell: str) -> bool:
    word = cell.lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise _CellError(_("Expected true/false, 1/0 or да/нет."))


def _parse_time(cell: str) -> dt.time:
    match = _TIME.match(cell)
    try:
        if match is None:
            raise ValueError(cell)
        return dt.time(int(match[1]), int(match[2]))
    except ValueError as exc:
        raise _CellError(_("Expected a time as HH:MM.")) from exc


def _parse_ogrn(cell: str) -> str:
    if not ogrn_is_valid(cell):
        raise _CellError(_("Invalid OGRN: 13 or 15 digits with a correct check digit."))
    return cell


def _parse_inn(cell: str) -> str:
    if not inn_is_valid(cell):
        raise _CellError(_("Invalid INN: 10 or 12 digits with correct check digits."))
    return cell


_validate_url = URLValidator()
_url_max_length = Page._meta.get_field("url").max_length or 0


def _parse_url(cell: str) -> str:
    if len(cell) > _url_max_length:
        raise _CellError(_("At most %(max)s characters.") % {"max": _url_max_length})
    try:
        _validate_url(cell)
    except ValidationError as exc:
        raise _CellError(_("Enter a valid URL.")) from exc
    return cell


@dataclass
class _Row:
    line: int
    organization: dict[str, Any]  # organisation columns (and parent_ogrn) → parsed value, filled cells only
    page: dict[str, Any]  # page columns → parsed value, filled cells only; empty for an organisation-only row


@dataclass(eq=False)
class _OrganizationGroup:
    """One organisation of the file: the merged cells of all its rows, and what it matched in the registry."""

    key: tuple[Hashable, ...]
    values: dict[str, Any] = field(default_factory=dict)
    value_lines: dict[str, int] = field(default_factory=dict)  # where each value was first given
    lines: list[int] = field(default_factory=list)
    stored: Organization | None = None
    unmatched: bool = False  # matching it to the registry failed (reported): not checked any further
    parent: _OrganizationGroup | Organization | None = None  # None: the file does not set it
    target: Organization | None = None  # the final state, once planned
    changed_fields: frozenset[str] = frozenset()  # of a stored organisation: the fields the file changes
    changed: bool = False
    links_new_parent: bool = False  # the parent is created by this file, so it is linked after inserting

    @property
    def ogrn(self) -> str | None:
        return self.values.get("ogrn")

    @property
    def name_key(self) -> tuple[str, int]:
        return self.values["org_name"], self.values["region"]

    @property
    def node(self) -> Hashable:
        """Its identity in the parent graph: the stored id, or the file key of a new organisation."""
        return self.stored.pk if self.stored is not None else self.key


@dataclass(eq=False)
class _PageGroup:
    key: tuple[str, str]  # (platform, platform_id)
    organization: _OrganizationGroup
    values: dict[str, Any] = field(default_factory=dict)
    value_lines: dict[str, int] = field(default_factory=dict)
    lines: list[int] = field(default_factory=list)
    stored: Page | None = None
    target: Page | None = None
    changed: bool = False
    vacates_primary_slot: bool = False  # stored as primary, but primary elsewhere (or not at all) afterwards


class _RegistryImport:
    """One run of the import: read and group the rows, match them to the registry, check, plan and write."""

    def __init__(self, *, actor: Actor, dry_run: bool, progress: ImportProgress | None) -> None:
        self.scope: Scope = scope_for(actor)
        self.dry_run = dry_run
        self.progress = progress
        self.errors: list[RowError] = []
        self._seen_errors: set[tuple[int | None, str | None, str]] = set()
        self.organizations: dict[tuple[Hashable, ...], _OrganizationGroup] = {}
        self.pages: dict[tuple[str, str], _PageGroup] = {}
        self.stored_by_ogrn: dict[str, Organization] = {}
        self.row_count = 0
        self._regions: dict[str, int] | None = None
        self._timezones: set[str] | None = None
        self._parsers: dict[str, Callable[[str], Any]] = {
            "org_name": _text_parser(Organization, "name"),
            "org_short_name": _text_parser(Organization, "short_name"),
            "org_kind": _choice_parser(OrganizationKind),
            "region": self._parse_region,
            "ogrn": _parse_ogrn,
            "inn": _parse_inn,
            "parent_ogrn": _parse_ogrn,
            "org_timezone": self._parse_timezone,
            "office_opens_at": _parse_time,
            "office_closes_at": _parse_time,
            "platform": _choice_parser(Platform),
            "platform_id": _text_parser(Page, "platform_id"),
            "url": _parse_url,
            "title": _text_parser(Page, "title"),
            "verified": _parse_bool,
            "category": _choice_parser(PageCategory),
            "is_primary": _parse_bool,
            "is_active": _parse_bool,
        }

    def error(self, line: int | None, column: str | None, message: str) -> None:
        if (line, column, message) not in self._seen_errors:
            self._seen_errors.add((line, column, message))
            self.errors.append({"line": line, "field": column, "message": message})

    def report(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)

    def run(self, text: str) -> ImportResult:
        rows = self._read_rows(text)
        if rows is None:  # the header or the CSV itself is broken: the rows cannot be read
            return self.finish()
        # Rows with bad cells are already reported; the others are still checked against each other.
        self._group(rows)
        self._match_organizations()
        self._resolve_parents()
        self._check_organizations()
        self._check_parent_cycles()
        self._match_pages()
        self._check_pages()
        self._check_primary_pages()
        if self.errors:
            return self.finish()
        self._plan()
        if not self.dry_run:
            try:
                with transaction.atomic():
                    self._write()
            except IntegrityError as exc:
                raise Conflict(
                    _("The registry changed while the file was being imported; run the import again.")
                ) from exc
        return self.finish()

    def finish(self) -> ImportResult:
        result = ImportResult(dry_run=self.dry_run, rows=self.row_count)
        if self.errors:
            result.errors = sorted(self.errors, key=lambda problem: problem["line"] or 0)
            return result
        for group in self.organizations.values():
            if group.stored is None:
                result.organizations_created += 1
            elif group.changed:
                result.organizations_updated += 1
            else:
                result.organizations_unchanged += 1
        for page in self.pages.values():
            if page.stored is None:
                result.pages_created += 1
            elif page.changed:
                result.pages_updated += 1
            else:
                result.pages_unchanged += 1
        return result

    # Reading

    def _read_rows(self, text: str) -> list[_Row] | None:
        if "\x00" in text:
            # The csv module reads NUL into a cell, but PostgreSQL text cannot hold it: report each line.
            # Physical lines as the csv reader counts them (io's newline="" splits at \n, \r and \r\n).
            for number, line_text in enumerate(io.StringIO(text, newline=""), start=1):
                if "\x00" in line_text:
                    self.error(number, None, _("The line contains a NUL character (byte 0x00)."))
            return None
        # newline="" keeps quoted line breaks inside a cell, as the csv module requires.
        lines = io.StringIO(text, newline="")
        first_line = lines.readline()
        if not first_line.strip():
            self.error(None, None, _("The file is empty: a header row is required."))
            return None
        lines.seek(0)
        reader = csv.reader(lines, delimiter=_sniff_delimiter(first_line))
        try:
            header = [name.strip().lower() for name in next(reader)]
            if not self._header_is_valid(header):
                return None
            cells_by_line: list[tuple[int, list[str]]] = []
            last_line = reader.line_num
            for cells in reader:
                # A quoted cell may span lines: a row starts on the line after the previous row ended.
                line, last_line = last_line + 1, reader.line_num
                if any(cell.strip() for cell in cells):
                    cells_by_line.append((line, cells))
        except csv.Error as exc:
            self.error(reader.line_num, None, _("The file is not valid CSV: %(error)s") % {"error": exc})
            return None

        rows: list[_Row] = []
        self.row_count = len(cells_by_line)
        for done, (line, cells) in enumerate(cells_by_line, start=1):
            if len(cells) != len(header):
                self.error(
                    line,
                    None,
                    _("Expected %(expected)s cells, found %(found)s.") % {"expected": len(header), "found": len(cells)},
                )
            else:
                row = self._parse_row(line, dict(zip(header, (cell.strip() for cell in cells), strict=True)))
                if row is not None:
                    rows.append(row)
            if done % PROGRESS_EVERY == 0 or done == self.row_count:
                self.report("check", done, self.row_count)
        return rows

    def _header_is_valid(self, header: list[str]) -> bool:
        unknown = [name for name in header if name not in ALL_COLUMNS]
        if unknown:
            self.error(1, None, _("Unknown columns: %(columns)s.") % {"columns": ", ".join(unknown)})
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            self.error(1, None, _("Repeated columns: %(columns)s.") % {"columns": ", ".join(repeated)})
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        if any(name in header for name in PAGE_COLUMNS):
            missing += [name for name in PAGE_KEY_COLUMNS if name not in header]
        if missing:
            self.error(1, None, _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
        return not (unknown or repeated or missing)

    def _parse_row(self, line: int, cells: dict[str, str]) -> _Row | None:
        row = _Row(line=line, organization={}, page={})
        valid = True
        for column, cell in cells.items():
            if not cell:
                continue
            try:
                value = self._parsers[column](cell)
            except _CellError as exc:
                self.error(line, column, str(exc))
                valid = False
                continue
            (row.page if column in PAGE_COLUMNS else row.organization)[column] = value
        for column in REQUIRED_COLUMNS:
            if not cells.get(column):
                self.error(line, column, _("This cell is required."))
                valid = False
        if any(cells.get(column) for column in PAGE_COLUMNS):
            for column in PAGE_KEY_COLUMNS:
                if not cells.get(column):
                    self.error(line, column, _("Required when the row describes a page."))
                    valid = False
        return row if valid else None

    def _parse_region(self, cell: str) -> int:
        if self._regions is None:
            self._regions = dict(Region.objects.values_list("code", "pk"))
        region_id = self._regions.get(cell.upper())
        if region_id is None:
            raise _CellError(_("Unknown region code “%(code)s”.") % {"code": cell})
        return region_id

    def _parse_timezone(self, cell: str) -> str:
        if self._timezones is None:
            # available_timezones() walks the zone database on every call: once per import is enough.
            self._timezones = zoneinfo.available_timezones()
        if cell not in self._timezones:
            raise _CellError(_("Unknown IANA time zone: %(value)s.") % {"value": cell})
        return cell

    # Grouping rows into organisations and pages

    def _merge(self, group: _OrganizationGroup | _PageGroup, values: dict[str, Any], line: int, message: str) -> None:
        group.lines.append(line)
        for column, value in values.items():
            if column not in group.values:
                group.values[column] = value
                group.value_lines[column] = line
            elif group.values[column] != value:
                self.error(line, column, message % {"line": group.value_lines[column]})

    def _group(self, rows: list[_Row]) -> None:
        # A row without an OGRN belongs to the file's organisation with that OGRN and the same name and region.
        ogrns_by_name: dict[tuple[str, int], set[str]] = defaultdict(set)
        for row in rows:
            if "ogrn" in row.organization:
                ogrns_by_name[row.organization["org_name"], row.organization["region"]].add(row.organization["ogrn"])

        for row in rows:
            values = row.organization
            key: tuple[Hashable, ...]
            if "ogrn" in values:
                key = ("ogrn", values["ogrn"])
            else:
                namesakes = ogrns_by_name.get((values["org_name"], values["region"]), set())
                if len(namesakes) > 1:
                    self.error(
                        row.line,
                        "ogrn",
                        _("Several organizations of this file have this name and region: give the OGRN."),
                    )
                    continue
                key = ("ogrn", *namesakes) if namesakes else ("name", values["org_name"], values["region"])
            organization = self.organizations.setdefault(key, _OrganizationGroup(key=key))
            self._merge(organization, values, row.line, _("Conflicts with line %(line)s for the same organization."))
            if row.page:
                self._group_page(row, organization)

    def _group_page(self, row: _Row, organization: _OrganizationGroup) -> None:
        key = (row.page["platform"], row.page["platform_id"])
        page = self.pages.get(key)
        if page is None:
            page = self.pages[key] = _PageGroup(key=key, organization=organization)
        elif page.organization is not organization:
            self.error(
                row.line,
                "platform_id",
                _("The same page is on line %(line)s with another organization.") % {"line": page.lines[0]},
            )
            return
        self._merge(page, row.page, row.line, _("Conflicts with line %(line)s for the same page."))

    # Matching the registry

    def _match_organizations(self) -> None:
        groups = list(self.organizations.values())
        wanted_ogrns = {group.ogrn for group in groups if group.ogrn}
        wanted_ogrns |= {group.values["parent_ogrn"] for group in groups if "parent_ogrn" in group.values}
        self.stored_by_ogrn = {
            organization.ogrn: organization
            for organization in _in_chunks(Organization.objects.order_by(), "ogrn", wanted_ogrns)
        }
        # Looked up by name: organisations without an OGRN, and those whose OGRN is not stored yet.
        by_name = [group for group in groups if not group.ogrn or group.ogrn not in self.stored_by_ogrn]
        stored_by_name: dict[tuple[str, int], list[Organization]] = defaultdict(list)
        if by_name:
            candidates = Organization.objects.order_by("pk").filter(
                region_id__in=sorted({group.name_key[1] for group in by_name})
            )
            for organization in _in_chunks(candidates, "name", {group.name_key[0] for group in by_name}):
                stored_by_name[organization.name, organization.region_id].append(organization)

        claimed_by: dict[int, _OrganizationGroup] = {}
        for group in groups:
            first_line = group.lines[0]
            if group.ogrn and group.ogrn in self.stored_by_ogrn:
                match = self.stored_by_ogrn[group.ogrn]
            else:
                namesakes = stored_by_name.get(group.name_key, [])
                if group.ogrn:
                    # Only an organisation still without an OGRN may receive this one.
                    namesakes = [organization for organization in namesakes if not organization.ogrn]
                if len(namesakes) > 1:
                    self.error(
                        first_line,
                        "ogrn",
                        _("Several stored organizations have this name in this region: give the OGRN."),
                    )
                    group.unmatched = True
                    continue
                match = namesakes[0] if namesakes else None
            if match is None:
                continue
            if match.pk in claimed_by:
                self.error(
                    first_line,
                    None,
                    _("Matches the same stored organization as line %(line)s.")
                    % {"line": claimed_by[match.pk].lines[0]},
                )
                group.unmatched = True
                continue
            claimed_by[match.pk] = group
            group.stored = match

    def _resolve_parents(self) -> None:
        for group in self.organizations.values():
            parent_ogrn = group.values.get("parent_ogrn")
            if parent_ogrn is None:
                continue
            line = group.value_lines["parent_ogrn"]
            in_file = self.organizations.get(("ogrn", parent_ogrn))
            stored = self.stored_by_ogrn.get(parent_ogrn)
            if parent_ogrn == group.ogrn:
                self.error(line, "parent_ogrn", _("An organization cannot be its own parent."))
            elif in_file is not None:
                group.parent = in_file
            elif stored is not None and self._may_read(stored):
                group.parent = stored
            else:
                self.error(line, "parent_ogrn", _("No organization with this OGRN in the file or in your scope."))

    def _match_pages(self) -> None:
        stored_pages = Page.objects.order_by().annotate(organization_region_id=F("organization__region_id"))
        for page in _in_chunks(stored_pages, "platform_id", {platform_id for _platform, platform_id in self.pages}):
            group = self.pages.get((page.platform, page.platform_id))
            if group is not None:
                group.stored = page

    # Checks

    def _may_manage_organization(self, organization_id: int, region_id: int) -> bool:
        return self.scope.manage.covers(ScopeKeys(region_id=region_id, organization_id=organization_id))

    def _may_manage_region(self, region_id: int) -> bool:
        return self.scope.may_manage_region(region_id)

    def _may_read(self, organization: Organization) -> bool:
        return self.scope.may_read(organization)

    def _check_organizations(self) -> None:
        opens_default = Organization._meta.get_field("office_opens_at").get_default()
        closes_default = Organization._meta.get_field("office_closes_at").get_default()
        for group in self.organizations.values():
            if group.unmatched:
                continue
            stored, region_id = group.stored, group.values["region"]
            if stored is None and not self._may_manage_region(region_id):
                for line in group.lines:
                    self.error(line, "region", _("You may not create organizations in this region."))
            elif stored is not None and not self._may_manage_organization(stored.pk, stored.region_id):
                for line in group.lines:
                    self.error(line, None, _("You may not manage this organization."))
            elif stored is not None and region_id != stored.region_id and not self._may_manage_region(region_id):
                for line in group.lines:
                    self.error(line, "region", _("You may not move the organization to this region."))

            opens = group.values.get("office_opens_at", stored.office_opens_at if stored else opens_default)
            closes = group.values.get("office_closes_at", stored.office_closes_at if stored else closes_default)
            if opens >= closes:
                column = "office_closes_at" if "office_closes_at" in group.values else "office_opens_at"
                self.error(
                    group.value_lines.get(column, group.lines[0]),
                    column,
                    _("Closing time must be later than opening time."),
                )

    def _check_parent_cycles(self) -> None:
        """An organisation may not end up among its own ancestors, through the file or the stored registry."""
        reparented = [group for group in self.organizations.values() if group.parent is not None]
        if not reparented:
            return
        parent_of: dict[Hashable, Hashable | None] = {}
        for group in self.organizations.values():
            if isinstance(group.parent, _OrganizationGroup):
                parent_of[group.node] = group.parent.node
            elif isinstance(group.parent, Organization):
                parent_of[group.node] = group.parent.pk
            else:
                parent_of[group.node] = group.stored.parent_id if group.stored else None

        def ancestors(group: _OrganizationGroup) -> Iterator[Hashable]:
            """The chain above the group as far as it is known, stopping at a repeat (a cycle)."""
            seen: set[Hashable] = set()
            node = parent_of.get(group.node)
            while node is not None and node not in seen:
                yield node
                seen.add(node)
                node = parent_of.get(node)

        # Stored ancestors outside the file are loaded a generation per query: hierarchies are a few levels
        # deep, so this is a handful of queries whatever the size of the file.
        while unknown := {node for group in reparented for node in ancestors(group) if node not in parent_of}:
            found = dict(_in_chunks(Organization.objects.order_by().values_list("pk", "parent_id"), "pk", unknown))
            parent_of.update({node: found.get(node) for node in unknown})

        for group in reparented:
            if group.node in ancestors(group):
                self.error(
                    group.value_lines["parent_ogrn"], "parent_ogrn", _("An organization cannot be its own ancestor.")
                )

    def _check_pages(self) -> None:
        for page in self.pages.values():
            stored, organization = page.stored, page.organization
            if organization.unmatched:
                continue
            moves = stored is not None and (organization.stored is None or stored.organization_id != organization.node)
            if moves and not self._may_manage_organization(stored.organization_id, stored.organization_region_id):
                for line in page.lines:
                    self.error(line, "platform_id", _("This page belongs to an organization you may not manage."))
            if stored is None and "title" not in page.values:
                self.error(page.lines[0], "title", _("Required for a new page."))

    def _check_primary_pages(self) -> None:
        """At most one primary page per organisation and platform, once the file is applied."""
        holders: dict[tuple[Hashable, str], str | int] = {}  # (organisation, platform) → stored platform_id or line
        stored_ids = [group.stored.pk for group in self.organizations.values() if group.stored is not None]
        primaries = (
            Page.objects.order_by().filter(is_primary=True).values_list("organization_id", "platform", "platform_id")
        )
        for organization_id, platform, platform_id in _in_chunks(primaries, "organization_id", stored_ids):
            if (platform, platform_id) not in self.pages:  # pages of the file are judged by their final state
                holders[organization_id, platform] = platform_id
        for page in self.pages.values():
            stored = page.stored
            if not page.values.get("is_primary", stored.is_primary if stored else False):
                continue
            platform = page.key[0]
            slot = (page.organization.node, platform)
            line = page.value_lines.get("is_primary", page.lines[0])
            holder = holders.get(slot)
            if isinstance(holder, int):
                self.error(
                    line,
                    "is_primary",
                    _("A second primary page of this organization on %(platform)s: line %(line)s has the first.")
                    % {"platform": platform, "line": holder},
                )
            elif holder is not None:
                self.error(
                    line,
                    "is_primary",
                    _(
                        "The organization already has a primary page on %(platform)s (%(platform_id)s): "
                        "mark that one not primary in the file."
                    )
                    % {"platform": platform, "platform_id": holder},
                )
            else:
                holders[slot] = line

    # Planning and writing

    def _plan(self) -> None:
        """Compute every object's final state and whether it changes; nothing is written here."""
        for group in self.organizations.values():
            target = group.target = group.stored or Organization()
            before = {name: getattr(target, name) for name in (*ORGANIZATION_COLUMNS.values(), "parent_id")}
            for column, attribute in ORGANIZATION_COLUMNS.items():
                if column in group.values:
                    setattr(target, attribute, group.values[column])
            parent = group.parent
            if isinstance(parent, Organization):
                target.parent_id = parent.pk
            elif isinstance(parent, _OrganizationGroup):
                if parent.stored is not None:
                    target.parent_id = parent.stored.pk
                else:
                    group.links_new_parent = True
            after = {name: getattr(target, name) for name in before}
            group.changed = group.stored is None or group.links_new_parent or before != after
            if group.stored is not None:
                fields = Organization._meta
                group.changed_fields = frozenset(
                    fields.get_field(name).name for name in before if before[name] != after[name]
                )

        for page in self.pages.values():
            stored, organization = page.stored, page.organization
            target = page.target = stored or Page(platform=page.key[0], platform_id=page.key[1])
            was_primary = stored is not None and stored.is_primary
            before = {name: getattr(target, name) for name in (*PAGE_COLUMNS.values(), "organization_id")}
            for column, attribute in PAGE_COLUMNS.items():
                if column in page.values:
                    setattr(target, attribute, page.values[column])
            moves = organization.stored is None or target.organization_id != organization.stored.pk
            if organization.stored is not None:
                target.organization_id = organization.stored.pk
            after = {name: getattr(target, name) for name in before}
            page.changed = stored is None or moves or before != after
            page.vacates_primary_slot = was_primary and (moves or not target.is_primary)

    def _write(self) -> None:
        """Apply the plan with bulk statements; call inside transaction.atomic()."""
        groups = list(self.organizations.values())
        new_organizations = [group.target for group in groups if group.stored is None]
        new_pages = [page.target for page in self.pages.values() if page.stored is None]
        changed_pages = [page for page in self.pages.values() if page.stored is not None and page.changed]
        # New organisations whose parent is new too are linked by the update that follows the insert.
        changed_groups = [group for group in groups if group.changed and (group.stored or group.links_new_parent)]
        total = len(new_organizations) + len(changed_groups) + len(changed_pages) + len(new_pages)
        written = 0

        def advance(count: int) -> None:
            nonlocal written
            written += count
            self.report("write", written, total)

        for batch in _chunks(new_organizations, WRITE_BATCH):
            Organization.objects.bulk_create(batch)
            advance(len(batch))
        for group in changed_groups:
            if group.links_new_parent:
                assert isinstance(group.parent, _OrganizationGroup)
                group.target.parent_id = group.parent.target.pk
        for batch in _chunks([group.target for group in changed_groups], WRITE_BATCH):
            _update_stored(Organization, batch, _ORGANIZATION_WRITE_FIELDS)
            advance(len(batch))
        hooks.organizations_changed(
            {group.stored.pk: group.changed_fields for group in changed_groups if group.stored is not None}
        )

        for page in self.pages.values():
            page.target.organization_id = page.organization.target.pk
        # A page losing its primary mark gives it up first, so that a page taking it over in the same
        # statement does not trip the one-primary-per-platform constraint half-way.
        vacating = [page.stored.pk for page in changed_pages if page.vacates_primary_slot]
        for batch in _chunks(vacating, WRITE_BATCH):
            Page.objects.filter(pk__in=batch).update(is_primary=False)
        for batch in _chunks([page.target for page in changed_pages], WRITE_BATCH):
            _update_stored(Page, batch, _PAGE_WRITE_FIELDS)
            advance(len(batch))
        for batch in _chunks(new_pages, WRITE_BATCH):
            Page.objects.bulk_create(batch)
            advance(len(batch))


def _update_stored(model: type[models.Model], objects: Sequence[models.Model], fields: list[str]) -> None:
    """Write `fields` of stored objects in one INSERT … ON CONFLICT (id) DO UPDATE per batch.

    bulk_update() builds a CASE branch per object and field, which grows quadratically: 10,000 organisations
    took about a minute. The upsert is linear. The objects are full rows loaded by this import, so the insert
    half only acts on a row deleted in the meantime, which comes back as the file describes it. auto_now
    fields (`updated_at`) are set by the insert, and `created_at` is not among the updated fields.
    """
    model._default_manager.bulk_create(objects, update_conflicts=True, unique_fields=["pk"], update_fields=fields)
