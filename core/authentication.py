"""Token authentication that slows down guessing: failed tokens are counted per client address.

After TOKEN_AUTH_FAILURE_RATE failures (e.g. "20/min") from one address, every token presented from it is
refused with 429 and Retry-After until the window has passed, a valid one too: otherwise the guessing would
simply go on and be let in by its first hit. Requests without a token are not concerned, nor are session
logins (django-axes locks those out). The counts live in Django's cache; when the cache is down the check is
skipped (it fails open) rather than taking authentication down with it.

A valid token's user and memberships are cached under a digest of the token (never the token itself), read in
the same round trip to the cache as the failure count: an API request with a known token costs no query for
its caller. The entry is dropped when the token is deleted, when its user is saved (deactivated, say) and when
one of the user's memberships changes (core.signals, publics.signals), so a revoked token or role is refused on
the next request; the expiry (a minute) only bounds what a missed signal (a bulk UPDATE) or a revocation racing
a request could cost. When the cache is
down every request reads the database, as DRF's TokenAuthentication does.
"""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

logger = logging.getLogger(__name__)

# How long a valid token's user and memberships stay cached. Short: it also bounds a revocation that races a
# request reading the token at that moment (the request may cache what it read just after the signal dropped it).
TOKEN_CACHE_SECONDS = 60


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or X-Forwarded-For as written by NUM_PROXIES trusted proxies.

    DRF's rule (rest_framework.throttling), shared by the token throttle and django-axes so both count one
    address the same way; with NUM_PROXIES=0 a client cannot pick its own address with a forged header.
    """
    return BaseThrottle().get_ident(request)


class FailedTokenThrottle(SimpleRateThrottle):
    """DRF's rate throttle, fed by failures only: `retry_after` checks, `record_failure` counts."""

    scope = "failed_token"

    def get_rate(self) -> str:
        # Read from settings on each use (not DRF's import-time copy), so an override applies at once.
        return settings.TOKEN_AUTH_FAILURE_RATE

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}

    def _load(self, request, also: tuple[str, ...] = ()) -> None:
        self.key = self.get_cache_key(request, None)
        self.now = self.timer()
        if also:
            values = self.cache.get_many([self.key, *also])
            history = values.pop(self.key, None) or []
            self.fetched = values
        else:
            history = self.cache.get(self.key, [])
            self.fetched = {}
        self.history = [moment for moment in history if moment > self.now - self.duration]

    def retry_after(self, request, also: tuple[str, ...] = ()) -> float | None:
        """Seconds until this address may present a token again; None when it may now. The cache keys `also`
        are read in the same round trip and left in `self.fetched` (the ones present)."""
        self._load(request, also)
        return self.wait() if len(self.history) >= self.num_requests else None

    def record_failure(self, request) -> bool:
        """Count a failed token; True when this failure reached the limit (the address is now locked out)."""
        self._load(request)
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)
        return len(self.history) == self.num_requests


def token_cache_key(key: str) -> str:
    """Where a token's user and memberships are cached: a digest, so the cache never holds a usable token."""
    return "otklik:token:" + hashlib.sha256(key.encode()).hexdigest()


def forget_cached_tokens(user_id: int) -> None:
    """Drop the cached entries of the user's tokens (the user or its memberships changed)."""
    from rest_framework.authtoken.models import Token

    keys = [token_cache_key(key) for key in Token.objects.filter(user_id=user_id).values_list("key", flat=True)]
    if keys:
        try:
            cache.delete_many(keys)
        except Exception:
            logger.warning("cache unavailable: cached tokens of user %s not dropped", user_id, exc_info=True)


class ThrottledTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # no token presented: nothing to count
        self._request = request
        return super().authenticate(request)  # checks the header's form, then authenticate_credentials

    def authenticate_credentials(self, key):
        from core.access import remember_membership_rows

        request = self._request
        counter = FailedTokenThrottle()
        entry_key = token_cache_key(key)
        available = self._wait(counter, request, also=(entry_key,))
        entry = counter.fetched.get(entry_key)
        if entry is not None:
            user, rows = entry
            remember_membership_rows(user, rows)
            return user, self.get_model()(key=key, user=user)
        try:
            user, token = super().authenticate_credentials(key)  # one query: the token with its user
        except exceptions.AuthenticationFailed:
            if available:
                self._count_failure(counter, request)
            raise
        self._remember(entry_key, user, available)
        return user, token

    @staticmethod
    def _remember(entry_key: str, user, available: bool) -> None:
        from core.access import membership_rows, remember_membership_rows

        rows = membership_rows(user)  # their own cache entry, else the database
        remember_membership_rows(user, rows)
        if not available:
            return  # the cache is down: do not wait for it twice
        try:
            cache.set(entry_key, (user, rows), TOKEN_CACHE_SECONDS)
        except Exception:
            logger.warning("cache unavailable: token not cached", exc_info=True)

    def _wait(self, counter: FailedTokenThrottle, request, also: tuple[str, ...] = ()) -> bool:
        """Raise 429 when the address is locked out; False when the counts are unavailable (the cache is down:
        fail open, authentication itself must not fail), True otherwise."""
        try:
            wait = counter.retry_after(request, also)
        except Exception:
            logger.warning("Token failure counts unavailable (cache error); not throttling", exc_info=True)
            counter.fetched = {}
            return False
        if wait is not None:
            raise exceptions.Throttled(wait=wait, detail=_("Too many failed token attempts from your address."))
        return True

    def _count_failure(self, throttle: FailedTokenThrottle, request) -> None:
        try:
            locked = throttle.record_failure(request)
        except Exception:
            logger.warning("Could not count a failed token (cache error)", exc_info=True)
            return
        if locked:
            logger.warning(
                "Token authentication locked out for %s after %s failures within %s s",
                client_ip(request),
                throttle.num_requests,
                throttle.duration,
            )


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """django-axes' answer to a locked-out login (AXES_LOCKOUT_CALLABLE): a page in the request's language."""
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(request, "core/lockout.html", {"minutes": minutes}, status=429)
