"""Response templates, managed by whoever handles the organisation's appeals (desk.services checks it)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from core.access import Scope, scope_for
from core.admin import ScopedModelAdmin
from desk import selectors, services
from desk.models import ResponseTemplate
from publics.selectors import organizations_visible_to


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(ScopedModelAdmin):
    visible = staticmethod(selectors.response_templates_visible_to)
    list_display = ["title", "organization", "category", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["title", "text"]
    fields = ["title", "organization", "category", "text", "is_active"]
    list_select_related = ["organization", "category"]

    def may_add(self, scope: Scope) -> bool:
        return not scope.manage.is_empty

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "organization":
            # Only organisations whose appeals the user handles; federal templates (empty) for administrators.
            kwargs["queryset"] = organizations_visible_to(request.user, mode="manage").order_by("name")
            kwargs["required"] = not scope_for(request.user).manage.everything
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: ResponseTemplate, form, change: bool) -> None:
        services.response_template_save(actor=request.user, template=obj)

    def delete_model(self, request: HttpRequest, obj: ResponseTemplate) -> None:
        services.response_template_delete(actor=request.user, template=obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may_manage(request, obj) if obj is not None else not scope_for(request.user).manage.is_empty

    def get_actions(self, request: HttpRequest):
        return {}  # deleting many at once would bypass the service

    def get_changeform_initial_data(self, request: HttpRequest):
        initial = super().get_changeform_initial_data(request)
        organizations = list(organizations_visible_to(request.user, mode="manage").values_list("pk", flat=True)[:2])
        if len(organizations) == 1:
            initial.setdefault("organization", organizations[0])
        return initial
