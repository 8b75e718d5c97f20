"""Admin base classes: grammatical Russian titles and messages, and rights asked of core.access (via selectors)."""

import enum
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import quote
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext
from unfold.admin import ModelAdmin

from core.access import Scope, scope_for
from core.errors import ApplicationError, message_for


class Gender(enum.Enum):
    MASCULINE = "masculine"
    FEMININE = "feminine"
    NEUTER = "neuter"


@dataclass(frozen=True)
class Grammar:
    """What Russian needs beyond `verbose_name` (the nominative): the gender and the accusative.

    Django's admin puts `verbose_name` into phrases that need the accusative («Выберите %s для изменения»,
    «Добавить %s», «Удалить %s») and into phrases that need the nominative and its gender («%s “…” был успешно
    изменён», unique-value errors, inline headings). `verbose_name` stays the nominative (it is also the field
    label, the API's error text and the schema's wording); the accusative, where it differs (feminine nouns), is
    a `pgettext_lazy("accusative", ...)` given here.
    """

    gender: Gender = Gender.MASCULINE
    accusative: str | Promise | None = None  # None: the same as the nominative (inanimate masculine, neuter)


def _saved_phrase(event: str, gender: Gender) -> str:
    # Written out so that makemessages sees every (context, phrase) pair.
    phrases = {
        ("added", Gender.MASCULINE): pgettext("masculine", "The {name} “{obj}” was added."),
        ("added", Gender.FEMININE): pgettext("feminine", "The {name} “{obj}” was added."),
        ("added", Gender.NEUTER): pgettext("neuter", "The {name} “{obj}” was added."),
        ("changed", Gender.MASCULINE): pgettext("masculine", "The {name} “{obj}” was changed."),
        ("changed", Gender.FEMININE): pgettext("feminine", "The {name} “{obj}” was changed."),
        ("changed", Gender.NEUTER): pgettext("neuter", "The {name} “{obj}” was changed."),
        ("deleted", Gender.MASCULINE): pgettext("masculine", "The {name} “{obj}” was deleted."),
        ("deleted", Gender.FEMININE): pgettext("feminine", "The {name} “{obj}” was deleted."),
        ("deleted", Gender.NEUTER): pgettext("neuter", "The {name} “{obj}” was deleted."),
        ("another", Gender.MASCULINE): pgettext("masculine", "You may add another {name} below."),
        ("another", Gender.FEMININE): pgettext("feminine", "You may add another {name} below."),
        ("another", Gender.NEUTER): pgettext("neuter", "You may add another {name} below."),
    }
    return phrases[(event, gender)]


# Django's generic titles that take the model's name.
# Django's own msgids (its catalog translates them), so kept out of makemessages' sight in variables.
_TITLES = ("Select %s", "Select %s to change", "Select %s to view", "Add %s", "Change %s", "View %s")
_CANNOT_DELETE = "Cannot delete %(name)s"
# Django's Russian «Добавить еще один %(verbose_name)s» (below an inline's rows, and beside a relation's select)
# is masculine whatever the model: «…еще один Страница». The project's catalogue gives both phrases a form that
# agrees with any noun («Добавить ещё: страница»). Marked here for makemessages; Django and unfold ask for them.
_ADD_ANOTHER = (gettext_noop("Add another %(verbose_name)s"), gettext_noop("Add another %(model)s"))


class GrammaticalAdminMixin:
    """Titles in the accusative and success messages in the model's gender, for a ModelAdmin.

    Set `grammar` on the ModelAdmin. Titles are Django's own phrases, re-filled with the accusative after the
    view has built its (not yet rendered) response; a title a subclass wrote itself is left alone. The messages
    after add, change and delete are replaced by phrases in the model's gender.
    """

    grammar = Grammar()
    opts: Any

    def _accusative(self) -> str:
        return str(self.grammar.accusative or self.opts.verbose_name)

    def _regrammar(self, response: HttpResponse) -> HttpResponse:
        if not isinstance(response, TemplateResponse) or response.context_data is None:
            return response
        context = response.context_data
        nominative, accusative = str(self.opts.verbose_name), self._accusative()
        for phrase in _TITLES:
            if context.get("title") == _(phrase) % nominative:
                context["title"] = _(phrase) % accusative
        if context.get("object_name") == nominative:  # the delete page: «Удалить организацию “…”?»
            if context.get("title") == _(_CANNOT_DELETE) % {"name": nominative}:
                context["title"] = _(_CANNOT_DELETE) % {"name": accusative}
            context["object_name"] = accusative
        context["verbose_name_accusative"] = accusative  # for templates' own «Добавить …» links
        return response

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return self._regrammar(super().changelist_view(request, extra_context))  # type: ignore[misc]

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="", extra_context=None) -> HttpResponse:
        return self._regrammar(super().changeform_view(request, object_id, form_url, extra_context))  # type: ignore[misc]

    def delete_view(self, request: HttpRequest, object_id, extra_context: dict | None = None) -> HttpResponse:
        return self._regrammar(super().delete_view(request, object_id, extra_context))  # type: ignore[misc]

    # The success messages: the response_* methods note what happened; message_user, which they call, says it.
    def response_add(self, request: HttpRequest, obj, post_url_continue=None) -> HttpResponse:
        request._saved_for_message = ("added", obj)  # type: ignore[attr-defined]
        return super().response_add(request, obj, post_url_continue)  # type: ignore[misc]

    def response_change(self, request: HttpRequest, obj) -> HttpResponse:
        event = "added" if "_saveasnew" in request.POST else "changed"
        request._saved_for_message = (event, obj)  # type: ignore[attr-defined]
        return super().response_change(request, obj)  # type: ignore[misc]

    def response_delete(self, request: HttpRequest, obj_display: str, obj_id) -> HttpResponse:
        request._saved_for_message = ("deleted", obj_display)  # type: ignore[attr-defined]
        return super().response_delete(request, obj_display, obj_id)  # type: ignore[misc]

    def saved_message(self, request: HttpRequest, event: str, obj) -> str:
        """«Организация «Школа № 1571» изменена.», with the continuation the pressed button asks for."""
        shown = obj
        if event != "deleted" and self.has_change_permission(request, obj):  # type: ignore[attr-defined]
            url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[quote(obj.pk)])
            shown = format_html('<a href="{}">{}</a>', url, obj)
        message = format_html(
            _saved_phrase(event, self.grammar.gender), name=capfirst(self.opts.verbose_name), obj=shown
        )
        if event == "deleted":
            return message
        if "_continue" in request.POST or "_saveasnew" in request.POST:
            return format_html("{} {}", message, _("You may go on editing below."))
        if "_addanother" in request.POST:
            another = _saved_phrase("another", self.grammar.gender).format(name=self._accusative())
            return format_html("{} {}", message, another)
        return message

    def message_user(self, request: HttpRequest, message, level=messages.INFO, extra_tags="", fail_silently=False):
        saved = request.__dict__.pop("_saved_for_message", None)
        if saved is not None and level == messages.SUCCESS:
            message = self.saved_message(request, *saved)
        return super().message_user(request, message, level, extra_tags, fail_silently)  # type: ignore[misc]


class ScopedModelAdmin(GrammaticalAdminMixin, ModelAdmin):
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
        except (ApplicationError, ValidationError) as exc:
            # A ValidationError here is a service's check the form could not make: rows of one save that
            # conflict with each other only once the first is written (two primary pages of one platform).
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
