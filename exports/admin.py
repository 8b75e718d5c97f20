"""The export log and jobs in the admin (read-only), the «Просроченные обращения» page, and the appeal list's
"export the selection" action: all through exports.filters and exports.services, as the API."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from appeals.models import AppealKind, Category
from core.access import scope_for
from core.admin import GrammaticalAdminMixin
from exports import selectors, services
from exports.filters import ExportQuerySerializer
from exports.models import ExportFormat, ExportJob, ExportLogEntry
from publics.models import OrganizationKind, Platform, Region


def _may_export(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_staff and not scope_for(request.user).read.is_empty


def _stream(request: HttpRequest, serializer: ExportQuerySerializer, *, appeal_ids: tuple[int, ...] = ()):
    filters, canonical = serializer.to_filters()
    if appeal_ids:
        filters = selectors.OverdueFilters(**{**filters.__dict__, "appeal_ids": appeal_ids})
        canonical["appeal_ids"] = list(appeal_ids)
    fmt = serializer.validated_data["format"]
    chunks = services.overdue_stream(
        user=request.user, filters=filters, filters_json=canonical, fmt=fmt, channel="admin"
    )
    response = StreamingHttpResponse(chunks, content_type=services.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{services.filename_for(filters, fmt)}"'
    return response


class _ReadOnlyAdmin(GrammaticalAdminMixin, ModelAdmin):
    """Seen by whoever may export (rows narrowed by the subclass's selector); nobody adds, changes or deletes."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_export(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return _may_export(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ExportLogEntry)
class ExportLogEntryAdmin(_ReadOnlyAdmin):
    """Append-only: nobody adds, changes or deletes entries here. Administrators read all, others their own."""

    list_display = ["created_at", "user", "kind", "format", "as_of", "rows", "sha256", "channel"]
    list_filter = ["format", "channel", "created_at"]
    readonly_fields = [f.name for f in ExportLogEntry._meta.fields]
    ordering = ["-created_at", "-id"]

    def get_queryset(self, request: HttpRequest):
        return selectors.export_log_visible_to(request.user)

    def get_urls(self):
        return [
            path("overdue/", self.admin_site.admin_view(self.overdue_view), name="exports_overdue"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra = {"overdue_url": reverse("admin:exports_overdue"), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def overdue_view(self, request: HttpRequest) -> HttpResponse:
        """«Просроченные обращения»: the API's filters and formats; the file streams from the same service."""
        if not _may_export(request):
            return TemplateResponse(request, "admin/base_site.html", status=403)
        errors: dict = {}
        if "format" in request.GET:
            serializer = ExportQuerySerializer(data=request.GET)
            if serializer.is_valid():
                return _stream(request, serializer)
            errors = serializer.errors
        context = {
            **self.admin_site.each_context(request),
            "title": _("Overdue appeals"),
            "values": request.GET,
            "errors": errors,
            "regions": Region.objects.order_by("name").values_list("code", "name"),
            "categories": Category.objects.filter(parent__isnull=True).order_by("name").values_list("pk", "name"),
            "organization_kinds": OrganizationKind.choices,
            "platforms": Platform.choices,
            "kinds": AppealKind.choices,
            "formats": ExportFormat.choices,
            "log_url": reverse("admin:exports_exportlogentry_changelist"),
        }
        return TemplateResponse(request, "exports/overdue.html", context, status=400 if errors else 200)


@admin.register(ExportJob)
class ExportJobAdmin(_ReadOnlyAdmin):
    list_display = ["id", "owner", "format", "as_of", "status", "progress", "rows", "created_at", "expires_at"]
    list_filter = ["status", "format"]
    readonly_fields = [f.name for f in ExportJob._meta.fields]

    def get_queryset(self, request: HttpRequest):
        return selectors.export_jobs_visible_to(request.user).select_related("owner")


@admin.action(description=_("Export the selection's overdue appeals (CSV)"))
def export_selection(modeladmin, request: HttpRequest, queryset):
    """The overdue list as of now, narrowed to the selected appeals (of the user's scope: the changelist's
    queryset is the selector's), through the same service as the API and the page above."""
    serializer = ExportQuerySerializer(data={"format": ExportFormat.CSV})
    serializer.is_valid(raise_exception=True)
    ids = tuple(sorted(queryset.values_list("pk", flat=True)))
    if not ids:
        modeladmin.message_user(request, _("Nothing selected."), messages.WARNING)
        return None
    return _stream(request, serializer, appeal_ids=ids)


def register_appeal_action() -> None:
    """Add the action to the appeal list wherever it is registered (the desk): called from ExportsConfig.ready(),
    so that the desk need not import exports."""
    from appeals.models import Appeal

    model_admin = admin.site._registry.get(Appeal)
    if model_admin is not None and export_selection not in (model_admin.actions or []):
        model_admin.actions = [*(model_admin.actions or []), export_selection]
