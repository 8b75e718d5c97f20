"""Who sees and does what: the one place that decides it (domain.md section 2).

A user's memberships are folded into a `Scope` once per request. Reads: selectors turn a scope into a filter
with `Scope.filter_q()`, naming the fields through which a row reaches a region, an organisation and a page;
the API, the admin and the exports all go through those selectors, so a stranger simply does not find a row
(detail views answer 404). Writes: every service asks the same scope through its predicates
(`may_manage`, `may_push`, `may_manage_rule`, or the `require_*` helpers that raise `core.errors.Refused`), so
no caller can forget the check. Masking of citizens' personal data lives here too (`author_shown`).

Objects take part through `scope_keys()`: the region, organisation and page a row belongs to (publics'
Region, Organization and Page and appeals' Appeal define it), so this module imports no app at module level.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias

from django.core.cache import cache
from django.db.models import Q

from core.errors import Refused


class SystemActor:
    """The application itself, acting where no person does: a periodic task, or an event from a platform whose
    secret was verified. It may do everything; its history events name no user."""

    pk = None
    is_authenticated = True
    is_active = True
    is_superuser = True

    def __str__(self) -> str:
        return "system"


SYSTEM = SystemActor()

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

    # Who a service acts for: a person, an integration's service user, the system, or nobody (None: no rights).
    Actor: TypeAlias = AbstractBaseUser | AnonymousUser | SystemActor | None
else:
    Actor: TypeAlias = object

logger = logging.getLogger(__name__)

Mode = Literal["read", "manage", "push"]


@dataclass(frozen=True)
class ScopeKeys:
    """Where an object sits: its region, organisation and page (None: it has no such link)."""

    region_id: int | None = None
    organization_id: int | None = None
    page_id: int | None = None


class Scoped(Protocol):
    def scope_keys(self) -> ScopeKeys: ...


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

    def covers(self, keys: ScopeKeys) -> bool:
        """Whether an object at `keys` is inside this grant: the Python twin of `q()`."""
        return (
            self.everything
            or (keys.region_id is not None and keys.region_id in self.region_ids)
            or (keys.organization_id is not None and keys.organization_id in self.organization_ids)
            or (keys.page_id is not None and keys.page_id in self.page_ids)
        )

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
    `answer`: on whose behalf the user may reply publicly, the pages' owners: operators their organisations and
    pages, administrators everything. An analyst manages a region's appeals (reassigns, escalates) but speaks for
    no page, so their region is not in it.
    """

    read: Grant
    manage: Grant
    push: Grant
    roles: frozenset[str]
    personal_data: bool
    answer: Grant = field(default_factory=Grant)

    def grant(self, mode: Mode) -> Grant:
        return {"read": self.read, "manage": self.manage, "push": self.push}[mode]

    def filter_q(
        self,
        *,
        mode: Mode = "read",
        region: str | None = None,
        organization: str | None = None,
        page: str | None = None,
    ) -> Q:
        return self.grant(mode).q(region=region, organization=organization, page=page)

    def may_read(self, obj: Scoped) -> bool:
        return self.read.covers(obj.scope_keys())

    def may_manage(self, obj: Scoped) -> bool:
        """Whether the user may change `obj` (an appeal, a page, an organisation) as a person."""
        return self.manage.covers(obj.scope_keys())

    def may_answer_for(self, obj: Scoped) -> bool:
        """Whether the user may reply publicly on `obj` (an appeal) on behalf of its page's owner."""
        return self.answer.covers(obj.scope_keys())

    def may_push(self, page: Scoped) -> bool:
        """Whether the user may push data (appeals, audience figures) to `page`."""
        return self.push.covers(page.scope_keys())

    def may_manage_region(self, region_id: int | None) -> bool:
        """Whether the user may create or move organisations into the region."""
        return self.manage.everything or (region_id is not None and region_id in self.manage.region_ids)

    # Rules (SLA policies, calendar overrides) belong to the federation, a region or an organisation. Federal and
    # organisation-level rules are the federal administrators'; a region's are also its analysts'. The same
    # rule twice: in Python for one rule, as a filter for lists; tests hold them equal.

    def may_manage_rule(self, *, region_id: int | None, organization_id: int | None = None) -> bool:
        if self.manage.everything:
            return True
        return organization_id is None and region_id is not None and region_id in self.manage.region_ids

    def manageable_rules_q(self, *, region: str = "region_id", organization: str | None = "organization_id") -> Q:
        if self.manage.everything:
            return Q()
        condition = Q(**{f"{region}__in": sorted(self.manage.region_ids)})
        if organization:
            condition &= Q(**{f"{organization}__isnull": True})
        return condition

    @property
    def may_manage_any_rule(self) -> bool:
        return self.manage.everything or bool(self.manage.region_ids)

    @property
    def is_federal_admin(self) -> bool:
        return "federal_admin" in self.roles

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


EMPTY_SCOPE = Scope(read=Grant(), manage=Grant(), push=Grant(), roles=frozenset(), personal_data=False)


# Checks for services: each raises core.errors.Refused (403 at the API edge, a message in the admin). -----------


def require_manage(actor: Actor, obj: Scoped, message: str | None = None) -> None:
    if not scope_for(actor).may_manage(obj):
        raise Refused(message)


def require_answer_for(actor: Actor, obj: Scoped, message: str | None = None) -> None:
    if not scope_for(actor).may_answer_for(obj):
        raise Refused(message)


def require_push(actor: Actor, page: Scoped, message: str | None = None) -> None:
    if not scope_for(actor).may_push(page):
        raise Refused(message)


def require_manage_region(actor: Actor, region_id: int | None, message: str | None = None) -> None:
    if not scope_for(actor).may_manage_region(region_id):
        raise Refused(message)


def require_manage_rule(
    actor: Actor, *, region_id: int | None, organization_id: int | None = None, message: str | None = None
) -> None:
    if not scope_for(actor).may_manage_rule(region_id=region_id, organization_id=organization_id):
        raise Refused(message)


# Personal data ---------------------------------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """«Иван Петров» → «И*** П***»: enough to tell authors apart in a list, not to identify them."""
    return " ".join(f"{part[0]}***" for part in name.split() if part)


@dataclass(frozen=True)
class AuthorView:
    platform_user_id: str
    name: str


def author_shown(user: Actor, *, name: str, platform_user_id: str) -> AuthorView:
    """The citizen's identity as `user` may see it: in full, or masked with no platform id.

    The one masking rule, for the API, the admin, the desk and the exports; the request's user is passed in
    every time, never remembered between requests.
    """
    if scope_for(user).personal_data:
        return AuthorView(platform_user_id=platform_user_id, name=name)
    return AuthorView(platform_user_id="", name=mask_name(name))


def may_see_personal_data(user: Actor) -> bool:
    return scope_for(user).personal_data


def scope_for(user: Actor) -> Scope:
    """The user's scope, computed once and kept on the user object for the rest of the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return EMPTY_SCOPE
    cached = getattr(user, "_otklik_scope", None)
    if cached is not None:
        return cached
    scope = _build_scope(user)
    user._otklik_scope = scope  # type: ignore[union-attr]  # kept on this request's user object only
    return scope


MEMBERSHIPS_CACHE_SECONDS = 300


def memberships_cache_key(user_id: int) -> str:
    return f"otklik:memberships:{user_id}"


def remember_membership_rows(user: Any, rows: list[tuple] | None) -> None:
    """Hand this request's user the cached entry of its memberships, read by the caller along with something else
    (token authentication reads it in the same round trip as its failure count); None: not cached."""
    user._otklik_membership_rows = rows


def membership_rows(user: Any) -> list[tuple]:
    """The user's memberships as plain tuples, cached: every API request needs them, they rarely change.

    publics.signals drops the entry whenever a membership of the user is saved or deleted, so a granted or
    revoked role takes effect on the next request; the expiry only bounds what a missed signal could cost.
    """
    rows = getattr(user, "_otklik_membership_rows", None)  # read from the cache in this request already
    if rows is not None:
        return rows
    key = memberships_cache_key(user.pk)
    try:
        rows = cache.get(key)
    except Exception:  # the cache is a convenience: with Redis down, read the database
        logger.warning("memberships cache unavailable; reading the database", exc_info=True)
        rows = None
    if rows is None:
        from publics.models import Membership

        rows = list(
            Membership.objects.filter(user=user).values_list(
                "role", "region_id", "organization_id", "page_id", "can_view_personal_data"
            )
        )
        try:
            cache.set(key, rows, MEMBERSHIPS_CACHE_SECONDS)
        except Exception:
            logger.warning("memberships cache unavailable; not caching", exc_info=True)
    return rows


def managers_q(keys: ScopeKeys) -> Q:
    """A filter on users: those whose `manage` grant covers an object at `keys` (whom an appeal can be assigned).

    The same rule as `_build_scope`'s manage grant, written as a query: operators and analysts through their
    organisation, region or page, federal administrators and superusers everywhere; auditors and integrations
    never. tests/core/test_access_predicates.py holds the two equal.
    """
    from publics.models import Role

    reach = Q(pk__in=[])
    for name, value in (("region", keys.region_id), ("organization", keys.organization_id), ("page", keys.page_id)):
        if value is not None:
            reach |= Q(**{f"memberships__{name}_id": value})
    people = Q(memberships__role__in=[Role.OPERATOR, Role.ANALYST]) & reach
    return Q(is_active=True) & (Q(is_superuser=True) | Q(memberships__role=Role.FEDERAL_ADMIN) | people)


def _build_scope(user: Any) -> Scope:
    from publics.models import Role

    if user.is_superuser:
        everything = Grant(everything=True)
        return Scope(
            read=everything,
            manage=everything,
            push=everything,
            roles=frozenset({Role.FEDERAL_ADMIN}),
            personal_data=True,
            answer=everything,
        )

    read: dict[str, set[int]] = {"region": set(), "organization": set(), "page": set()}
    manage: dict[str, set[int]] = {"region": set(), "organization": set(), "page": set()}
    push: dict[str, set[int]] = {"region": set(), "organization": set(), "page": set()}
    answer: dict[str, set[int]] = {"region": set(), "organization": set(), "page": set()}
    read_all = manage_all = False
    roles: set[str] = set()
    personal_data = False
    rows = membership_rows(user)
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
                if role == Role.OPERATOR:
                    answer[target].add(value)

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
        answer=grant(manage_all, answer),
    )
