"""Sign-in throttling for the admin: repeated failures lock one account out from one address for a while.

Five failed sign-ins for the same username from the same address within 15 minutes lock that pair
for 15 minutes, with a message saying how long. The counts live in the default cache, which is
Redis in production and shared by every gunicorn worker, so the limit holds across processes; a
worker's own memory would let an attacker multiply it by the number of workers.

The pair, not the account alone, is locked, so that someone guessing from elsewhere cannot lock an
editor out of their own office. The address is REMOTE_ADDR, or, when the request came through a
trusted proxy (``TRUSTED_PROXIES``, loopback by default: nginx in deploy/nginx.conf.example; or
``LOGIN_THROTTLE_TRUSTED_PROXIES`` for sign-ins alone), the address that proxy appended to
X-Forwarded-For (articles.content.clients).

Wrong two-factor codes (articles.admin.two_factor) are counted the same way, on a count of their
own that a correct password does not clear, and lock the same pair: five wrong codes, and neither
the password nor a code is accepted from that address for 15 minutes.

Settings (all optional): ``LOGIN_THROTTLE_MAX_FAILURES`` (5), ``LOGIN_THROTTLE_WINDOW`` and
``LOGIN_THROTTLE_LOCKOUT`` (seconds, 900 each).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

from articles.content import clients

logger = logging.getLogger(__name__)

_PREFIX = "login-throttle"
# What failed: the password (the first step of signing in) or a two-factor code (the second).
PASSWORD = "failures"
CODE = "code-failures"


def _setting(name: str, default):
    return getattr(settings, f"LOGIN_THROTTLE_{name}", default)


def max_failures() -> int:
    return int(_setting("MAX_FAILURES", 5))


def window() -> int:
    return int(_setting("WINDOW", 15 * 60))


def lockout() -> int:
    return int(_setting("LOCKOUT", 15 * 60))


def _now() -> float:
    return time.time()


def client_ip(request) -> str:
    """The address the sign-in came from (see the module docstring for proxies)."""
    proxies = _setting("TRUSTED_PROXIES", None)
    return clients.client_address(request, None if proxies is None else tuple(proxies))


def _key(kind: str, username: str, ip: str) -> str:
    # Hashed: usernames may hold characters a cache key may not, and need not be readable in Redis.
    digest = hashlib.sha256(f"{username.casefold()}\0{ip}".encode()).hexdigest()[:32]
    return f"{_PREFIX}:{kind}:{digest}"


def seconds_locked(username: str, ip: str) -> int:
    """How long this username is still locked out from this address (0: not locked)."""
    until = cache.get(_key("locked", username, ip))
    if until is None:
        return 0
    return max(0, math.ceil(until - _now()))


def register_failure(username: str, ip: str, step: str = PASSWORD) -> int:
    """Count a failed sign-in; return the lockout in seconds if this one reached the limit, else 0."""
    key = _key(step, username, ip)
    # add() then incr(): both atomic in Redis, so concurrent failures in several workers all count.
    # The window starts at the first failure and is not extended by later ones.
    cache.add(key, 0, timeout=window())
    try:
        failures = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=window())
        failures = 1
    if failures < max_failures():
        return 0
    seconds = lockout()
    cache.set(_key("locked", username, ip), _now() + seconds, timeout=seconds)
    cache.delete(key)
    logger.warning(
        "Sign-in locked for %s seconds after %s failures: username=%r ip=%s", seconds, failures, username, ip
    )
    return seconds


def clear_failures(username: str, ip: str, step: str = PASSWORD) -> None:
    cache.delete(_key(step, username, ip))


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed sign-ins. Try again in %(minutes)d minute.",
        "Too many failed sign-ins. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin sign-in form, refusing even a correct password while the pair is locked."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if username is None or not self.cleaned_data.get("password"):
            return super().clean()
        ip = client_ip(self.request)
        remaining = seconds_locked(username, ip)
        if remaining:
            raise ValidationError(lockout_message(remaining), code="locked")
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if error.code in ("invalid_login", "inactive"):
                locked = register_failure(username, ip)
                if locked:
                    raise ValidationError(lockout_message(locked), code="locked") from error
            raise
        clear_failures(username, ip)
        return cleaned
