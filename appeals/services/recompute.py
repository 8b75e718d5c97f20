"""Deadlines recomputed after a change of calendar or policy: open appeals move with the rules; appeals follow
their organisation to another region."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from appeals import sla
from appeals.models import OPEN_STATUSES, Appeal, EventAction, SlaPolicy
from appeals.services.history import history_append, system_event
from publics.models import Organization


def appeals_recompute_deadlines(
    *,
    region_id: int | None = None,
    policy_lineage: int | None = None,
    batch_size: int = 1000,
    now: dt.datetime | None = None,
) -> int:
    """Recompute the deadlines of open appeals from their own facts; returns how many changed.

    With `region_id`, appeals of that region (a regional calendar override changed); with neither argument,
    all open appeals (a federal override changed); with `policy_lineage`, appeals on any version of that
    policy move to its current version (the editor applied a policy change to open appeals). Idempotent:
    the result depends only on the stored facts, so a second run changes nothing.
    """
    now = now or timezone.now()
    # Reread the calendar and policies now: this runs right after a change, maybe within the cache's TTL.
    sla.forget_local("calendar")
    sla.forget_local("policies")
    current_policy = None
    appeals = Appeal.objects.filter(status__in=OPEN_STATUSES)
    if region_id is not None:
        appeals = appeals.filter(region_id=region_id)
    if policy_lineage is not None:
        current_policy = SlaPolicy.objects.get(lineage=policy_lineage, is_current=True)
        appeals = appeals.filter(policy__lineage=policy_lineage)
    changed = 0
    last_id = 0
    while True:
        with transaction.atomic():
            batch = list(
                appeals.filter(pk__gt=last_id)
                .select_for_update(of=("self",))
                .select_related("organization__region", "policy")
                .defer("search_vector")
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return changed
            last_id = batch[-1].pk
            dirty, events = [], []
            for appeal in batch:
                before = (appeal.policy_id, appeal.first_response_due_at, appeal.resolution_due_at)
                policy = current_policy if current_policy is not None else appeal.policy
                sla.apply_deadlines(appeal, policy, sla.schedule_for(appeal.organization), now=now)
                after = (appeal.policy_id, appeal.first_response_due_at, appeal.resolution_due_at)
                if before != after:
                    dirty.append(appeal)
                    events.append(
                        system_event(
                            appeal,
                            action=EventAction.DEADLINES_RECOMPUTED,
                            at=now,
                            data={
                                "policy": [before[0], after[0]],
                                "first_response_due_at": [_iso(before[1]), _iso(after[1])],
                                "resolution_due_at": [_iso(before[2]), _iso(after[2])],
                            },
                        )
                    )
            Appeal.objects.bulk_update(
                dirty,
                [
                    "policy",
                    "first_response_due_at",
                    "resolution_due_at",
                    "first_response_breached",
                    "resolution_breached",
                    *sla.TRACKING_FIELDS,
                ],
            )
            history_append(events)
            changed += len(dirty)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def appeals_follow_region_changes(changes: Mapping[int, frozenset[str]]) -> None:
    """publics.hooks listener, inside the organisation's write: the appeals of organisations whose region
    changed follow them at once (scoping reads the appeal's own copy of the region)."""
    appeals_follow_organizations(organization_ids=[pk for pk, fields in changes.items() if "region" in fields])


def appeals_follow_organizations(*, organization_ids: Iterable[int]) -> int:
    """Give the organisations' appeals their organisation's current region; returns how many rows moved.

    The appeal's `region` is a copy of its organisation's, kept on the row so that scoping needs no join: when
    an organisation moves to another region, its appeals go with it (to that region's analysts, lists and
    dashboards). One UPDATE, no history event: the appeal itself did not change. Idempotent.
    """
    ids = sorted(set(organization_ids))
    if not ids:
        return 0
    region = Organization.objects.filter(pk=OuterRef("organization_id")).values("region_id")[:1]
    return (
        Appeal.objects.filter(organization_id__in=ids)
        .exclude(region_id=Subquery(region))
        .update(region_id=Subquery(region))
    )
