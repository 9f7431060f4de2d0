"""Anonymous readers answered on the event loop, before Django builds a request.

``PublicPagesFront`` wraps the site's ASGI application (mali_history/asgi.py). A plain read (GET
or HEAD, no session, no pending notice) is answered:

- with the page cache in Redis (``articles.caching``): from the cache. One asynchronous Redis
  round trip reads the page's current tokens; the page itself is kept in this process once read,
  since for a given key and tag it never changes. A miss goes to Django, which fills the cache.
- without it, on PostgreSQL: article pages from the copies stored when they were published
  (``articles.rendered_pages``). One query reads the stored page's digest; the bytes are
  fetched once per digest and kept in this process.

Either way the front sends only what Django produced for exactly this scheme, host and path (and,
from the page cache, query string), with Django's own headers, so host validation, HTTPS
redirects and security headers stay Django's; everything else goes to the wrapped application.
Neither can be stale: the tokens and the digest are read on every request, and a stored page is
written in the transaction that changes what it shows.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import psycopg
import redis.asyncio
from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache.backends.redis import RedisCache, RedisSerializer
from django.core.signals import setting_changed
from django.db import connections
from django.dispatch import receiver
from django.http.cookie import parse_cookie
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import escape_uri_path
from django.utils.http import parse_etags, parse_http_date_safe

from mali_history.wsgi_threads import encode_headers

from . import caching, rendered_pages

logger = logging.getLogger(__name__)

NOT_MODIFIED_HEADERS = {"cache-control", "content-location", "etag", "expires", "last-modified", "vary"}
SERIALIZER = RedisSerializer()  # How Django's RedisCache stores values: raw integers, pickles.
# How long a reader waits for PostgreSQL before Django answers instead.
STORED_PAGE_TIMEOUT = 2.0
FAILURE_REPORT_INTERVAL = 60.0  # seconds


@dataclass(frozen=True)
class FrontConfig:
    """What the front reads of the settings, once (again after a setting changes, in tests)."""

    page_cache: RedisCache | None
    redis_url: str
    stored_pages: bool
    database: dict
    article_paths: re.Pattern | None
    session_cookie: str
    proxy_ssl_header: bytes | None
    proxy_ssl_value: str
    uncached_prefixes: tuple[str, ...]
    headers_read: frozenset[bytes]


@functools.cache
def front_config() -> FrontConfig | None:
    """None when the front must leave every request to Django: the host or path Django sees
    would not be the raw request's."""
    if settings.USE_X_FORWARDED_HOST or settings.USE_X_FORWARDED_PORT or settings.FORCE_SCRIPT_NAME:
        return None
    page_cache, redis_url = None, ""
    if caching.page_cache_enabled() and isinstance(caching.page_cache(), RedisCache):
        page_cache = caching.page_cache()
        location = settings.CACHES[getattr(settings, "PUBLIC_PAGE_CACHE_ALIAS", "default")]["LOCATION"]
        # The first server takes the writes, invalidations included: read there, never a replica.
        redis_url = location[0] if isinstance(location, (list, tuple)) else location.split(",")[0]
    database = connections["default"]
    # With the page cache, a miss goes to Django, which renders from the stored page and fills the
    # cache for the next reader; without it, the front reads stored pages itself.
    stored_pages = page_cache is None and database.vendor == "postgresql"
    if page_cache is None and not stored_pages:
        return None
    header, value = settings.SECURE_PROXY_SSL_HEADER or (None, "")
    if header is not None:  # HTTP_X_FORWARDED_PROTO is the header x-forwarded-proto.
        header = header.removeprefix("HTTP_").lower().replace("_", "-").encode("latin-1")
    return FrontConfig(
        page_cache=page_cache, redis_url=redis_url, stored_pages=stored_pages,
        database=_connection_params(database) if stored_pages else {},
        article_paths=_article_paths() if stored_pages else None,
        session_cookie=settings.SESSION_COOKIE_NAME, proxy_ssl_header=header, proxy_ssl_value=value,
        uncached_prefixes=caching.file_prefixes(),
        headers_read=frozenset({b"host", b"cookie", b"if-none-match", b"if-modified-since", header} - {None}),
    )


@receiver(setting_changed)
def _forget_front_config(**kwargs):
    front_config.cache_clear()


def _connection_params(database) -> dict:
    """psycopg's connection arguments for the default database, as Django would connect."""
    params = database.get_connection_params()
    # Django's own cursor classes and adapters are not needed for one query of text and JSON.
    for name in ("cursor_factory", "context", "server_side_binding", "pool", "assume_role", "isolation_level"):
        params.pop(name, None)
    return params


def _article_paths() -> re.Pattern:
    """The article pages' addresses in every language: only they have stored pages."""
    patterns = []
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            example = reverse("articles:article_detail", kwargs={"slug": "slug-mark"})
        patterns.append(re.escape(example).replace("slug\\-mark", "[-a-zA-Z0-9_]+"))
    return re.compile("|".join(patterns))


@dataclass
class ReaderRequest:
    method: str
    path: str
    url: str  # scheme, host, path and query string: the page cache's key
    origin: str  # scheme and host: the site a stored page was rendered for
    query: str
    headers: dict[bytes, str]


def reader_request(scope, config: FrontConfig) -> ReaderRequest | None:
    """The request, if it is a plain read by an anonymous reader that the front may answer."""
    method = scope["method"]
    if method not in ("GET", "HEAD") or scope.get("root_path"):
        return None
    headers = {}
    for name, value in scope["headers"]:
        if name in config.headers_read:
            if name in headers and name != b"cookie":
                return None  # Two Host headers, say: Django decides what that means.
            text = value.decode("latin-1")
            headers[name] = f"{headers[name]}; {text}" if name in headers else text
    host = headers.get(b"host")
    if not host:
        return None
    if cookie := headers.get(b"cookie"):
        cookies = parse_cookie(cookie)
        if config.session_cookie in cookies or CookieStorage.cookie_name in cookies:
            return None
    path_info = scope["path"]
    if path_info.startswith(config.uncached_prefixes):
        return None
    scheme = scope.get("scheme", "http")
    if config.proxy_ssl_header and (forwarded := headers.get(config.proxy_ssl_header)) is not None:
        scheme = "https" if forwarded.split(",", 1)[0].strip() == config.proxy_ssl_value else "http"
    path = escape_uri_path(path_info)
    query = scope.get("query_string", b"").decode("latin-1")
    origin = f"{scheme}://{host}"
    return ReaderRequest(method, path, f"{origin}{path}{'?' + query if query else ''}", origin, query, headers)


class CachedPage:
    """A page-cache entry as the front sends it: headers encoded once."""

    __slots__ = ("tag", "status", "headers", "not_modified_headers", "content", "etag", "last_modified")

    def __init__(self, tag, status, headers, content, etag, last_modified):
        self.tag, self.status, self.content, self.etag, self.last_modified = tag, status, content, etag, last_modified
        self.headers = encode_headers(headers)
        self.not_modified_headers = encode_headers((name, value) for name, value in headers
                                            if name.lower() in NOT_MODIFIED_HEADERS)


# Where the request's values go in the stored-page queries, compiled once.
PATH_MARK, ORIGIN_MARK, BUILD_MARK, DIGEST_MARK = "mark:path", "mark:origin", "mark:build", "mark:digest"


@functools.cache
def stored_page_queries() -> tuple[tuple[str, tuple], tuple[str, tuple]]:
    """(SQL, parameters) for a stored page's digest and for the page itself, compiled once from
    ``RenderedPage.objects.servable``, the one definition of which stored page may be served.
    The page comes as UTF-8 bytes: no decoding into a string and encoding back."""
    from django.db.models import BinaryField, F, Func, Value

    from .models import RenderedPage

    servable = RenderedPage.objects.servable(PATH_MARK, ORIGIN_MARK, BUILD_MARK)
    utf8 = Func(F("html"), Value("UTF8"), function="convert_to", output_field=BinaryField())
    page = servable.filter(digest=DIGEST_MARK).annotate(utf8=utf8).values_list("digest", "utf8", "headers")
    return tuple(
        # Choices as their plain values: psycopg would send an Enum's name.
        (sql, tuple(str(param) if isinstance(param, str) else param for param in params))
        for sql, params in (servable.values_list("digest").query.sql_with_params(), page.query.sql_with_params())
    )


def _bound(params: tuple, values: dict) -> tuple:
    return tuple(values.get(param, param) for param in params)


class StoredPage:
    """An article page stored at publish time, as the front sends it."""

    __slots__ = ("digest", "html", "headers", "day", "body")

    def __init__(self, digest, html, headers):
        self.digest, self.html, self.headers = digest, bytes(html), encode_headers(headers)
        self.day, self.body = None, b""

    def body_today(self) -> bytes:
        """The page with today's date as its citation's access date."""
        today = timezone.localdate()
        if self.day != today:
            self.body, self.day = rendered_pages.with_access_date_bytes(self.html), today
        return self.body


def not_modified(headers: dict[bytes, str], etag: str, last_modified: int) -> bool:
    """As ``django.utils.cache.get_conditional_response`` for a GET or HEAD of a 200."""
    if_none_match = headers.get(b"if-none-match")
    if if_none_match is not None:
        etags = parse_etags(if_none_match)
        return "*" in etags or any(e.removeprefix("W/") == etag.removeprefix("W/") for e in etags)
    since = headers.get(b"if-modified-since")
    since = parse_http_date_safe(since) if since else None
    return since is not None and last_modified <= since


class PublicPagesFront:
    """The ASGI front: see the module's docstring."""

    # Cached pages kept in each process, least recently served dropped first (about 50 kB each).
    LOCAL_ENTRIES = 256

    def __init__(self, app):
        self.app = app
        self._redis = weakref.WeakKeyDictionary()  # Per event loop: an asynchronous Redis client,
        self._databases = weakref.WeakKeyDictionary()  # and a PostgreSQL connection with its lock.
        self._entries = OrderedDict()
        self._stored = OrderedDict()  # Stored pages by digest, least recently served dropped first.
        self._last_failure_report = -FAILURE_REPORT_INTERVAL

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self.app(scope, receive, self._closing_on_shutdown(send))
        if scope["type"] == "http" and (config := front_config()) is not None:
            try:
                answer = await self._answer(scope, config)
            except Exception:
                self._report_failure()
                answer = None
            if answer is not None:
                status, headers, body = answer
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def _report_failure(self):
        """Log why the front could not answer, at most once a minute: Redis or PostgreSQL being
        down would otherwise log every request, and Django reports it too."""
        now = time.monotonic()
        if now - self._last_failure_report >= FAILURE_REPORT_INTERVAL:
            self._last_failure_report = now
            logger.warning("The front could not answer; Django does.", exc_info=True)

    def _closing_on_shutdown(self, send):
        async def send_after_closing(message):
            if message["type"] == "lifespan.shutdown.complete":
                await self.aclose()
            await send(message)

        return send_after_closing

    async def aclose(self):
        """Close this event loop's connections to Redis and PostgreSQL."""
        loop = asyncio.get_running_loop()
        if (client := self._redis.pop(loop, None)) is not None:
            await client.aclose()
        if (slot := self._databases.pop(loop, None)) is not None and slot[0] is not None:
            await slot[0].close()

    async def _answer(self, scope, config):
        request = reader_request(scope, config)
        if request is None:
            return None
        if config.page_cache is not None and (entry := await self._cached_page(config, request)) is not None:
            if not_modified(request.headers, entry.etag, entry.last_modified):
                return 304, entry.not_modified_headers, b""
            return entry.status, entry.headers, b"" if request.method == "HEAD" else entry.content
        if config.stored_pages and not request.query and config.article_paths.fullmatch(request.path):
            return await self._stored_page(config, request)
        return None

    # --- The page cache, in Redis -------------------------------------------------------------

    async def _cached_page(self, config, request) -> CachedPage | None:
        """The cached page if its tag is the current one; the tokens are read on every call."""
        cache = config.page_cache
        e_key = cache.make_key(caching.entry_key(request.url))
        keys = [cache.make_key(caching.GENERATION_KEY), cache.make_key(caching.version_key(request.path))]
        local = self._entries.get(e_key)
        client = self._redis_client(config)
        found = await client.mget(keys if local is not None else [*keys, e_key])
        generation, version = (None if raw is None else SERIALIZER.loads(raw) for raw in found[:2])
        if generation is None or version is None:
            return None
        tag = (generation, version, timezone.localdate().toordinal())
        if local is not None and local.tag == tag:
            self._entries.move_to_end(e_key)
            return local
        raw = found[2] if local is None else await client.get(e_key)
        stored = None if raw is None else SERIALIZER.loads(raw)
        if stored is None or stored[0] != tag:
            return None
        entry = self._entries[e_key] = CachedPage(*stored)
        if len(self._entries) > self.LOCAL_ENTRIES:
            self._entries.popitem(last=False)
        return entry

    def _redis_client(self, config):
        loop = asyncio.get_running_loop()
        client = self._redis.get(loop)
        if client is None:
            client = self._redis[loop] = redis.asyncio.Redis.from_url(config.redis_url)
        return client

    # --- Article pages stored at publish time, in PostgreSQL -----------------------------------

    async def _stored_page(self, config, request):
        """The stored page at this address: its digest is read on every call, its bytes once."""
        values = {PATH_MARK: request.path, ORIGIN_MARK: request.origin, BUILD_MARK: rendered_pages.build_fingerprint()}
        (digest_sql, digest_params), (page_sql, page_params) = stored_page_queries()
        row = await self._query_one(config, digest_sql, _bound(digest_params, values))
        if row is None:
            return None
        page = self._stored.get(row[0])
        if page is None:
            row = await self._query_one(config, page_sql, _bound(page_params, {**values, DIGEST_MARK: row[0]}))
            if row is None:
                return None  # Replaced meanwhile: Django answers this once.
            page = self._stored[row[0]] = StoredPage(*row)
            if len(self._stored) > self.LOCAL_ENTRIES:
                self._stored.popitem(last=False)
        else:
            self._stored.move_to_end(row[0])
        if not page.headers:
            return None  # Not the same for every reader: only Django may answer.
        body = page.body_today()
        headers = [*page.headers, (b"content-length", str(len(body)).encode())]
        return 200, headers, b"" if request.method == "HEAD" else body

    async def _query_one(self, config, sql, params):
        """One row, on this event loop's connection (opened on first use, dropped on any error)."""
        loop = asyncio.get_running_loop()
        if loop not in self._databases:
            self._databases[loop] = [None, asyncio.Lock()]
        slot = self._databases[loop]
        async with slot[1], asyncio.timeout(STORED_PAGE_TIMEOUT):
            try:
                if slot[0] is None or slot[0].closed:
                    slot[0] = await psycopg.AsyncConnection.connect(**config.database, autocommit=True)
                async with slot[0].cursor() as cursor:
                    await cursor.execute(sql, params, binary=True)
                    return await cursor.fetchone()
            except BaseException:  # A failed query, or a reader who gave up waiting: start afresh.
                connection, slot[0] = slot[0], None
                if connection is not None:
                    asyncio.ensure_future(connection.close())
                raise
