from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "appeals"
    verbose_name = _("Appeals")

    def ready(self) -> None:
        from appeals.services.recompute import appeals_follow_region_changes
        from publics import hooks

        # An organisation moved to another region takes its appeals with it, in the same transaction: the
        # appeal's region decides who may see it, so it must not wait for a task.
        hooks.on_organizations_changed(appeals_follow_region_changes)
