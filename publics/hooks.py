"""The registry of hooks through which the apps above publics (appeals, ratings) react to changes of the registry.

publics imports none of them (style.md): they register here when their app is ready, and the writer that owns
the change (a service, the CSV import) calls the hook. A receiver runs synchronously inside the writer's
transaction, so whatever it queues on commit is dropped with a rolled-back change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import models

# Per id of a stored row, the names of the fields whose stored value the write changed.
Changes = Mapping[int, frozenset[str]]
Receiver = Callable[[Changes], None]


class ChangeHook:
    """The receivers of the changed fields of one model's stored rows."""

    def __init__(self) -> None:
        self._receivers: list[Receiver] = []

    def connect(self, receiver: Receiver) -> Receiver:
        """Register `receiver(changes)` (once per receiver)."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def send(self, changes: Changes) -> None:
        """Call inside the writing transaction, after the rows are written; rows that did not change are left
        out (nothing is called when none did)."""
        changes = {pk: fields for pk, fields in changes.items() if fields}
        if changes:
            for receiver in self._receivers:
                receiver(changes)


_organizations = ChangeHook()  # by organisation id
_pages = ChangeHook()  # by page id
on_organizations_changed = _organizations.connect
organizations_changed = _organizations.send
on_pages_changed = _pages.connect
pages_changed = _pages.send


def changed_fields(before: models.Model, after: models.Model, names: Iterable[str]) -> frozenset[str]:
    """The names among `names` whose column differs between two states of a row (a foreign key by its id)."""
    model: Any = type(after)
    changed = set()
    for name in names:
        attname = model._meta.get_field(name).attname
        if getattr(before, attname) != getattr(after, attname):
            changed.add(name)
    return frozenset(changed)
