from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectorsConfig(AppConfig):
    """Platform events in (VK, MAX, Telegram) and deliveries out; imports appeals, never imported by it."""

    name = "connectors"
    verbose_name = _("Platform connectors")

    def ready(self) -> None:
        from appeals.services.hooks import on_reply_published
        from connectors.services import delivery_prepare

        # A public reply writes its delivery to the platform in the reply's own transaction.
        on_reply_published(delivery_prepare)
