"""Admin base class that asks core.access (through the app's selectors) who sees and changes what."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from unfold.admin import ModelAdmin

from core.access import Scope, scope_for
from core.errors import ApplicationError, message_for


class ScopedModelAdmin(ModelAdmin):
    """Rows come from a selector narrowed to the user; rights follow the user's scope, not Django permissions.

    Subclasses set `visible` (a selector taking `user` and `mode`) and may override `may_add` (whether the scope
    allows creating such objects at all). Changing one object is allowed when the selector's `manage` mode finds
    it: the same rule the services check.
    """

    visible: Any = None  # selector(user, mode=...) -> QuerySet

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="", extra_context=None):
        # A service's refusal (out of scope, a conflict) is the admin's message on the same page, not the API's
        # JSON error page.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            messages.error(request, message_for(exc))
            return HttpResponseRedirect(request.get_full_path())

    def may_add(self, scope: Scope) -> bool:
        return not scope.manage.is_empty

    def get_queryset(self, request: HttpRequest):
        return type(self).visible(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and not scope_for(request.user).read.is_empty

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def _may_manage(self, request: HttpRequest, obj) -> bool:
        if not request.user.is_staff:
            return False
        if obj is None:
            return self.may_add(scope_for(request.user))
        return type(self).visible(request.user, mode="manage").filter(pk=obj.pk).exists()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may_manage(request, None)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may_manage(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return scope_for(request.user).is_federal_admin
