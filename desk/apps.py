from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    """The operators' admin site: the queue, the appeal page, the start page (imports appeals, never imported)."""

    name = "desk"
    verbose_name = _("Operators' desk")
