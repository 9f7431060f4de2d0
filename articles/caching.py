"""Whole-page caching of the public pages, and invalidation of exactly what a publish changes.

Reading. Views decorated with ``@public_page`` declare that their page is the same for every
anonymous reader. ``PublicPageCacheMiddleware``, first in ``MIDDLEWARE``, stores such a page
whole in the shared cache, with every header the rest of the stack added, and answers the next
anonymous reader from it before anything else runs: no query, no template. In production
``articles.front`` (mali_history/asgi.py) answers from the same entries even before Django
builds a request. Pages carry an ``ETag`` and ``Last-Modified``; a revalidating browser gets a
304. A request with a session or a pending notice is never answered from the
cache and its page is never stored, so staff always see a fresh page, and one reader's
"saved" notice never reaches another.

Never stale. Each stored page is tagged with tokens read *before* it was rendered: the
site-wide generation, its own path's version and the date. Publishing replaces the version of
every page it affects after the transaction commits (``content_changed``, called from
``articles.publishing.refresh_derived`` through ``transaction.on_commit``). A page rendered from
data older than the commit therefore carries an old token and is never served again, even if it
was stored after the invalidation, while a reader who saw the new token also sees the committed
data. Tokens are random rather than counters, so an evicted token cannot come back with an old
value; the date retires every page at midnight, for what shows "today" (the citation box's
access date). The cache is the source of truth for every process, which is why the page cache
is only on by default when the cache is shared (Redis).

Other apps add pages with the two registries below: ``@pages_for_changes`` for "which of my pages
show this object" and ``@pages_for_baking`` for "all my pages" (used by ``bake_site``).
"""
from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterable
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core import checks
from django.core.cache import caches
from django.http import HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.encoding import escape_uri_path
from django.utils.http import http_date, quote_etag

from . import languages


GENERATION_KEY = "public-page:generation"
# Bump when the stored entry's shape changes, so old entries are ignored rather than misread.
ENTRY_FORMAT = 2
# Readers revalidate every time (a publish must show at once); a 304 costs almost nothing.
PUBLIC_CACHE_CONTROL = "max-age=0, must-revalidate, public"

_change_providers: list[Callable[[object], Iterable[str]]] = []
_baking_providers: list[Callable[[], Iterable[str]]] = []


def pages_for_changes(provider):
    """Register ``provider(obj) -> paths``: the public pages that show ``obj``."""
    _change_providers.append(provider)
    return provider


def pages_for_baking(provider):
    """Register ``provider() -> paths``: every public page an app has, for ``bake_site``."""
    _baking_providers.append(provider)
    return provider


def page_cache():
    return caches[getattr(settings, "PUBLIC_PAGE_CACHE_ALIAS", "default")]


def page_cache_enabled() -> bool:
    return bool(getattr(settings, "PUBLIC_PAGE_CACHE", False))


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def version_key(path: str) -> str:
    return f"public-page:version:{_digest(path)}"


def entry_key(url: str) -> str:
    """``url`` is scheme, host, path and query: pages may show their own absolute address."""
    return f"public-page:{ENTRY_FORMAT}:{_digest(url)}"


def _new_token() -> str:
    return secrets.token_hex(8)


def _ensure_token(cache, key: str) -> str:
    cache.add(key, _new_token(), timeout=None)
    return cache.get(key)


# --- Reading ---------------------------------------------------------------------------------


def public_page(view=None, *, query: bool = False):
    """Declare a view's page the same for every anonymous reader, so the page cache may share it.

    Its page is stored only without a query string, unless ``query=True`` says the output
    depends on it (each query string is then a page of its own, invalidated with its path).
    ``pages_for_changes`` must name the page for every object it shows. Signed-in users get it
    fresh and marked private.
    """
    if view is None:
        return lambda view: public_page(view, query=query)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if _signed_in(request):
            patch_cache_control(response, private=True, no_cache=True)
        elif query or not request.META.get("QUERY_STRING"):
            response.public_page = True
        return response

    wrapped.public_page = True
    return wrapped


def _signed_in(request) -> bool:
    """True unless the request is certainly anonymous. Loads the session only if there is one."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return user is None or user.is_authenticated


# Set in the environ of the render articles.rendered_pages makes inside a publish transaction: the
# page must be rendered from the content, not taken from (or put into) the cache. Not an HTTP
# header, so no reader can send it.
RENDERING_FOR_STORAGE = "mali_history.rendering_for_storage"


def anonymous_reader(request) -> bool:
    """A request the cache may answer: a plain read with no session and no pending notice."""
    return (
        RENDERING_FOR_STORAGE not in request.META
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
    )


def _may_store(request, response) -> bool:
    """Whether the page cache may keep this finished response."""
    if request.method != "GET" or RENDERING_FOR_STORAGE in request.META:
        return False  # Rendered inside a publish transaction: not yet what other readers may see.
    return same_for_every_reader(request, response)


def same_for_every_reader(request, response) -> bool:
    """Whether this finished response, headers and all, is the same for every anonymous reader."""
    if not getattr(response, "public_page", False):
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
    if messages is not None and (messages.used or len(messages)):
        return False  # "Saved" notices are for one visitor, once.
    return True


def _conditional(request, response, etag, last_modified):
    return get_conditional_response(request, etag=etag, last_modified=last_modified, response=response)


def _stored_page(cache, url: str, path: str):
    """(the stored page if it is current, the tag a page rendered now must carry, its cache key)."""
    v_key, e_key = version_key(path), entry_key(url)
    found = cache.get_many([GENERATION_KEY, v_key, e_key])
    generation, version, entry = found.get(GENERATION_KEY), found.get(v_key), found.get(e_key)
    tag = (generation, version, timezone.localdate().toordinal())
    if entry is not None and generation is not None and version is not None and entry[0] == tag:
        return entry, tag, e_key
    if generation is None or version is None:
        tag = (generation or _ensure_token(cache, GENERATION_KEY), version or _ensure_token(cache, v_key), tag[2])
    return None, tag, e_key


def file_prefixes() -> tuple[str, ...]:
    """Where static and media files are: WhiteNoise or the media view serve them, never the cache."""
    paths = (urlsplit(url).path for url in (settings.STATIC_URL, settings.MEDIA_URL) if url)
    return tuple(path for path in paths if path != "/")


def _not_cacheable_path(path_info: str) -> bool:
    return path_info.startswith(file_prefixes())


class PublicPageCacheMiddleware:
    """Answer anonymous readers from the page cache; store what ``@public_page`` marked.

    First in ``MIDDLEWARE``: a hit skips everything else, and a stored page carries every header
    the rest of the stack added (security headers and CSP included). The key holds the scheme and
    host, so a plain-HTTP request never finds the HTTPS page (SecurityMiddleware redirects it and
    the redirect is not stored), and a page is only ever stored for a host Django accepted.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not (page_cache_enabled() and anonymous_reader(request)) or _not_cacheable_path(request.path_info):
            return self.get_response(request)
        cache = page_cache()
        path = escape_uri_path(request.path)
        query = request.META.get("QUERY_STRING", "")
        url = f"{request.scheme}://{request.get_host()}{path}{'?' + query if query else ''}"
        entry, tag, e_key = _stored_page(cache, url, path)
        if entry is not None:
            _tag, status, headers, content, etag, last_modified = entry
            response = HttpResponse(content, status=status)
            for name, value in headers:
                response.headers[name] = value
            return _conditional(request, response, etag, last_modified)

        response = self.get_response(request)
        if not _may_store(request, response):
            return response
        etag = quote_etag(hashlib.md5(response.content, usedforsecurity=False).hexdigest())
        last_modified = int(time.time())
        response.headers["ETag"] = etag
        response.headers["Last-Modified"] = http_date(last_modified)
        response.headers["Cache-Control"] = PUBLIC_CACHE_CONTROL
        entry = (tag, response.status_code, list(response.items()), response.content, etag, last_modified)
        cache.set(e_key, entry, timeout=getattr(settings, "PUBLIC_PAGE_CACHE_TIMEOUT", 86400))
        return _conditional(request, response, etag, last_modified)


@checks.register(checks.Tags.caches, deploy=True)
def check_page_cache(app_configs, **kwargs):
    """The page cache is only never-stale when every process shares it and the middleware runs."""
    if not page_cache_enabled():
        return []
    problems = []
    backend = settings.CACHES.get(getattr(settings, "PUBLIC_PAGE_CACHE_ALIAS", "default"), {}).get("BACKEND", "")
    if backend.endswith(("LocMemCache", "DummyCache")):
        problems.append(checks.Warning(
            "PUBLIC_PAGE_CACHE is on with a cache that each process keeps for itself: a publish in "
            "one process would not reach the pages cached by another.",
            hint="Set REDIS_URL, or turn the page cache off (DJANGO_PAGE_CACHE=0).",
            id="articles.W001",
        ))
    if "articles.caching.PublicPageCacheMiddleware" not in settings.MIDDLEWARE:
        problems.append(checks.Warning(
            "PUBLIC_PAGE_CACHE is on but PublicPageCacheMiddleware is not in MIDDLEWARE: nothing is cached.",
            id="articles.W002",
        ))
    return problems


# --- Invalidation ----------------------------------------------------------------------------


def invalidate_pages(paths: Iterable[str]) -> None:
    """Make the next request for each path render afresh, in every process."""
    paths = set(paths)
    if not paths:
        return
    # Stored pages of these paths (for every host and query string) no longer match their tag;
    # they are overwritten on the next request or expire.
    page_cache().set_many({version_key(path): _new_token() for path in paths}, timeout=None)


def invalidate_all() -> None:
    """Every cached page at once: after a deploy that changed templates, for example."""
    page_cache().set(GENERATION_KEY, _new_token(), timeout=None)


def pages_affected_by(obj) -> set[str]:
    """URL paths of the public pages that show ``obj``, as it is now and as it was before.

    In every interface language (``/articles/x/`` and ``/fr/articles/x/``), whichever language the
    publishing request was in: providers name each page in the default language.
    """
    paths = set()
    with translation.override(settings.LANGUAGE_CODE):
        for provider in _change_providers:
            paths.update(provider(obj))
    return languages.in_every_language(paths)


def every_public_page() -> set[str]:
    paths = set()
    with translation.override(settings.LANGUAGE_CODE):
        for provider in _baking_providers:
            paths.update(provider())
    return languages.in_every_language(paths)


def content_changed(obj=None) -> None:
    """Called after a publish commits: invalidate (and re-bake) the pages showing ``obj``.

    Without ``obj``, everything.
    """
    from . import baking

    if obj is None:
        invalidate_all()
        if baking.enabled():
            baking.bake_site()
        return
    paths = pages_affected_by(obj)
    invalidate_pages(paths)
    if baking.enabled():
        baking.bake_pages(paths)


# --- The articles app's pages ----------------------------------------------------------------


def _url(name, **kwargs) -> str | None:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:  # A slug from an old snapshot that no longer fits the pattern.
        return None


def _previous_data(obj) -> dict:
    """The snapshot that was live before the current one: where the object used to show."""
    from .models import Revision

    if obj.pk is None or obj.live_revision_id is None:
        return {}
    previous = (
        Revision.objects.for_object(obj).published()
        .exclude(pk=obj.live_revision_id)
        .order_by("-decided_at", "-pk")
        .values_list("data", flat=True)
        .first()
    )
    return previous or {}


@pages_for_changes
def _article_pages(obj):
    from . import markup, publishing
    from .models import Article, Figure, Section, Source, Topic

    home, topic_list, source_list = _url("articles:home"), _url("articles:topic_list"), _url("articles:source_list")
    before = _previous_data(obj)
    articles, topics, sources = set(), set(), set()  # ids of objects whose pages change
    paths = set()

    if isinstance(obj, Article):
        articles.add(obj.pk)
        paths.add(home)
        if before.get("slug"):
            paths.add(_url("articles:article_detail", slug=before["slug"]))
        # Topic and source pages list the article's sections under its title.
        topics.update(Topic.objects.filter(sections__article=obj).values_list("pk", flat=True))
        sources.update(Source.objects.filter(citations__section__article=obj).values_list("pk", flat=True))
    elif isinstance(obj, Section):
        articles.update(pk for pk in (obj.article_id, before.get("article")) if pk)
        # Lists show each article's "last updated", which a published section moves.
        paths.add(home)
        topics.update(obj.topics.values_list("pk", flat=True))
        topics.update(before.get("topics") or [])
        sources.update(obj.citations.values_list("source_id", flat=True))
        old_keys = markup.citation_keys(before.get("body") or "")
        if old_keys:
            sources.update(Source.objects.filter(key__in=old_keys).values_list("pk", flat=True))
    elif isinstance(obj, Topic):
        topics.add(obj.pk)
        paths.add(topic_list)
        if before.get("slug"):
            paths.add(_url("articles:topic_detail", slug=before["slug"]))
        articles.update(Article.objects.filter(sections__topics=obj).values_list("pk", flat=True))
    elif isinstance(obj, Source):
        sources.add(obj.pk)
        paths.add(source_list)
        if before.get("key"):
            paths.add(_url("articles:source_detail", key=before["key"]))
        articles.update(a.pk for a in publishing.articles_affected_by(obj))
        topics.update(t.pk for t in publishing.topics_affected_by(obj))
        topics.update(Topic.objects.filter(sections__citations__source=obj).values_list("pk", flat=True))
    elif isinstance(obj, Figure):
        articles.update(Article.objects.filter(lead_figure=obj).values_list("pk", flat=True))

    for slug in Article.objects.filter(pk__in=articles).values_list("slug", flat=True):
        paths.add(_url("articles:article_detail", slug=slug))
    for slug in Topic.objects.filter(pk__in=topics).values_list("slug", flat=True):
        paths.add(_url("articles:topic_detail", slug=slug))
    for key in Source.objects.filter(pk__in=sources).values_list("key", flat=True):
        paths.add(_url("articles:source_detail", key=key))
    paths.discard(None)
    return paths


@pages_for_baking
def _every_article_page():
    from .models import Article, Source, Topic

    paths = {_url("articles:home"), _url("articles:topic_list"), _url("articles:source_list")}
    paths.update(a.get_absolute_url() for a in Article.objects.published().only("slug"))
    paths.update(t.get_absolute_url() for t in Topic.objects.published().only("slug"))
    paths.update(s.get_absolute_url() for s in Source.objects.published().only("key"))
    paths.discard(None)
    return paths
