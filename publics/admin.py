from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from unfold.admin import ModelAdmin, TabularInline
from unfold.widgets import UnfoldAdminPasswordWidget, UnfoldAdminURLInputWidget

from core.access import Scope, scope_for
from core.admin import Gender, Grammar, GrammaticalAdminMixin, ScopedModelAdmin
from publics import selectors, services
from publics.models import AudienceSnapshot, Membership, Organization, Page, Region


def _model_fields(form) -> dict:
    names = {field.name for field in form._meta.model._meta.fields}
    return {name: value for name, value in form.cleaned_data.items() if name in names}


def _changes(form) -> dict:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}


class RegionFilter(admin.RelatedFieldListFilter):
    """A filter on a region: only the regions of the user's scope (`selectors.regions_visible_to`), and not shown
    when that leaves one or none: a school's operator is not offered 89 regions, nor a filter of their one."""

    def field_choices(self, field, request: HttpRequest, model_admin):
        return [(region.pk, str(region)) for region in selectors.regions_visible_to(request.user).order_by("name")]

    def has_output(self) -> bool:
        return len(self.lookup_choices) + (1 if self.include_empty_choice else 0) > 1


@admin.register(Region)
class RegionAdmin(GrammaticalAdminMixin, ModelAdmin):
    list_display = ["code", "name", "federal_district", "timezone", "population"]
    list_filter = ["federal_district", "timezone"]
    search_fields = ["code", "name", "name_en", "okato"]
    ordering = ["name"]

    # Reference data, loaded by migration: nobody edits it in the admin.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff

    has_module_permission = has_view_permission


class PageSecretsForm(forms.ModelForm):
    """Secrets are typed in but never shown back: an empty field keeps the stored value."""

    # unfold's widgets: a field declared on the form gets Django's plain one, drawn without unfold's frame.
    url = forms.URLField(
        label=capfirst(_("URL")),
        required=False,
        max_length=500,
        assume_scheme="https",
        widget=UnfoldAdminURLInputWidget,
    )
    webhook_secret = forms.CharField(
        label=capfirst(_("webhook secret")), required=False, widget=UnfoldAdminPasswordWidget
    )
    confirmation_code = forms.CharField(
        label=capfirst(_("VK confirmation string")), required=False, widget=UnfoldAdminPasswordWidget
    )
    access_token = forms.CharField(label=capfirst(_("access token")), required=False, widget=UnfoldAdminPasswordWidget)

    class Meta:
        model = Page
        fields = [*Page.EDITABLE_FIELDS, *Page.SECRET_FIELDS]

    def clean(self):
        cleaned = super().clean()
        for name in Page.SECRET_FIELDS:
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(self.instance, name)
        return cleaned


class PageInline(TabularInline):
    model = Page
    extra = 0
    # The address, the state mark and the secrets are on the page's own form (the row links to it): with them the
    # table does not fit a 1366 px screen.
    fields = ["platform", "platform_id", "title", "category", "is_primary", "is_active"]
    show_change_link = True

    # Rights follow the scope, as on the pages' own list (`obj` is the organisation): whoever sees the organisation
    # sees its pages, whoever may change it may change and add them, and only a federal administrator deletes.
    def _may_manage(self, request: HttpRequest, obj) -> bool:
        return (
            obj is not None
            and request.user.is_staff
            and selectors.organizations_visible_to(request.user, mode="manage").filter(pk=obj.pk).exists()
        )

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_staff and not scope_for(request.user).read.is_empty

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may_manage(request, obj)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may_manage(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return scope_for(request.user).is_federal_admin


@admin.register(Organization)
class OrganizationAdmin(ScopedModelAdmin):
    grammar = Grammar(Gender.FEMININE, pgettext_lazy("accusative", "organization"))
    visible = staticmethod(selectors.organizations_visible_to)
    list_display = ["name", "short_name", "kind", "region", "inn"]
    list_filter = ["kind", "region__federal_district", ("region", RegionFilter)]
    search_fields = ["name", "short_name", "inn", "ogrn"]
    autocomplete_fields = ["parent"]
    list_select_related = ["region"]
    inlines = [PageInline]
    fieldsets = [
        (None, {"fields": ["name", "short_name", "kind", "region", "parent"]}),
        (_("Registration"), {"fields": ["ogrn", "inn"]}),
        (_("Working time"), {"fields": ["timezone", "office_opens_at", "office_closes_at"]}),
    ]

    def may_add(self, scope: Scope) -> bool:
        # A new organisation belongs to a region: only those who manage a region (or everything) create one.
        return scope.manage.everything or bool(scope.manage.region_ids)

    def save_model(self, request: HttpRequest, obj: Organization, form, change: bool) -> None:
        # The form has already written into `obj`; the service gets the stored row and the changes, so that
        # its scope checks see where the organisation was and where it is going.
        if change:
            stored = Organization.objects.get(pk=obj.pk)
            services.organization_update(actor=request.user, organization=stored, data=_changes(form))
            obj.refresh_from_db()
        else:
            created = services.organization_create(actor=request.user, data=_model_fields(form))
            obj.pk = created.pk

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if formset.model is not Page:
            super().save_formset(request, form, formset, change)
            return
        # The organisation's pages go through the registry's services, as on a page's own form: the same checks,
        # and the apps above learn what changed (publics.hooks: a platform changed here re-rolls the page's rows).
        formset.save(commit=False)  # for the lists of new, changed and deleted pages that the history message reads
        for page in formset.deleted_objects:
            page.delete()
        for page_form in formset.forms:
            if page_form in formset.deleted_forms or not page_form.has_changed():
                continue
            if page_form.instance.pk is None:
                page_form.instance.pk = services.page_create(actor=request.user, data=_model_fields(page_form)).pk
            else:
                stored = Page.objects.select_related("organization").get(pk=page_form.instance.pk)
                services.page_update(actor=request.user, page=stored, data=_changes(page_form))


@admin.register(Page)
class PageAdmin(ScopedModelAdmin):
    grammar = Grammar(Gender.FEMININE, pgettext_lazy("accusative", "page"))
    visible = staticmethod(selectors.pages_visible_to)
    form = PageSecretsForm
    list_display = ["title", "platform", "platform_id", "organization", "verified", "category", "is_active"]
    list_filter = ["platform", "verified", "category", "is_active", ("organization__region", RegionFilter)]
    search_fields = ["title", "platform_id", "url", "organization__name"]
    autocomplete_fields = ["organization"]
    list_select_related = ["organization"]

    def save_model(self, request: HttpRequest, obj: Page, form, change: bool) -> None:
        if change:
            stored = Page.objects.select_related("organization").get(pk=obj.pk)
            services.page_update(actor=request.user, page=stored, data=_changes(form))
            obj.refresh_from_db()
        else:
            created = services.page_create(actor=request.user, data=_model_fields(form))
            obj.pk = created.pk


@admin.register(AudienceSnapshot)
class AudienceSnapshotAdmin(ScopedModelAdmin):
    list_display = ["page", "date", "subscribers", "views", "posts"]
    list_filter = ["page__platform", "date"]
    search_fields = ["page__title"]
    date_hierarchy = "date"
    list_select_related = ["page"]

    @staticmethod
    def visible(user, mode: str = "read"):
        pages = selectors.pages_visible_to(user, mode=mode)
        return AudienceSnapshot.objects.filter(page__in=pages.values("id"))

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # figures come from integrations; the admin shows them

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(GrammaticalAdminMixin, ModelAdmin):
    grammar = Grammar(Gender.NEUTER)
    list_display = ["user", "role", "organization", "region", "page", "can_view_personal_data"]
    list_filter = ["role", ("region", RegionFilter)]
    search_fields = ["user__username", "user__email", "organization__name"]
    autocomplete_fields = ["user", "organization", "page"]
    list_select_related = ["user", "organization", "region", "page"]

    # Only federal administrators hand out roles.
    def _is_admin(self, request: HttpRequest) -> bool:
        return request.user.is_staff and scope_for(request.user).is_federal_admin

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._is_admin(request)
