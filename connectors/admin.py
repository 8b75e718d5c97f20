"""Admin of the connectors: platform events (administrators), deliveries (scoped, with retry), page connectors."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from unfold.admin import ModelAdmin

from connectors import selectors, services
from connectors.models import Delivery, PageConnector, PlatformEvent
from core.access import scope_for
from core.admin import Gender, Grammar, GrammaticalAdminMixin, ScopedModelAdmin
from core.errors import ApplicationError, message_for
from publics.selectors import pages_visible_to


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(PlatformEvent)
class PlatformEventAdmin(_ReadOnly, GrammaticalAdminMixin, ModelAdmin):
    grammar = Grammar(Gender.NEUTER)
    list_display = ["id", "platform", "page", "event_type", "received_at", "status", "attempts", "outcome", "appeal"]
    # Choice fields only: a filter on a free-text column would scan millions of rows for its values.
    list_filter = ["platform", "status"]
    search_fields = ["=event_key", "=page__id"]
    list_select_related = ["page"]
    raw_id_fields = ["page", "appeal"]
    show_full_result_count = False  # millions of rows: no COUNT(*) per page view
    actions = ["reprocess"]

    def get_queryset(self, request: HttpRequest):
        return selectors.platform_events_visible_to(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and scope_for(request.user).is_federal_admin

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    @admin.action(description=_("Process the selected events again"))
    def reprocess(self, request: HttpRequest, queryset) -> None:
        done = 0
        for event_id in queryset.values_list("pk", flat=True)[:1000]:
            try:
                services.event_reprocess(actor=request.user, event_id=event_id)
            except ApplicationError as exc:
                self.message_user(request, message_for(exc), messages.ERROR)
                return
            done += 1
        self.message_user(
            request, ngettext("%(count)d event queued again.", "%(count)d events queued again.", done) % {"count": done}
        )


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly, ScopedModelAdmin):
    grammar = Grammar(Gender.FEMININE, pgettext_lazy("accusative", "delivery"))
    visible = staticmethod(selectors.deliveries_visible_to)
    list_display = ["id", "appeal", "platform", "method", "status", "attempts", "error_code", "created_at"]
    list_filter = ["status", "platform"]
    search_fields = ["=appeal__id"]
    raw_id_fields = ["appeal", "reply", "page"]
    exclude = ["params"]  # the reply's text is on the appeal; the call's parameters are for the logs
    show_full_result_count = False
    actions = ["retry"]

    @admin.action(description=_("Send the selected failed deliveries again"))
    def retry(self, request: HttpRequest, queryset) -> None:
        done = 0
        for delivery_id in queryset.values_list("pk", flat=True)[:1000]:
            try:
                services.delivery_retry(actor=request.user, delivery_id=delivery_id)
            except (ApplicationError, ValidationError) as exc:
                self.message_user(request, f"#{delivery_id}: {message_for(exc)}", messages.ERROR)
                continue
            done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.", done)
                % {"count": done},
            )


@admin.register(PageConnector)
class PageConnectorAdmin(ScopedModelAdmin):
    grammar = Grammar(Gender.NEUTER)
    visible = staticmethod(
        lambda user, mode="read": PageConnector.objects.filter(page__in=pages_visible_to(user, mode=mode).values("pk"))
    )
    list_display = ["page", "poll_comments", "comments_polled_at"]
    list_filter = ["poll_comments"]
    readonly_fields = ["comments_polled_at"]

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "page":
            # Only pages the user may manage can be given settings.
            kwargs["queryset"] = pages_visible_to(request.user, mode="manage").filter(platform="max")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
