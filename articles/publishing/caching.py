"""Whole-page caching of the public pages for anonymous readers, invalidated by dependency tags.

Reading. Views decorated with ``@public_page`` declare that their page is the same for every
anonymous reader, and say what it shows with :func:`depends_on` (tags such as ``article:12``,
``source:7`` or the list tag ``articles``; ``articles.publishing.dependencies`` names them).
``PublicPageCacheMiddleware``, first in ``MIDDLEWARE``, stores such a page whole in the shared
cache, headers and all, with the current token of each of its tags, and answers the next
anonymous reader from it while every token is unchanged: no query, no template, and usually one
cache round trip (the entry and its tags' tokens together). Pages carry an
``ETag`` and ``Last-Modified``; a revalidating browser gets a 304.

Invalidation. After a publish commits, :func:`bump` gives each tag the object appears under a
new random token: a few cache writes, whatever the number of pages showing the object. Every
page that showed it misses on its next request. A page rendered while a publish was committing
could hold old data under new tokens; the site-wide ``publish`` token, read before rendering and
again before storing, catches that, and such a page is simply not stored. The date retires
every page at midnight, for the citation box's access date. Tokens are random rather than
counters, so an evicted token cannot come back with an old value.

Who is an anonymous reader is defined once, in :func:`anonymous_reader`; nginx's rule for baked
pages (deploy/nginx.conf.example) mirrors its cookie names.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from functools import wraps
from typing import overload
from urllib.parse import urlsplit

from django.apps import AppConfig
from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core import checks
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.encoding import escape_uri_path
from django.utils.http import http_date, quote_etag

from articles.publishing import metrics

# Bump when the stored entry's shape changes, so old entries are ignored rather than misread.
ENTRY_FORMAT = 3
# Every page depends on this one: ``invalidate_all`` (after a deploy or a restore) bumps it.
EVERYTHING = "everything"
# Bumped by every publish, and read around each render: see the module docstring.
PUBLISH = "publish"
# Readers revalidate every time (a publish must show at once); a 304 costs almost nothing.
PUBLIC_CACHE_CONTROL = "max-age=0, must-revalidate, public"

# A view, or anything called like one (a feed, a class-based view's ``as_view()``).
ViewCallable = Callable[..., HttpResponseBase]


def page_cache() -> BaseCache:
    return caches[getattr(settings, "PUBLIC_PAGE_CACHE_ALIAS", "default")]


def page_cache_enabled() -> bool:
    return bool(getattr(settings, "PUBLIC_PAGE_CACHE", False))


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def tag_key(tag: str) -> str:
    return f"public-page:tag:{tag}"


def entry_key(url: str) -> str:
    """``url`` is scheme, host, path and query: pages may show their own absolute address."""
    return f"public-page:{ENTRY_FORMAT}:{_digest(url)}"


def _new_token() -> str:
    return secrets.token_hex(8)


# --- Who may be answered from the cache ------------------------------------------------------------


def anonymous_reader(request: HttpRequest) -> bool:
    """A plain read with no session and no pending notice: the one definition of an anonymous reader.

    Such a request may be answered from the page cache or a baked file; anything else is
    rendered for the person asking.
    """
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
    )


@overload
def public_page(
    view: ViewCallable, *, query: bool = False, paged: str = "", tags: Iterable[str] = ()
) -> ViewCallable: ...


@overload
def public_page(
    view: None = None, *, query: bool = False, paged: str = "", tags: Iterable[str] = ()
) -> Callable[[ViewCallable], ViewCallable]: ...


def public_page(
    view: ViewCallable | None = None, *, query: bool = False, paged: str = "", tags: Iterable[str] = ()
) -> ViewCallable | Callable[[ViewCallable], ViewCallable]:
    """Declare a view's page the same for every anonymous reader, so the page cache may share it.

    Its page is stored only without a query string, unless ``query=True`` says the output
    depends on it (each query string is then a page of its own). ``paged`` names the page
    parameter of a paged list (``"page"``; ``"p"`` for Django's sitemaps): ``?page=N`` alone, N a
    plain number, is then stored too. Every page of a list names the same tags, so one bump
    retires them all; a number past the end is a 404, never stored, so the entries are bounded by
    the real pages. The view names what the page shows with :func:`depends_on`, or ``tags`` when
    that is known in advance. Signed-in users get it fresh and marked private.
    """
    if view is None:
        return lambda view: public_page(view, query=query, paged=paged, tags=tags)
    page_query = re.compile(rf"{re.escape(paged)}=[1-9][0-9]{{0,8}}") if paged else None

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        depends_on(request, *tags)
        response = view(request, *args, **kwargs)
        if signed_in(request):
            patch_cache_control(response, private=True, no_cache=True)
        elif (
            query
            or not (query_string := request.META.get("QUERY_STRING"))
            or (page_query is not None and page_query.fullmatch(query_string))
        ):
            response.public_page = True
        return response

    wrapped.public_page = True
    return wrapped


def depends_on(request: HttpRequest, *tags: str) -> None:
    """Say that the page being rendered shows what ``tags`` name (see articles.publishing.dependencies)."""
    found = getattr(request, "page_cache_tags", None)
    if found is not None:
        found.update(tags)


def signed_in(request: HttpRequest) -> bool:
    """True unless the request is certainly anonymous. Loads the session only if there is one."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return user is None or user.is_authenticated


def same_for_every_reader(request: HttpRequest, response: HttpResponseBase) -> bool:
    """Whether this finished response, headers and all, is the same for every anonymous reader."""
    if request.method != "GET" or not getattr(response, "public_page", False):
        return False
    if response.status_code != 200 or response.streaming or response.cookies or response.has_header("Vary"):
        return False  # Vary: Cookie comes from a page that read the session or a CSRF token.
    session = getattr(request, "session", None)
    if session is not None and (session.accessed or session.modified):
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False  # A CSRF token is per visitor.
    if getattr(request, "_csp_nonce", None):
        return False  # A nonce must never be served twice.
    messages = getattr(request, "_messages", None)
    # "Saved" notices are for one visitor, once.
    return not (messages is not None and (messages.used or len(messages)))


def file_prefixes() -> tuple[str, ...]:
    """Where static and media files are: WhiteNoise or the media view serve them, never the cache."""
    paths = (urlsplit(url).path for url in (settings.STATIC_URL, settings.MEDIA_URL) if url)
    return tuple(path for path in paths if path != "/")


# --- The middleware --------------------------------------------------------------------------------


def _tokens(cache: BaseCache, tags: Iterable[str]) -> dict[str, str | None]:
    tags = list(tags)
    found = cache.get_many([tag_key(t) for t in tags])
    return {t: found.get(tag_key(t)) for t in tags}


class _TagHints:
    """Which tags each page had when this process last served it: a hint, never trusted.

    With it a hit costs one cache round trip (the entry and its tags' tokens in one ``get_many``)
    instead of two; the stored entry's own tags still decide, and a wrong or missing hint only
    costs the second round trip. Bounded: cleared when it grows past ``limit`` pages.
    """

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self._tags: dict[str, tuple[str, ...]] = {}

    def get(self, key: str) -> tuple[str, ...]:
        return self._tags.get(key, ())

    def remember(self, key: str, tags: Iterable[str]) -> None:
        if len(self._tags) >= self.limit:
            self._tags = {}
        self._tags[key] = tuple(tags)


def _fresh_entry(cache: BaseCache, key: str, hints: _TagHints) -> dict | None:
    """The stored page under ``key`` if every one of its tags still has the token it was stored with."""
    hinted = hints.get(key)
    found = cache.get_many([key, *(tag_key(t) for t in hinted)])
    entry = found.get(key)
    if entry is None or entry["day"] != timezone.localdate().toordinal():
        return None
    current = {t: found.get(tag_key(t)) for t in entry["tokens"] if t in hinted}
    unknown = [t for t in entry["tokens"] if t not in current]
    if unknown:
        current.update(_tokens(cache, unknown))
    hints.remember(key, entry["tokens"])
    return entry if current == entry["tokens"] else None


class PublicPageCacheMiddleware:
    """Answer anonymous readers from the page cache; store what ``@public_page`` marked.

    First in ``MIDDLEWARE``: a hit skips everything else, and a stored page carries every header
    the rest of the stack added (security headers and CSP included). The key holds the scheme and
    host, so a plain-HTTP request never finds the HTTPS page, and a page is only ever stored for
    a host Django accepted.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.tag_hints = _TagHints()

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not (page_cache_enabled() and anonymous_reader(request)) or request.path_info.startswith(file_prefixes()):
            return self.get_response(request)
        cache = page_cache()
        query = request.META.get("QUERY_STRING", "")
        key = entry_key(f"{request.scheme}://{request.get_host()}{escape_uri_path(request.path)}?{query}")
        entry = _fresh_entry(cache, key, self.tag_hints)
        metrics.PAGE_CACHE.labels("hit" if entry is not None else "miss").inc()
        if entry is not None:
            response = HttpResponse(entry["content"], status=entry["status"])
            for name, value in entry["headers"]:
                response.headers[name] = value
            return self._conditional(request, response, entry["etag"], entry["last_modified"])

        today = timezone.localdate().toordinal()  # the day the page's access date is written for
        publish_token = cache.get(tag_key(PUBLISH))
        request.page_cache_tags = {EVERYTHING}
        response = self.get_response(request)
        if not same_for_every_reader(request, response):
            return response
        tokens = _tokens(cache, request.page_cache_tags | {PUBLISH})
        if tokens[PUBLISH] != publish_token:
            return response  # A publish committed while this page was rendered: it may be older.
        if PUBLISH not in request.page_cache_tags:
            del tokens[PUBLISH]
        missing = [t for t, token in tokens.items() if token is None]
        if missing:
            for t in missing:
                cache.add(tag_key(t), _new_token(), timeout=None)
            tokens.update(_tokens(cache, missing))
        etag = quote_etag(hashlib.md5(response.content, usedforsecurity=False).hexdigest())
        last_modified = int(time.time())
        response.headers["ETag"] = etag
        response.headers["Last-Modified"] = http_date(last_modified)
        response.headers["Cache-Control"] = PUBLIC_CACHE_CONTROL
        cache.set(
            key,
            {
                "tokens": tokens,
                "day": today,
                "status": response.status_code,
                "headers": list(response.items()),
                "content": response.content,
                "etag": etag,
                "last_modified": last_modified,
            },
            timeout=getattr(settings, "PUBLIC_PAGE_CACHE_TIMEOUT", 86400),
        )
        return self._conditional(request, response, etag, last_modified)

    @staticmethod
    def _conditional(
        request: HttpRequest, response: HttpResponseBase, etag: str, last_modified: int
    ) -> HttpResponseBase:
        return get_conditional_response(request, etag=etag, last_modified=last_modified, response=response)


@checks.register(checks.Tags.caches, deploy=True)
def check_page_cache(app_configs: Sequence[AppConfig] | None, **kwargs: object) -> list[checks.CheckMessage]:
    """The page cache is only never-stale when every process shares it and the middleware runs."""
    if not page_cache_enabled():
        return []
    problems = []
    backend = settings.CACHES.get(getattr(settings, "PUBLIC_PAGE_CACHE_ALIAS", "default"), {}).get("BACKEND", "")
    if backend.endswith(("LocMemCache", "DummyCache")):
        problems.append(
            checks.Warning(
                "PUBLIC_PAGE_CACHE is on with a cache that each process keeps for itself: a publish in "
                "one process would not reach the pages cached by another.",
                hint="Set REDIS_URL, or turn the page cache off (DJANGO_PAGE_CACHE=0).",
                id="articles.W001",
            )
        )
    if "articles.publishing.caching.PublicPageCacheMiddleware" not in settings.MIDDLEWARE:
        problems.append(
            checks.Warning(
                "PUBLIC_PAGE_CACHE is on but PublicPageCacheMiddleware is not in MIDDLEWARE: nothing is cached.",
                id="articles.W002",
            )
        )
    return problems


# --- Invalidation ----------------------------------------------------------------------------------


def bump(tags: Iterable[str]) -> None:
    """Make every cached page showing what ``tags`` name miss on its next request, in every process."""
    tags = set(tags) | {PUBLISH}
    page_cache().set_many({tag_key(t): _new_token() for t in tags}, timeout=None)


def invalidate_all() -> None:
    """Every cached page at once: after a deploy that changed templates, or a restore."""
    bump({EVERYTHING})
