from pathlib import Path

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from core import signals  # noqa: F401  (cache invalidation receivers)

        # The embedded (filesystem) broker needs its folder before the first task is sent.
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
            for folder in {options["data_folder_in"], options["data_folder_out"], options["control_folder"]}:
                Path(str(folder)).mkdir(parents=True, exist_ok=True)
