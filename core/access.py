"""Who sees what: the one place that decides it (domain.md section 2).

A user's memberships are folded into a `Scope` once per request. Selectors turn a scope into a filter with
`Scope.filter_q()`, naming the fields through which a row reaches a region, an organisation and a page; the
API, the admin and the exports all go through those selectors. A stranger (no scope over a row) simply does
not find it, so detail views answer 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Q


@dataclass(frozen=True)
class Grant:
    """What one level of access covers: everything, or the union of some regions, organisations and pages."""

    everything: bool = False
    region_ids: frozenset[int] = field(default_factory=frozenset)
    organization_ids: frozenset[int] = field(default_factory=frozenset)
    page_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not (self.everything or self.region_ids or self.organization_ids or self.page_ids)

    def q(self, *, region: str | None, organization: str | None, page: str | None) -> Q:
        """A filter for rows reachable through the given lookups (None: the row has no such link)."""
        if self.everything:
            return Q()
        condition = Q(pk__in=[])
        if region and self.region_ids:
            condition |= Q(**{f"{region}__in": sorted(self.region_ids)})
        if organization and self.organization_ids:
            condition |= Q(**{f"{organization}__in": sorted(self.organization_ids)})
        if page and self.page_ids:
            condition |= Q(**{f"{page}__in": sorted(self.page_ids)})
        return condition


@dataclass(frozen=True)
class Scope:
    """A user's access, as three grants.

    `read`: what they may see. `manage`: what they may change as people (operators their organisations,
    analysts their regions, administrators everything). `push`: where an integration may push data
    (its bound pages or organisation) plus everything in `manage`. Auditors have `read` only.

    `roles` lists the roles held; `personal_data` says whether citizens' personal data is shown unmasked.
    """

    read: Grant
    manage: Grant
    push: Grant
    roles: frozenset[str]
    personal_data: bool

    def filter_q(
        self,
        *,
        mode: str = "read",  # "read", "manage" or "push"
        region: str | None = None,
        organization: str | None = None,
        page: str | None = None,
    ) -> Q:
        grant = {"read": self.read, "manage": self.manage, "push": self.push}[mode]
        return grant.q(region=region, organization=organization, page=page)

    @property
    def is_federal_admin(self) -> bool:
        return "federal_admin" in self.roles

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


EMPTY_SCOPE = Scope(read=Grant(), manage=Grant(), push=Grant(), roles=frozenset(), personal_data=False)


def scope_for(user) -> Scope:
    """The user's scope, computed once and kept on the user object for the rest of the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return EMPTY_SCOPE
    cached = getattr(user, "_otklik_scope", None)
    if cached is not None:
        return cached
    scope = _build_scope(user)
    user._otklik_scope = scope
    return scope


MEMBERSHIPS_CACHE_SECONDS = 300


def memberships_cache_key(user_id: int) -> str:
    return f"otklik:memberships:{user_id}"


def _membership_rows(user) -> list[tuple]:
    """The user's memberships as plain tuples, cached: every API request needs them, they rarely change.

    publics.signals drops the entry whenever a membership of the user is saved or deleted, so a granted or
    revoked role takes effect on the next request; the expiry only bounds what a missed signal could cost.
    """
    from publics.models import Membership

    key = memberships_cache_key(user.pk)
    rows = cache.get(key)
    if rows is None:
        rows = list(
            Membership.objects.filter(user=user).values_list(
                "role", "region_id", "organization_id", "page_id", "can_view_personal_data"
            )
        )
        cache.set(key, rows, MEMBERSHIPS_CACHE_SECONDS)
    return rows


def _build_scope(user) -> Scope:
    from publics.models import Role

    if user.is_superuser:
        everything = Grant(everything=True)
        return Scope(
            read=everything,
            manage=everything,
            push=everything,
            roles=frozenset({Role.FEDERAL_ADMIN}),
            personal_data=True,
        )

    read: dict[str, set[int]] = {"region": set(), "organization": set(), "page": set()}
    manage: dict[str, set[int]] = {"region": set(), "organization": set(), "page": set()}
    push: dict[str, set[int]] = {"region": set(), "organization": set(), "page": set()}
    read_all = manage_all = False
    roles: set[str] = set()
    personal_data = False
    rows = _membership_rows(user)
    for role, region_id, organization_id, page_id, can_view_personal_data in rows:
        roles.add(role)
        if role == Role.FEDERAL_ADMIN:
            read_all = manage_all = True
            personal_data = True
            continue
        if role == Role.AUDITOR:
            # Auditors are read-only, and see personal data only when it was granted to them.
            personal_data = personal_data or can_view_personal_data
            if region_id is None:
                read_all = True
            else:
                read["region"].add(region_id)
            continue
        personal_data = personal_data or role != Role.INTEGRATION or can_view_personal_data
        for target, value in (("region", region_id), ("organization", organization_id), ("page", page_id)):
            if value is not None:
                read[target].add(value)
                push[target].add(value)
                if role != Role.INTEGRATION:
                    manage[target].add(value)

    def grant(everything: bool, ids: dict[str, set[int]]) -> Grant:
        if everything:
            return Grant(everything=True)
        return Grant(
            region_ids=frozenset(ids["region"]),
            organization_ids=frozenset(ids["organization"]),
            page_ids=frozenset(ids["page"]),
        )

    return Scope(
        read=grant(read_all, read),
        manage=grant(manage_all, manage),
        push=grant(manage_all, push),
        roles=frozenset(roles),
        personal_data=personal_data,
    )
