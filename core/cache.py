"""Django's cache as a convenience that may be down (Redis restarting): failures are logged, never raised.

Every read falls back to the source of truth (the database) when the cache does not answer, so an outage
costs speed, not availability (issue: a Redis outage took the API down).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)


def cache_get(key: str, default: Any = None) -> Any:
    try:
        return cache.get(key, default)
    except Exception:
        logger.warning("cache unavailable: get %s", key, exc_info=True)
        return default


def cache_set(key: str, value: Any, timeout: float | None) -> None:
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.warning("cache unavailable: set %s", key, exc_info=True)


def cache_add(key: str, value: Any, timeout: float | None) -> bool:
    try:
        return bool(cache.add(key, value, timeout))
    except Exception:
        logger.warning("cache unavailable: add %s", key, exc_info=True)
        return False


def cache_delete(key: str) -> None:
    try:
        cache.delete(key)
    except Exception:
        logger.warning("cache unavailable: delete %s", key, exc_info=True)
