from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RatingsConfig(AppConfig):
    name = "ratings"
    verbose_name = _("Ratings")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from appeals.services import hooks
        from publics import hooks as registry_hooks
        from ratings import services
        from ratings.sql import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="ratings.sqlite_functions")
        # A change of an appeal (every change writes a history event) re-rolls its page and day on commit.
        hooks.on_history_written(services.rollups_queue_reroll)
        # A change of an organisation's zone, region, kind or office hours re-rolls all its rows on commit.
        registry_hooks.on_organizations_changed(services.rollups_queue_organization_reroll)
        # A change of the calendar re-rolls the rows whose appeals span a changed date, on commit.
        hooks.on_calendar_changed(services.rollups_queue_calendar_sync)
        # A change of a page's platform re-rolls all its rows on commit.
        registry_hooks.on_pages_changed(services.rollups_queue_page_reroll)
