"""Writes to the registry. Each service checks the actor's scope, validates with the model's rules and saves.

Services raise Django's `ValidationError` (400) and `core.errors.Refused` (403, from `core.access`'s checks);
the API edge and the admin translate them once. An object outside the actor's read scope is never passed in:
views look it up through a selector first, so a stranger gets 404 before any service runs.
"""

import copy
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.access import Actor, require_manage, require_manage_region
from publics import hooks
from publics.models import AudienceSnapshot, Organization, Page, Region
from publics.selectors import page_ids_visible_to


def _require_manage_region(actor: Actor, region: Region) -> None:
    require_manage_region(actor, region.pk, _("You may not manage organizations of this region."))


def _require_manage_organization(actor: Actor, organization: Organization) -> None:
    require_manage(actor, organization, _("You may not manage this organization."))


def _save(instance: Organization | Page) -> None:
    """Validate with the model's rules (check digits, constraints) and save; a lost unique race is a 400."""
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        # A concurrent request won the unique constraint; the database's own text names internals, not for clients.
        raise ValidationError(_("The object conflicts with an existing one. Reload and try again.")) from exc


def _apply(instance: Any, data: Mapping[str, Any], *, exclude: Iterable[str] = ()) -> None:
    for name, value in data.items():
        if name not in exclude:
            setattr(instance, name, value)


def organization_create(*, actor: Actor, data: Mapping[str, Any]) -> Organization:
    organization = Organization()
    _apply(organization, data)
    _require_manage_region(actor, organization.region)
    _save(organization)
    return organization


def organization_update(*, actor: Actor, organization: Organization, data: Mapping[str, Any]) -> Organization:
    """Change a stored organisation; the apps above react to what changed on commit (publics.hooks)."""
    _require_manage_organization(actor, organization)
    if "region" in data and data["region"].pk != organization.region_id:
        # Moving an organisation to another region needs the right over that region too.
        _require_manage_region(actor, data["region"])
    before = copy.copy(organization)
    _apply(organization, data)
    with transaction.atomic():
        _save(organization)
        hooks.organizations_changed(
            {organization.pk: hooks.changed_fields(before, organization, Organization.EDITABLE_FIELDS)}
        )
    return organization


def page_create(*, actor: Actor, data: Mapping[str, Any]) -> Page:
    page = Page()
    _apply(page, data)
    _require_manage_organization(actor, page.organization)
    _save(page)
    return page


def page_update(*, actor: Actor, page: Page, data: Mapping[str, Any]) -> Page:
    """Change a stored page; the apps above react to what changed on commit (publics.hooks)."""
    _require_manage_organization(actor, page.organization)
    if "organization" in data and data["organization"].pk != page.organization_id:
        _require_manage_organization(actor, data["organization"])
    before = copy.copy(page)
    _apply(page, data)
    with transaction.atomic():
        _save(page)
        hooks.pages_changed({page.pk: hooks.changed_fields(before, page, Page.EDITABLE_FIELDS)})
    return page


def audience_snapshots_upsert(*, actor: Actor, rows: list[Mapping[str, Any]]) -> int:
    """Insert or update snapshots by (page, date) in one statement; returns the number of rows written.

    `rows` hold `page_id`, `date`, `subscribers` and optional `views` and `posts`. Every page must be one the
    actor may push to, and a (page, date) may appear once: otherwise nothing is written.
    """
    seen: dict[tuple[int, dt.date], int] = {}
    errors: dict[str, list[str]] = {}
    for index, row in enumerate(rows):
        key = (row["page_id"], row["date"])
        if key in seen:
            errors[f"snapshots.{index}.date"] = [
                _("Repeats row %(row)s for the same page and date.") % {"row": seen[key]}
            ]
        seen[key] = index
    requested = {row["page_id"] for row in rows}
    allowed = page_ids_visible_to(actor, requested, mode="push")
    for index, row in enumerate(rows):
        if row["page_id"] not in allowed:
            errors[f"snapshots.{index}.page"] = [_("Unknown page or not in your scope.")]
    if errors:
        raise ValidationError(errors)

    snapshots = [
        AudienceSnapshot(
            page_id=row["page_id"],
            date=row["date"],
            subscribers=row["subscribers"],
            views=row.get("views"),
            posts=row.get("posts"),
        )
        for row in rows
    ]
    with transaction.atomic():
        AudienceSnapshot.objects.bulk_create(
            snapshots,
            update_conflicts=True,
            unique_fields=["page", "date"],
            update_fields=["subscribers", "views", "posts"],
            batch_size=1000,
        )
    return len(snapshots)
