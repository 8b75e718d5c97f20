"""The desk's own data: response templates that operators start a reply from."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from appeals.models import Category
from core.access import ScopeKeys
from publics.models import Organization

# The placeholders a template's text may use, each with what it is replaced by (desk.selectors.template_text).
PLACEHOLDERS = {
    "citizen_name": _("the citizen's name as the platform gave it"),
    "organization_name": _("the organisation's name"),
    "page_title": _("the page's title"),
    "appeal_number": _("the appeal's number"),
    "received_date": _("the date the appeal was received, in the organisation's time"),
}


class ResponseTemplate(models.Model):
    """A reply's starting text, for one organisation (or, with none, for every one) and one category (or any)."""

    organization = models.ForeignKey(
        Organization,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="response_templates",
        verbose_name=_("organization"),
        help_text=_("Empty: offered to every organisation (federal administrators only)."),
    )
    category = models.ForeignKey(
        Category,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
        help_text=_("Empty: offered for appeals of any category."),
    )
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(
        _("text"), help_text=_("Placeholders: {citizen_name}, {organization_name}, {page_title}, {appeal_number}.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("author")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("response template")
        verbose_name_plural = _("response templates")
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "category", "title"], name="response_template_unique_title"
            ),
        ]
        indexes = [
            # The appeal page's templates: the organisation's own (and the federal ones, organization IS NULL).
            models.Index(fields=["organization", "category"], name="response_template_org_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def scope_keys(self) -> ScopeKeys:
        if self.organization_id is None:
            return ScopeKeys()  # a federal template: only those who manage everything
        return ScopeKeys(region_id=self.organization.region_id, organization_id=self.organization_id)
