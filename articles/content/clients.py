"""Who is asking: the address a request came from, behind the proxies the site trusts.

``REMOTE_ADDR`` is the machine that opened the connection. Behind nginx or a load balancer that is
the proxy, the same for every reader; the proxy appends the address it saw to X-Forwarded-For. That
header is believed only when the connection came from a proxy in ``TRUSTED_PROXIES`` (loopback by
default: nginx on the same machine; the balancer's addresses when app nodes sit behind one), and
only its last entry, the one the proxy wrote: anything left of it is the client's own claim.

Sign-in throttling, the rate limits of the public forms and the metrics endpoint all ask here.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

LOOPBACK = ("127.0.0.1", "::1")


def trusted_proxies() -> tuple[str, ...]:
    return tuple(getattr(settings, "TRUSTED_PROXIES", LOOPBACK))


def client_address(request: HttpRequest | None, proxies: tuple[str, ...] | None = None) -> str:
    """The client's address: the one a trusted proxy reported, else the connection's own."""
    if request is None:
        return ""
    remote = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and remote in (trusted_proxies() if proxies is None else proxies):
        return forwarded.split(",")[-1].strip() or remote
    return remote


def count_hit(scope: str, key: str, window_seconds: int) -> int:
    """Count one more request from ``key`` in ``scope``; return how many there were in the window.

    Kept in the shared cache, so a limit holds across processes and nodes.
    """
    cache_key = f"{scope}:{key}"
    cache.add(cache_key, 0, timeout=window_seconds)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window_seconds)
        return 1
