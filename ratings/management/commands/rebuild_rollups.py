"""`manage.py rebuild_rollups --from YYYY-MM-DD --to YYYY-MM-DD`: recompute the rollups of a period.

Idempotent: a second run writes the same rows. Without --from/--to, the whole span of stored appeals. A progress
bar on stderr counts the days done.
"""

import datetime as dt
import io
from argparse import ArgumentParser
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.utils.translation import gettext as _

from core.progress import ProgressBar
from ratings.services import rollup_period_of_appeals, rollups_rebuild


class _Unterminated(io.TextIOBase):
    """Django's OutputWrapper ends every write with a newline; a bar redraws with "\\r"."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        super().__init__()
        self.wrapper = wrapper

    def write(self, text: str) -> int:
        self.wrapper.write(text, style_func=lambda plain: plain, ending="")
        return len(text)

    def flush(self) -> None:
        self.wrapper.flush()


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(_("Not a date (YYYY-MM-DD): %(value)s") % {"value": value}) from exc


class Command(BaseCommand):
    help = "Recompute the SLA rollups of a period of local dates of receipt (idempotent)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--from", dest="date_from", help="First local date of receipt (YYYY-MM-DD).")
        parser.add_argument("--to", dest="date_to", help="Last local date of receipt (YYYY-MM-DD), included.")
        parser.add_argument("--days-per-step", type=int, default=7, help="Days recomputed per transaction.")

    def handle(self, *args: Any, **options: Any) -> None:
        span = rollup_period_of_appeals()
        date_from = _date(options["date_from"]) if options["date_from"] else (span[0] if span else None)
        date_to = _date(options["date_to"]) if options["date_to"] else (span[1] if span else None)
        if date_from is None or date_to is None:
            self.stdout.write(_("No appeals: nothing to rebuild."))
            return
        if date_to < date_from:
            raise CommandError(_("The period ends before it starts."))
        if options["days_per_step"] < 1:
            raise CommandError(_("--days-per-step must be at least 1."))
        bar = ProgressBar(
            (date_to - date_from).days + 1, label=_("Days"), stream=cast(TextIO, _Unterminated(self.stderr))
        )
        result = rollups_rebuild(
            date_from=date_from, date_to=date_to, days_per_step=options["days_per_step"], progress=bar.advance
        )
        bar.close()
        self.stdout.write(
            _("Rebuilt %(days)s days: %(rows)s rollup rows.") % {"days": result.days, "rows": result.rows}
        )
