from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicsConfig(AppConfig):
    name = "publics"
    verbose_name = _("Registry of public pages")

    def ready(self) -> None:
        from publics import signals  # noqa: F401  (connects the membership cache invalidation)
