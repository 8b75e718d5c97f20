"""Token authentication that slows down guessing: failed tokens are counted per client address.

After TOKEN_AUTH_FAILURE_RATE failures (e.g. "20/min") from one address, every token presented from it is
refused with 429 and Retry-After until the window has passed, a valid one too: otherwise the guessing would
simply go on and be let in by its first hit. Requests without a token are not concerned, nor are session
logins (django-axes locks those out). The counts live in Django's cache; when the cache is down the check is
skipped (it fails open) rather than taking authentication down with it.

The count is read after the token is looked up, in the same round trip to the cache as the user's memberships
(core.access), which nearly every API request needs next: one round trip instead of two. The answers are the
same as checking first: from a locked-out address every token gets 429, a failure is not counted on top.
"""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

logger = logging.getLogger(__name__)


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


class ThrottledTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # no token presented: nothing to count
        counter = FailedTokenThrottle()
        try:
            result = super().authenticate(request)  # one query: the token with its user (select_related)
        except exceptions.AuthenticationFailed:
            if self._wait(counter, request) is not False:
                self._count_failure(counter, request)
            raise
        if result is not None:
            # Here, not at the top: core.access imports core.errors, which imports DRF, which imports this module.
            from core.access import memberships_cache_key, remember_membership_rows

            user = result[0]
            key = memberships_cache_key(user.pk)
            self._wait(counter, request, also=(key,))
            remember_membership_rows(user, counter.fetched.get(key))
        return result

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
