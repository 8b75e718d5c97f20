"""Reads of the desk, narrowed to the caller's scope (core.access)."""

from __future__ import annotations

import string
import zoneinfo

from django.db.models import Q, QuerySet

from appeals.models import Appeal
from core.access import Actor, Mode, author_shown, scope_for
from desk.models import PLACEHOLDERS, ResponseTemplate


def response_templates_visible_to(user: Actor, *, mode: Mode = "read") -> QuerySet[ResponseTemplate]:
    """Templates of the organisations the user may read (or manage); federal ones are read by everyone who has
    a scope and managed by federal administrators only."""
    scope = scope_for(user)
    if scope.grant(mode).is_empty:
        return ResponseTemplate.objects.none()
    own = scope.filter_q(mode=mode, region="organization__region_id", organization="organization_id", page=None)
    if scope.grant(mode).everything:
        condition = Q()
    elif mode == "read":
        condition = own | Q(organization__isnull=True)
    else:
        condition = own & Q(organization__isnull=False)
    return ResponseTemplate.objects.filter(condition).select_related("organization", "category")


def response_templates_for(appeal: Appeal, user: Actor) -> list[tuple[ResponseTemplate, str]]:
    """The active templates that fit the appeal (its organisation's or federal; its category, its topic's or any),
    each with its text filled in for this appeal as `user` may see it."""
    categories: list[int | None] = [None]
    if appeal.category_id is not None:
        categories += [appeal.category_id, appeal.category.parent_id]
    templates = (
        response_templates_visible_to(user)
        .filter(Q(organization_id=appeal.organization_id) | Q(organization__isnull=True), is_active=True)
        .filter(Q(category__isnull=True) | Q(category_id__in=[c for c in categories if c is not None]))
        .order_by("organization_id", "title", "id")  # the organisation's own first (NULLs sort last)
    )
    return [(template, template_text(template.text, appeal, user)) for template in templates]


class _Values(dict):
    """Unknown placeholders stay as typed, so a typo shows in the reply box instead of breaking the page."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def template_text(text: str, appeal: Appeal, user: Actor) -> str:
    shown = author_shown(user, name=appeal.author_name, platform_user_id=appeal.author_platform_id)
    zone = zoneinfo.ZoneInfo(appeal.organization.effective_timezone)
    values = _Values(
        citizen_name=shown.name,
        organization_name=appeal.organization.name,
        page_title=appeal.page.title if appeal.page_id else "",
        appeal_number=str(appeal.pk),
        received_date=appeal.received_at.astimezone(zone).strftime("%d.%m.%Y"),
    )
    assert set(values) == set(PLACEHOLDERS)
    try:
        return string.Formatter().vformat(text, (), values)
    except (ValueError, IndexError, AttributeError):  # a stray brace: the text as typed
        return text
