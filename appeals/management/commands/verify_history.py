"""Recompute the hash chains of appeal history and replies; list every appeal whose chain is broken."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Exists, OuterRef

from appeals.models import Appeal, AppealEvent, Reply
from appeals.services.history import event_hash, reply_hash
from core.progress import ProgressBar

CHUNK = 2000


def broken_chains(compute: Callable[[Any, str], str], rows: Iterator[Any]) -> Iterator[tuple]:
    """(appeal id, row id, what) for the first break of each appeal's chain; `rows` ordered by appeal, id.

    A row whose own hash does not match its content was altered; a row whose `previous_hash` is not the hash of
    the row before it follows a deleted row, or rows were reordered or inserted past `history.chain()`.
    """
    appeal_id, expected, broken = None, "", False
    for row in rows:
        if row.appeal_id != appeal_id:
            appeal_id, expected, broken = row.appeal_id, "", False
        if broken:
            continue
        if row.previous_hash != expected:
            broken = True
            yield appeal_id, row.pk, "does not follow the row before it (a row deleted, reordered or inserted)"
        elif row.hash != compute(row, row.previous_hash):
            broken = True
            yield appeal_id, row.pk, "was altered"
        expected = row.hash


class Command(BaseCommand):
    help = "Check the hash chains of appeal history and replies; exit 1 listing every appeal whose chain is broken."

    def handle(self, *args: Any, verbosity: int = 1, **options: Any) -> None:
        broken: set[int] = set()
        for model, compute, noun in ((AppealEvent, event_hash, "event"), (Reply, reply_hash, "reply")):
            rows = model.objects.order_by("appeal_id", "id")
            bar = ProgressBar(rows.count(), label=f"{model._meta.verbose_name_plural}") if verbosity else None
            for appeal_id, row_id, what in broken_chains(compute, self._advance(rows, bar)):
                broken.add(appeal_id)
                self.stdout.write(f"appeal {appeal_id}: {noun} {row_id} {what}")
            if bar:
                bar.close()
        # Each appeal starts with its `created` event: an appeal with none lost its whole history.
        for appeal_id in Appeal.objects.filter(~Exists(AppealEvent.objects.filter(appeal=OuterRef("pk")))).values_list(
            "pk", flat=True
        ):
            broken.add(appeal_id)
            self.stdout.write(f"appeal {appeal_id}: has no history at all")
        if broken:
            raise CommandError(f"{len(broken)} appeal(s) with a broken history.", returncode=1)
        if verbosity:
            self.stdout.write("Every appeal's history is intact.")

    @staticmethod
    def _advance(rows, bar: ProgressBar | None) -> Iterator[Any]:
        for row in rows.iterator(chunk_size=CHUNK):
            if bar:
                bar.advance()
            yield row
