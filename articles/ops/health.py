"""Health and metrics for load balancers and Prometheus: ``/healthz`` and ``/metrics``.

``/healthz`` answers whether this node can serve: the database (``SELECT 1``), the cache (a key
written and read back), the default storage (media) and the task queue (its table, and how many
tasks wait). 200 and ``{"status": "ok", ...}``, or 503 naming the check that failed. It costs two
queries and a cache round trip, and is never cached by anyone.

:class:`HealthMiddleware`, first in ``MIDDLEWARE``, answers it before anything asks for the host: a
balancer probing ``http://10.0.0.11:8000/healthz`` by address would otherwise get a 400 from
``ALLOWED_HOSTS`` (and, without ``SECURE_REDIRECT_EXEMPT``, a redirect to HTTPS). For the same
reason it answers ``/metrics`` to the private addresses in ``METRICS_ALLOWED_IPS`` (127.0.0.1 by
default), so Prometheus can scrape each node by address. Anyone else reaches :func:`metrics_view`
through the URLs, where a superuser, or a staff member allowed to view task results, may read the
metrics; everyone else gets a 404. The address is the connection's own unless it came through a
proxy in ``TRUSTED_PROXIES`` (articles.content.clients): behind the local nginx every request comes
from 127.0.0.1, and nginx's X-Forwarded-For then tells who asked.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.core.files.storage import FileSystemStorage, storages
from django.db import connections
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import add_never_cache_headers

from articles.content import clients
from articles.publishing import metrics

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


# --- The checks ------------------------------------------------------------------------------------


def _database() -> dict:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _cache() -> dict:
    cache = caches["default"]
    # A key of its own for each probe: probes from several balancers never read each other's.
    key, value = f"healthz:{secrets.token_hex(8)}", secrets.token_hex(8)
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("the value written was not read back")
    cache.delete(key)
    return {}


def _storage() -> dict:
    storage = storages["default"]
    if isinstance(storage, FileSystemStorage):
        # exists() on a missing directory is simply False: ask for the directory itself.
        storage.listdir("")
    else:
        storage.exists("healthz")  # an object store answers a HEAD, found or not
    return {}


def _task_queue() -> dict:
    depth, _ = metrics.task_queue()
    return {"queue_depth": depth}


CHECKS: dict[str, Callable[[], dict]] = {
    "database": _database,
    "cache": _cache,
    "storage": _storage,
    "task_queue": _task_queue,
}


def health() -> tuple[bool, dict]:
    checks, details = {}, {}
    for name, check in CHECKS.items():
        try:
            details.update(check())
            checks[name] = "ok"
        except Exception as error:  # noqa: BLE001 - any failure means "not healthy", and says which
            logger.warning("Health check %s failed: %s: %s", name, type(error).__name__, error)
            # The kind of error only: a balancer's probe is not the place for host names or paths.
            checks[name] = f"failed: {type(error).__name__}"
    healthy = all(result == "ok" for result in checks.values())
    return healthy, {"status": "ok" if healthy else "failed", "checks": checks, **details}


def healthz(request: HttpRequest) -> HttpResponse:
    healthy, body = health()
    response = HttpResponse(json.dumps(body), status=200 if healthy else 503, content_type="application/json")
    add_never_cache_headers(response)
    return response


# --- Metrics ---------------------------------------------------------------------------------------


def from_metrics_address(request: HttpRequest) -> bool:
    return clients.client_address(request) in getattr(settings, "METRICS_ALLOWED_IPS", ("127.0.0.1",))


def may_read_metrics(user) -> bool:
    return bool(
        user.is_active
        and (user.is_superuser or (user.is_staff and user.has_perm("django_tasks_database.view_dbtaskresult")))
    )


def _metrics_response() -> HttpResponse:
    response = HttpResponse(metrics.exposition(), content_type=PROMETHEUS_CONTENT_TYPE)
    add_never_cache_headers(response)
    return response


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``/metrics`` for signed-in staff allowed to read it; a 404 for everyone else."""
    if not (from_metrics_address(request) or may_read_metrics(request.user)):
        raise Http404
    return _metrics_response()


# --- Middleware ------------------------------------------------------------------------------------


class HealthMiddleware:
    """First in MIDDLEWARE: ``/healthz`` for anyone, ``/metrics`` for METRICS_ALLOWED_IPS, before host checks."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        path = request.path_info.rstrip("/")
        if request.method in ("GET", "HEAD"):
            if path == HEALTH_PATH:
                return healthz(request)
            if path == METRICS_PATH and from_metrics_address(request):
                return _metrics_response()
        return self.get_response(request)


class ResponseMetricsMiddleware:
    """Counts every response by status class, page-cache hits included (it sits outside the page cache)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        metrics.RESPONSES.labels(metrics.status_class(response.status_code)).inc()
        return response
