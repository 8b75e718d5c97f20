"""Intake: an appeal taken in from a page (an integration's push, later a platform's webhook)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import sla
from appeals.models import Appeal, AppealKind, Category, EventAction, Status
from appeals.services.history import history_event, history_insert_with_appeal
from core.access import Actor, require_push
from publics.models import Organization, Page

# Received times may run ahead of our clock by a little (platforms' clocks, network); more is a client error.
CLOCK_SKEW = dt.timedelta(minutes=5)
# Nothing written on a social network predates this; earlier moments are input errors (and some zones' 19th-century
# local mean time offsets are not valid ISO 8601 offsets).
EARLIEST_RECEIPT = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class AppealInput:
    kind: str
    channel: str
    text: str
    received_at: dt.datetime
    external_id: str = ""
    author_platform_id: str = ""
    author_name: str = ""
    category: Category | None = None
    priority: str = "normal"


def appeal_build(
    *,
    organization: Organization,
    page: Page | None,
    data: AppealInput,
    now: dt.datetime,
    registered_at: dt.datetime | None = None,
) -> Appeal:
    """An unsaved appeal with its policy and deadlines. `organization.region` must be loaded."""
    registered_at = registered_at or now
    appeal = Appeal(
        page=page,
        organization=organization,
        region=organization.region,
        kind=data.kind,
        channel=data.channel,
        external_id=data.external_id,
        author_platform_id=data.author_platform_id,
        author_name=data.author_name,
        text=data.text,
        category=data.category,
        priority=data.priority,
        status=Status.NEW,
        received_at=data.received_at,
        registered_at=registered_at,
        # A formal appeal's term runs from its registration (59-FZ art. 12); a message's from receipt.
        resolution_started_at=registered_at if data.kind == AppealKind.APPEAL else data.received_at,
    )
    category = data.category
    policy = sla.policy_for(
        kind=data.kind,
        channel=data.channel,
        platform=page.platform if page else "",
        category_id=category.pk if category else None,
        category_parent_id=category.parent_id if category else None,
        priority=data.priority,
        organization=organization,
    )
    sla.apply_deadlines(appeal, policy, sla.schedule_for(organization), now=now)
    return appeal


def appeal_create(
    *, actor: Actor, page: Page, data: AppealInput, now: dt.datetime | None = None
) -> tuple[Appeal, bool]:
    """Take an appeal in from a page; returns (appeal, created).

    Idempotent on (page, external_id): the same platform event delivered twice returns the stored appeal,
    also when two deliveries race (the unique constraint decides, the loser reads the winner's row).
    Refused unless `actor` may push to `page`; `page.organization.region` must be loaded.
    """
    require_push(actor, page, _("You may not push appeals to this page."))
    now = now or timezone.now()
    if data.received_at > now + CLOCK_SKEW:
        raise ValidationError({"received_at": _("The time of receipt is in the future.")})
    if data.received_at < EARLIEST_RECEIPT:
        raise ValidationError({"received_at": _("The time of receipt is implausibly early.")})
    appeal = appeal_build(organization=page.organization, page=page, data=data, now=now)
    try:
        # No look-up first: a new event (the common case) costs one INSERT, and a delivery seen before loses on
        # the unique constraint, also when two deliveries race, and reads the winner's row.
        created = history_event(
            appeal,
            actor=actor,
            action=EventAction.CREATED,
            at=now,
            to_status=Status.NEW,
            data={"policy": appeal.policy_id, "channel": appeal.channel},
        )
        history_insert_with_appeal(appeal, created)
    except IntegrityError:
        existing = Appeal.objects.filter(page=page, external_id=data.external_id).order_by().first()
        if existing is None or not data.external_id:
            raise
        return existing, False
    return appeal, True
