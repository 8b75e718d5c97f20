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


_redis_clients: dict[str, Any] = {}


def redis_client() -> Any | None:
    """A redis-py client on the cache's Redis (shared by the process), or None when the cache is not Redis.

    For the few uses that need more than Django's cache (sets): short timeouts, so an outage costs a fraction of
    a second and the caller's fallback, never a hung request.
    """
    from django.conf import settings

    config = settings.CACHES["default"]
    if not config["BACKEND"].endswith("RedisCache"):
        return None
    url = config["LOCATION"]
    client = _redis_clients.get(url)
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        _redis_clients[url] = client
    return client
