from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    """Overdue lists (CSV, XLSX), export jobs, the export log, Open311; imports appeals, never imported by it."""

    name = "exports"
    verbose_name = _("Exports")

    def ready(self) -> None:
        from exports.admin import register_appeal_action

        register_appeal_action()
