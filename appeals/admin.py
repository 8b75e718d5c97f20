"""Admin of the SLA rules and the topic tree; appeals themselves are handled in the desk (desk/admin.py)."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from unfold.admin import ModelAdmin

from appeals import selectors, services
from appeals.models import CalendarOverride, Category, SlaPolicy
from core.access import Scope, scope_for
from core.admin import Gender, Grammar, GrammaticalAdminMixin, ScopedModelAdmin
from publics.admin import RegionFilter


class _RuleAdmin(ScopedModelAdmin):
    """Rules (policies, calendar overrides) are added by whoever may manage some rule: administrators, analysts."""

    def may_add(self, scope: Scope) -> bool:
        return scope.may_manage_any_rule


@admin.register(SlaPolicy)
class SlaPolicyAdmin(_RuleAdmin):
    grammar = Grammar(Gender.FEMININE, pgettext_lazy("accusative", "SLA policy"))
    visible = staticmethod(selectors.sla_policies_visible_to)
    list_display = [
        "name",
        "version",
        "is_active",
        "kind",
        "channel",
        "region",
        "organization",
        "first_response",
        "resolution",
    ]
    list_filter = ["is_active", "kind", "channel", "platform", ("region", RegionFilter)]
    search_fields = ["name"]
    exclude = ["lineage", "version", "is_current", "created_by"]
    autocomplete_fields = ["organization"]

    @admin.display(description=_("first response"))
    def first_response(self, policy: SlaPolicy) -> str:
        return f"{policy.first_response_amount} {policy.get_first_response_unit_display()}"

    @admin.display(description=_("resolution"))
    def resolution(self, policy: SlaPolicy) -> str:
        return f"{policy.resolution_amount} {policy.get_resolution_unit_display()}"

    def save_model(self, request: HttpRequest, obj: SlaPolicy, form, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if change:
            stored = SlaPolicy.objects.get(pk=obj.pk)
            obj.pk = services.sla_policy_update(actor=request.user, policy=stored, data=data).pk
        else:
            fields = {f.name for f in SlaPolicy._meta.fields}
            created = services.sla_policy_create(
                actor=request.user, data={k: v for k, v in form.cleaned_data.items() if k in fields}
            )
            obj.pk = created.pk


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(_RuleAdmin):
    grammar = Grammar(Gender.FEMININE, pgettext_lazy("accusative", "calendar override"))
    visible = staticmethod(selectors.calendar_overrides_visible_to)
    list_display = ["date", "region", "kind", "hours", "reason"]
    list_filter = ["kind", ("region", RegionFilter)]
    date_hierarchy = "date"
    exclude = ["created_by"]

    def save_model(self, request: HttpRequest, obj: CalendarOverride, form, change: bool) -> None:
        stored = CalendarOverride.objects.get(pk=obj.pk) if change else CalendarOverride()
        data = {name: form.cleaned_data[name] for name in ("date", "region", "kind", "hours", "reason")}
        services.calendar_override_save(actor=request.user, override=stored, data=data)
        obj.pk = stored.pk

    def delete_model(self, request: HttpRequest, obj: CalendarOverride) -> None:
        services.calendar_override_delete(actor=request.user, override=obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may_manage(request, obj)


@admin.register(Category)
class CategoryAdmin(GrammaticalAdminMixin, ModelAdmin):
    grammar = Grammar(Gender.FEMININE, pgettext_lazy("accusative", "category"))
    list_display = ["name", "parent", "code", "is_active"]
    list_filter = ["parent", "is_active"]
    search_fields = ["name", "code"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def _admin_only(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_staff and scope_for(request.user).is_federal_admin

    has_add_permission = _admin_only
    has_change_permission = _admin_only
    has_delete_permission = _admin_only
