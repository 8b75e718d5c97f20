"""SLA policies and calendar overrides: the rules the clock runs by, and what follows when they change.

Who may change a rule is `core.access.Scope.may_manage_rule`: federal and organisation-level rules are the
federal administrators', a region's are also its analysts'. An edit is checked against the rule as it is and
as it will be, so nobody moves a rule into or out of a scope they do not hold.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils.translation import gettext as _

from appeals import sla
from appeals.models import CalendarOverride, SlaPolicy
from appeals.services import hooks
from appeals.services.history import person_of
from core.access import Actor, require_manage_rule
from core.errors import Conflict
from core.outbox import queue_after_commit


def _require_rule_rights(actor: Actor, *, region_id: int | None, organization_id: int | None = None) -> None:
    require_manage_rule(
        actor,
        region_id=region_id,
        organization_id=organization_id,
        message=_("Only federal administrators and the region's analysts may change this."),
    )


def _pk(value: Any) -> int | None:
    return value.pk if value is not None else None


def sla_policy_create(*, actor: Actor, data: dict[str, Any]) -> SlaPolicy:
    _require_rule_rights(actor, region_id=_pk(data.get("region")), organization_id=_pk(data.get("organization")))
    policy = SlaPolicy(lineage=0, version=1, is_current=True, created_by=person_of(actor), **data)
    policy.full_clean(exclude=["lineage"])
    with transaction.atomic():
        policy.save()
        policy.lineage = policy.pk  # the first version names its lineage
        policy.save(update_fields=["lineage"])
        sla.changed("policies")
    return policy


def sla_policy_update(
    *, actor: Actor, policy: SlaPolicy, data: dict[str, Any], apply_to_open_appeals: bool = False
) -> SlaPolicy:
    """Store the edit as a new version; open appeals keep theirs unless `apply_to_open_appeals`."""
    _require_rule_rights(actor, region_id=policy.region_id, organization_id=policy.organization_id)
    _require_rule_rights(
        actor,
        region_id=_pk(data["region"]) if "region" in data else policy.region_id,
        organization_id=_pk(data["organization"]) if "organization" in data else policy.organization_id,
    )
    with transaction.atomic():
        try:
            current = SlaPolicy.objects.select_for_update(nowait=True).get(pk=policy.pk, is_current=True)
        except SlaPolicy.DoesNotExist as exc:
            raise Conflict(_("This policy has a newer version; edit that one.")) from exc
        except DatabaseError as exc:
            raise Conflict() from exc
        successor = SlaPolicy(
            **{
                f.attname: getattr(current, f.attname)
                for f in SlaPolicy._meta.concrete_fields
                if f.attname not in ("id", "created_at")
            }
        )
        for name, value in data.items():
            setattr(successor, name, value)
        successor.version = current.version + 1
        successor.created_by = person_of(actor)
        successor.full_clean(exclude=["lineage", "version", "is_current"])
        current.is_current = False
        current.save(update_fields=["is_current"])
        successor.save()
        sla.changed("policies")
        if apply_to_open_appeals:
            queue_after_commit("appeals.tasks.recompute_deadlines", policy_lineage=successor.lineage)
    return successor


def _after_calendar_change(region_id: int | None) -> None:
    sla.changed("calendar")
    queue_after_commit("appeals.tasks.recompute_deadlines", region_id=region_id)
    # The rooms above react too: the rollups' working minutes of closed appeals change with the calendar even
    # when no open appeal's deadline does (and so no history event re-rolls anything).
    hooks.calendar_changed()


def calendar_override_save(*, actor: Actor, override: CalendarOverride, data: dict[str, Any]) -> CalendarOverride:
    """Create or change an override; open appeals of the region (all, for a federal one) move with it.

    The actor needs the right over the override as stored (its present region) and as it will be.
    """
    regions_touched = set()
    if override.pk is not None:
        _require_rule_rights(actor, region_id=override.region_id)
        regions_touched.add(override.region_id)
    for name, value in data.items():
        setattr(override, name, value)
    _require_rule_rights(actor, region_id=override.region_id)
    if override.pk is None:
        override.created_by = person_of(actor)
    override.full_clean()
    regions_touched.add(override.region_id)
    with transaction.atomic():
        try:
            override.save()
        except IntegrityError as exc:
            raise ValidationError({"date": _("This date already has an override for this region.")}) from exc
        for region_id in regions_touched:
            _after_calendar_change(region_id)
    return override


def calendar_override_delete(*, actor: Actor, override: CalendarOverride) -> None:
    _require_rule_rights(actor, region_id=override.region_id)
    with transaction.atomic():
        region_id = override.region_id
        override.delete()
        _after_calendar_change(region_id)
