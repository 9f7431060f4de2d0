"""Who is writing through the API: a bearer token, and how often its holder may write.

Writes accept a token and nothing else. A browser's session cookie is never read by the API,
so a page on another site cannot make a signed-in editor's browser propose anything: the
cross-site forgery a CSRF token prevents has nothing to ride on.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.errors import Throttled
from ninja.security import HttpBearer

from articles.models import ApiToken

# Proposals each token may send, per period (s, m, h or d). Every one is read by a moderator.
DEFAULT_WRITE_RATE = "60/h"
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class BearerToken(HttpBearer):
    """``Authorization: Bearer mh_…``: the active token's row (its user is ``token.user``), or 401."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = ApiToken.objects.authenticate(token.strip())
        if found is None or not found.user.is_active:
            return None
        found.mark_used()
        return found


def parse_rate(rate: str) -> tuple[int, int]:
    """``"60/h"`` → (60, 3600): how many writes, in how many seconds."""
    count, period = rate.split("/", 1)
    return int(count), PERIODS[period]


def check_write_rate(token: ApiToken) -> None:
    """Count one write for ``token``; past its allowance in this window, refuse it (429, Retry-After).

    The count is kept in the shared cache (Redis in production) with an atomic increment, so the
    limit holds across every worker and node. ``API_WRITE_RATE`` in settings changes it.
    """
    limit, period = parse_rate(getattr(settings, "API_WRITE_RATE", DEFAULT_WRITE_RATE))
    now = time.time()
    window = int(now // period)
    key = f"api-write:{token.pk}:{window}"
    cache.add(key, 0, timeout=period)
    if cache.incr(key) > limit:
        raise Throttled(wait=math.ceil((window + 1) * period - now))
