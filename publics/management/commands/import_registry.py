"""`manage.py import_registry FILE --as USERNAME [--dry-run]`: the CSV registry import from the shell.

The columns and rules are those of publics.imports. A bad file lists every problem on stderr, writes nothing
and exits with status 1.
"""

import io
from argparse import ArgumentParser
from pathlib import Path
from typing import Any, TextIO, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.utils.translation import gettext as _

from core.errors import Conflict
from core.progress import ProgressBar
from publics.imports import ImportResult, RowError, registry_import


class _UnterminatedStream(io.TextIOBase):
    """Django's OutputWrapper ends every write with a newline and may colour it; a bar redraws with "\\r"."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        super().__init__()
        self.wrapper = wrapper

    def write(self, text: str) -> int:
        self.wrapper.write(text, style_func=lambda plain: plain, ending="")
        return len(text)

    def flush(self) -> None:
        self.wrapper.flush()


class _StageBars:
    """A progress bar per stage of the import ("check", then "write"), drawn on stderr."""

    def __init__(self, stream: OutputWrapper) -> None:
        self.stream = _UnterminatedStream(stream)
        self.stage: str | None = None
        self.bar: ProgressBar | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage or self.bar is None:
            self.close()
            self.stage = stage
            label = _("Checking rows") if stage == "check" else _("Writing")
            self.bar = ProgressBar(total, label=label, stream=cast(TextIO, self.stream))
        self.bar.advance(done - self.bar.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _describe(problem: RowError) -> str:
    where = _("file") if problem["line"] is None else _("line %(line)s") % {"line": problem["line"]}
    if problem["field"]:
        where = f"{where}, {problem['field']}"
    return f"{where}: {problem['message']}"


class Command(BaseCommand):
    help = "Import organisations and their pages from a CSV file (columns: see publics/imports.py)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file.")
        parser.add_argument(
            "--as", dest="username", required=True, help="Import with this user's rights (an analyst, an admin)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Check the file and count, write nothing.")

    def handle(self, *args: Any, file: Path, username: str, dry_run: bool, **options: Any) -> None:
        user_model = get_user_model()
        actor = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
        if actor is None:
            raise CommandError(_("No user named %(username)s.") % {"username": username})
        try:
            with file.open("rb") as stream:
                # One byte past the limit is enough for the service to refuse an oversized file.
                content = stream.read(settings.IMPORT_MAX_BYTES + 1)
        except OSError as exc:
            raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": file, "error": exc}) from exc

        bars = _StageBars(self.stderr)
        try:
            result = registry_import(actor=actor, source=content, dry_run=dry_run, progress=bars)
        except PermissionDenied as exc:
            raise CommandError(_("%(username)s may not import the registry.") % {"username": username}) from exc
        except Conflict as exc:
            raise CommandError(str(exc.detail)) from exc
        finally:
            bars.close()

        if result.errors:
            for problem in result.errors:
                self.stderr.write(_describe(problem))
            raise CommandError(
                _("%(count)s problem(s) in %(file)s; nothing was written.")
                % {"count": len(result.errors), "file": file}
            )
        self.stdout.write(self._summary(result))

    def _summary(self, result: ImportResult) -> str:
        lines = [
            _("Rows: %(rows)s.") % {"rows": result.rows},
            _("Organizations: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
            % {
                "created": result.organizations_created,
                "updated": result.organizations_updated,
                "unchanged": result.organizations_unchanged,
            },
            _("Pages: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
            % {
                "created": result.pages_created,
                "updated": result.pages_updated,
                "unchanged": result.pages_unchanged,
            },
        ]
        if result.dry_run:
            lines.append(_("Dry run: nothing was written."))
        return "\n".join(lines)
