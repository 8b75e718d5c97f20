"""One module per platform; `PLATFORMS` maps the platform's value (publics.models.Platform) to it."""

from types import ModuleType

from connectors.platforms import max as max_bot
from connectors.platforms import telegram, vk

PLATFORMS: dict[str, ModuleType] = {"vk": vk, "max": max_bot, "telegram": telegram}
