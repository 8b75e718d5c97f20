from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectorsConfig(AppConfig):
    """Platform events in (VK, MAX, Telegram) and deliveries out; imports appeals, never imported by it."""

    name = "connectors"
    verbose_name = _("Platform connectors")
