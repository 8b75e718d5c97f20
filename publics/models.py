"""The registry: regions, organisations, their official pages, audience snapshots and memberships."""

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from core.access import ScopeKeys
from core.validators import validate_inn, validate_ogrn


def validate_timezone(value: str) -> None:
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown IANA time zone: %(value)s."), params={"value": value}, code="timezone")


class Region(models.Model):
    """One of the 89 federal subjects; loaded by migration from publics/data/regions.csv."""

    code = models.CharField(_("code"), max_length=8, unique=True, help_text=_("ISO 3166-2:RU or a stable key"))
    okato = models.CharField(_("OKATO"), max_length=5, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("name in English"), max_length=120)
    federal_district = models.CharField(_("federal district"), max_length=80, blank=True)
    timezone = models.CharField(_("time zone"), max_length=40, validators=[validate_timezone])
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    population_year = models.PositiveSmallIntegerField(_("population year"), null=True, blank=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def scope_keys(self) -> ScopeKeys:
        return ScopeKeys(region_id=self.pk)


class OrganizationKind(models.TextChoices):
    REGIONAL_GOVERNMENT = "regional_government", _("regional government")
    GOVERNOR = "governor", _("governor")
    FEDERAL_BODY = "federal_body", _("federal body")
    REGIONAL_EXECUTIVE_BODY = "regional_executive_body", _("regional executive body")
    LOCAL_GOVERNMENT = "local_government", _("local government")
    SCHOOL = "school", _("school")
    KINDERGARTEN = "kindergarten", _("kindergarten")
    HOSPITAL = "hospital", _("hospital")
    CLINIC = "clinic", _("clinic")
    THEATRE = "theatre", _("theatre")
    MUSEUM = "museum", _("museum")
    LIBRARY = "library", _("library")
    YOUTH_CENTRE = "youth_centre", _("youth centre")
    SPORTS = "sports", _("sports")
    SOCIAL_SERVICE = "social_service", _("social service")
    OTHER = "other", _("other")


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=500)
    short_name = models.CharField(_("short name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=OrganizationKind.choices)
    region = models.ForeignKey(Region, models.PROTECT, related_name="organizations", verbose_name=_("region"))
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent organization")
    )
    ogrn = models.CharField(_("OGRN"), max_length=15, null=True, blank=True, unique=True, validators=[validate_ogrn])
    inn = models.CharField(_("INN"), max_length=12, blank=True, validators=[validate_inn])
    timezone = models.CharField(
        _("time zone"),
        max_length=40,
        blank=True,
        validators=[validate_timezone],
        help_text=_("Leave empty to use the region's time zone."),
    )
    office_opens_at = models.TimeField(_("office opens at"), default=dt.time(9, 0))
    office_closes_at = models.TimeField(_("office closes at"), default=dt.time(18, 0))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # What people edit (API input, admin, CSV import): one list, so the three cannot drift apart.
    EDITABLE_FIELDS = (
        "name",
        "short_name",
        "kind",
        "region",
        "parent",
        "ogrn",
        "inn",
        "timezone",
        "office_opens_at",
        "office_closes_at",
    )

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(office_opens_at__lt=models.F("office_closes_at")), name="organization_office_hours_order"
            ),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="organization_not_own_parent"),
        ]
        indexes = [
            # Registry lists filtered by region and kind (control centres' main view).
            models.Index(fields=["region", "kind"], name="organization_region_kind_idx"),
        ]

    def __str__(self) -> str:
        return self.short_name or self.name

    def scope_keys(self) -> ScopeKeys:
        return ScopeKeys(region_id=self.region_id, organization_id=self.pk)

    def clean(self) -> None:
        if self.office_opens_at and self.office_closes_at and self.office_opens_at >= self.office_closes_at:
            raise ValidationError({"office_closes_at": _("Closing time must be later than opening time.")})
        if self.parent_id and self.pk:
            ancestor, seen = self.parent, set()
            while ancestor is not None and ancestor.pk not in seen:
                if ancestor.pk == self.pk:
                    raise ValidationError({"parent": _("An organization cannot be its own ancestor.")})
                seen.add(ancestor.pk)
                ancestor = ancestor.parent

    @property
    def effective_timezone(self) -> str:
        return self.timezone or self.region.timezone


class Platform(models.TextChoices):
    VK = "vk", _("VK")
    OK = "ok", _("OK")
    MAX = "max", _("MAX")
    TELEGRAM = "telegram", _("Telegram")


class PageCategory(models.TextChoices):
    FLAGSHIP = "flagship", _("flagship")
    ACTIVE = "active", _("active")
    CARD = "card", _("card")


class Page(models.Model):
    """An official public page ("госпаблик") or channel of an organisation on one platform."""

    organization = models.ForeignKey(Organization, models.PROTECT, related_name="pages", verbose_name=_("organization"))
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    platform_id = models.CharField(_("platform id"), max_length=64, help_text=_("The community or channel id"))
    url = models.URLField(_("URL"), max_length=500, blank=True)
    title = models.CharField(_("title"), max_length=300)
    verified = models.BooleanField(_("verified («Госорганизация»)"), default=False)
    category = models.CharField(_("category"), max_length=16, choices=PageCategory.choices, default=PageCategory.ACTIVE)
    is_primary = models.BooleanField(_("primary page on this platform"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    # Secrets: write-only in the API, never in responses, logs or admin lists.
    webhook_secret = models.CharField(_("webhook secret"), max_length=128, blank=True)
    confirmation_code = models.CharField(_("VK confirmation string"), max_length=64, blank=True)
    access_token = models.CharField(_("access token"), max_length=512, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    SECRET_FIELDS = ("webhook_secret", "confirmation_code", "access_token")
    EDITABLE_FIELDS = (
        "organization",
        "platform",
        "platform_id",
        "url",
        "title",
        "verified",
        "category",
        "is_primary",
        "is_active",
    )

    class Meta:
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        ordering = ["organization_id", "platform", "id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "platform_id"], name="page_unique_platform_id"),
            models.UniqueConstraint(
                fields=["organization", "platform"],
                condition=Q(is_primary=True),
                name="page_one_primary_per_platform",
                violation_error_message=_("The organization already has a primary page on this platform."),
            ),
            models.CheckConstraint(condition=Q(platform__in=Platform.values), name="page_platform_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_platform_display()})"

    def __repr__(self) -> str:
        # Never let secrets leak through a repr in a log or a traceback.
        return f"<Page {self.pk} {self.platform}:{self.platform_id}>"

    def scope_keys(self) -> ScopeKeys:
        # Needs `organization` loaded for the region (selectors select_related it).
        return ScopeKeys(region_id=self.organization.region_id, organization_id=self.organization_id, page_id=self.pk)


class AudienceSnapshot(models.Model):
    page = models.ForeignKey(Page, models.CASCADE, related_name="audience_snapshots", verbose_name=_("page"))
    date = models.DateField(_("date"))
    subscribers = models.PositiveBigIntegerField(_("subscribers"))
    views = models.PositiveBigIntegerField(_("views"), null=True, blank=True)
    posts = models.PositiveIntegerField(_("posts"), null=True, blank=True)

    class Meta:
        verbose_name = _("audience snapshot")
        verbose_name_plural = _("audience snapshots")
        ordering = ["page_id", "date"]
        constraints = [
            # Also the index for "latest snapshot on or before a date, per page" (reach as of a date).
            models.UniqueConstraint(fields=["page", "date"], name="audience_snapshot_unique_page_date"),
        ]
        indexes = [
            # Reach as of a date (ratings.selectors.reach_rating): every page's snapshot of exactly that date, 7 and
            # 30 days before, read as one range each, index-only; the unique index above serves the pages that
            # have none on that very date.
            models.Index(fields=["date"], include=["page", "subscribers"], name="audience_snapshot_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.page_id} {self.date}: {self.subscribers}"


class Role(models.TextChoices):
    OPERATOR = "operator", _("page operator")
    ANALYST = "analyst", _("control-centre analyst")
    AUDITOR = "auditor", _("auditor")
    FEDERAL_ADMIN = "federal_admin", _("federal administrator")
    INTEGRATION = "integration", _("integration")


class Membership(models.Model):
    """One role of a user over one scope: an organisation, a region, a page, or the whole federation.

    operator: organization; analyst: region; auditor: region, or none for the federation; federal_admin: none;
    integration: page or organization. The database enforces these shapes.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    organization = models.ForeignKey(
        Organization, models.CASCADE, null=True, blank=True, related_name="memberships", verbose_name=_("organization")
    )
    region = models.ForeignKey(
        Region, models.CASCADE, null=True, blank=True, related_name="memberships", verbose_name=_("region")
    )
    page = models.ForeignKey(
        Page, models.CASCADE, null=True, blank=True, related_name="memberships", verbose_name=_("page")
    )
    can_view_personal_data = models.BooleanField(
        _("may see citizens' personal data"),
        default=True,
        help_text=_("Auditors see personal data masked unless this is granted."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["user_id", "role", "id"]
        constraints = [
            models.CheckConstraint(
                name="membership_scope_matches_role",
                condition=(
                    Q(role="operator", organization__isnull=False, region__isnull=True, page__isnull=True)
                    | Q(role="analyst", region__isnull=False, organization__isnull=True, page__isnull=True)
                    | Q(role="auditor", organization__isnull=True, page__isnull=True)
                    | Q(role="federal_admin", organization__isnull=True, region__isnull=True, page__isnull=True)
                    | Q(role="integration", region__isnull=True, organization__isnull=False, page__isnull=True)
                    | Q(role="integration", region__isnull=True, organization__isnull=True, page__isnull=False)
                ),
            ),
            # NULL means "no scope object", so compare it as 0: one row per (user, role, scope).
            models.UniqueConstraint(
                "user",
                "role",
                Coalesce("organization", 0),
                Coalesce("region", 0),
                Coalesce("page", 0),
                name="membership_unique",
            ),
        ]

    def __str__(self) -> str:
        target = self.organization or self.region or self.page or _("Russian Federation")
        return f"{self.user} — {self.get_role_display()} — {target}"

    def clean(self) -> None:
        required = {
            Role.OPERATOR: ("organization",),
            Role.ANALYST: ("region",),
        }.get(self.role, ())
        for field in required:
            if getattr(self, f"{field}_id") is None:
                raise ValidationError({field: _("Required for this role.")})
        if self.role == Role.INTEGRATION and (self.organization_id is None) == (self.page_id is None):
            raise ValidationError(_("An integration is bound to exactly one page or one organization."))
        allowed = {
            Role.OPERATOR: {"organization"},
            Role.ANALYST: {"region"},
            Role.AUDITOR: {"region"},
            Role.FEDERAL_ADMIN: set(),
            Role.INTEGRATION: {"organization", "page"},
        }.get(self.role, set())
        for field in ("organization", "region", "page"):
            if field not in allowed and getattr(self, f"{field}_id") is not None:
                raise ValidationError({field: _("Not used by this role: leave it empty.")})
