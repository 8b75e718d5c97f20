"""Local development: `make run`. Debug on, console email, SQLite and the embedded broker by default."""

from config.settings.base import *  # noqa: F403
from config.settings.env import env_bool

DEBUG = env_bool("DEBUG", True)
