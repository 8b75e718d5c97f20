"""The registry of hooks through which the apps above publics (appeals, ratings) react to changes of the registry.

publics imports none of them (style.md): they register here when their app is ready, and the writer that owns
the change (a service, the CSV import) calls the hook. A receiver runs synchronously inside the writer's
transaction, so whatever it queues on commit is dropped with a rolled-back change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import models

# Per organisation id, the names of the fields whose stored value the write changed.
OrganizationChanges = Mapping[int, frozenset[str]]
OrganizationReceiver = Callable[[OrganizationChanges], None]

_organizations_changed: list[OrganizationReceiver] = []


def on_organizations_changed(receiver: OrganizationReceiver) -> OrganizationReceiver:
    """Register `receiver(changes)`, called with the changed fields of stored organisations (once per receiver)."""
    if receiver not in _organizations_changed:
        _organizations_changed.append(receiver)
    return receiver


def organizations_changed(changes: OrganizationChanges) -> None:
    """Call inside the writing transaction, after the rows are written; organisations that did not change are
    left out (nothing is called when none did)."""
    changes = {pk: fields for pk, fields in changes.items() if fields}
    if changes:
        for receiver in _organizations_changed:
            receiver(changes)


def changed_fields(before: models.Model, after: models.Model, names: Iterable[str]) -> frozenset[str]:
    """The names among `names` whose column differs between two states of a row (a foreign key by its id)."""
    model: Any = type(after)
    changed = set()
    for name in names:
        attname = model._meta.get_field(name).attname
        if getattr(before, attname) != getattr(after, attname):
            changed.add(name)
    return frozenset(changed)
