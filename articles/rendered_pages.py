"""Article pages rendered once, when they are published, so that reading one costs one query.

The article page is the heaviest the site has (sections, notes, bibliography, metadata). ``store``
renders it through the whole Django stack as an anonymous reader at ``SITE_URL`` gets it, in
every interface language, and saves it with the headers Django sent, inside the publish
transaction and under the article's row lock (``publishing.refresh_article``): a stored page is
never older than the content it shows, in every process, with or without the page cache.

Readers get it from ``articles.front`` on PostgreSQL without the page cache, or from the article
view (``stored_page``): one query, no template. Anything else is rendered live: signed-in users,
a notice to show, a query string, another host, or a deploy that changed templates, translations,
static files or code (``build_fingerprint``) until ``manage.py render_pages`` stores the pages again.
The citation box's access date is left as a mark and filled in when the page is sent.
"""
from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.http.request import split_domain_port, validate_host
from django.utils import dateformat, timezone, translation

from . import baking, caching, languages
from .caching import RENDERING_FOR_STORAGE

logger = logging.getLogger(__name__)

# What a page's look depends on besides content; their files are digested into the fingerprint.
BUILD_SUFFIXES = {".py", ".html", ".txt", ".xml", ".mo", ".json"}


@functools.cache
def build_fingerprint() -> str:
    """Digest of the templates, translations, code and static file names pages are rendered with."""
    base = Path(settings.BASE_DIR)
    files = [
        path
        for root in (base / "templates", base / "articles", base / "mali_history", base / "locale")
        for path in root.rglob("*")
        if path.suffix in BUILD_SUFFIXES and "__pycache__" not in path.parts and path.is_file()
    ]
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"  # Hashed static names, after collectstatic.
    if manifest.is_file():
        files.append(manifest)
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(files):
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@functools.lru_cache(maxsize=8)
def _formatted_day(day, language) -> str:
    with translation.override(language):
        return dateformat.format(day, "F j, Y")


def today() -> str:
    """Today as the citation's access date: in the content language, whatever the interface's."""
    return _formatted_day(timezone.localdate(), languages.content_language())


def access_date(request) -> str:
    """The cite box's "accessed" date: today; in a page rendered for storage, the mark for it."""
    from .models import RenderedPage

    return RenderedPage.ACCESS_DATE_MARK if RENDERING_FOR_STORAGE in request.META else today()


def with_access_date(html: str) -> str:
    from .models import RenderedPage

    return html.replace(RenderedPage.ACCESS_DATE_MARK, today())


def with_access_date_bytes(html: bytes) -> bytes:
    from .models import RenderedPage

    return html.replace(RenderedPage.ACCESS_DATE_MARK.encode(), today().encode())


def stored_page(request) -> str | None:
    """The page stored for this request's address, with today's access date, if it may be served."""
    from .models import RenderedPage

    if request.META.get("QUERY_STRING") or not caching.anonymous_reader(request):
        return None
    origin = f"{request.scheme}://{request.get_host()}"
    pages = RenderedPage.objects.servable(request.path, origin, build_fingerprint())
    html = next(iter(pages.values_list("html", flat=True)[:1]), None)
    return None if html is None else with_access_date(html)


def store(article) -> int:
    """Render and save ``article``'s page in every language, or drop it if the article is not live.

    The caller holds the article's row lock in the transaction that changed what the page shows.
    Returns how many pages were stored. A page that does not render is dropped, not kept old.
    """
    from .models import PublicationState, RenderedPage

    netloc = urlsplit(settings.SITE_URL).netloc
    if article.state != PublicationState.LIVE or not netloc:
        RenderedPage.objects.filter(article=article).delete()
        return 0
    client, secure = baking.site_client()
    origin = f"{'https' if secure else 'http'}://{netloc}"
    stored = 0
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            path = article.get_absolute_url()
            response = client.get(path, secure=secure, **{RENDERING_FOR_STORAGE: True})
        if response.status_code != 200 or response.streaming:
            logger.error("Could not store the page %s: Django answered %s.", path, response.status_code)
            RenderedPage.objects.filter(article=article, language=language).delete()
            continue
        # Headers only for a page any reader may get as is; the length changes with the access date.
        shareable = caching.same_for_every_reader(response.wsgi_request, response)
        headers = [[name, value] for name, value in response.items() if name.lower() != "content-length"]
        headers = headers if shareable else []
        html = response.content.decode(response.charset or "utf-8")
        digest = hashlib.blake2b(f"{path}\n{headers!r}\n{html}".encode(), digest_size=16).hexdigest()
        RenderedPage.objects.update_or_create(
            article=article, language=language,
            defaults={"path": path, "site_url": origin, "fingerprint": build_fingerprint(),
                      "html": html, "headers": headers, "digest": digest},
        )
        stored += 1
    return stored


def store_all() -> int:
    """Store every live article's pages again (after a deploy); each under its own row lock."""
    from django.db import transaction

    from .models import Article

    stored = 0
    for pk in Article.objects.published().order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            article = Article.objects.select_for_update().filter(pk=pk).first()
            if article is not None:
                stored += store(article)
    return stored


@checks.register(deploy=True)
def check_site_url(app_configs, **kwargs):
    """Pages are stored for SITE_URL: if Django refuses its host, none is ever stored."""
    domain, _port = split_domain_port(urlsplit(settings.SITE_URL).netloc)
    if domain and validate_host(domain, settings.ALLOWED_HOSTS):
        return []
    return [checks.Warning(
        f"SITE_URL ({settings.SITE_URL!r}) is not an address ALLOWED_HOSTS accepts: article pages are never "
        "stored, and every reader gets a live render.",
        hint="Set DJANGO_SITE_URL to the site's public address, e.g. https://history.example.org.",
        id="articles.W003",
    )]
