"""The site's URLs plus two bench-only views, never part of the site.

- The bare view: the uncached article's bytes, with no work at all. It goes through the same
  middleware as every page, so it is the most the Django stack could possibly serve; the
  uncached article is measured against it.
- The stock reference: any public page at /bench/cache-page/<its path>, answered by the site's own
  view wrapped in Django's stock ``cache_page`` (in the same Redis cache), behind every middleware.
  The site's page cache is measured against it.
"""

import functools
import os
from pathlib import Path

from django.http import HttpResponse
from django.urls import path, resolve
from django.views.decorators.cache import cache_page

from mali_history.urls import urlpatterns as site_urlpatterns

STOCK_CACHE_SECONDS = 600


@functools.cache
def article_bytes() -> bytes:
    # Read on first use: manage.py commands import this module before run_bench.py writes the file.
    return Path(os.environ["BENCH_ARTICLE_FILE"]).read_bytes()


def bare_article(request):
    return HttpResponse(article_bytes(), content_type="text/html; charset=utf-8")


@functools.cache
def with_cache_page(view):
    return cache_page(STOCK_CACHE_SECONDS, key_prefix="bench-stock-cache-page")(view)


def stock_cache_page(request, page):
    """The page at /<page>, as the site's view renders it, cached by Django's cache_page."""
    match = resolve(f"/{page}")
    return with_cache_page(match.func)(request, *match.args, **match.kwargs)


urlpatterns = [
    path("bench/bare-article/", bare_article, name="bench_bare_article"),
    path("bench/cache-page/<path:page>", stock_cache_page, name="bench_stock_cache_page"),
    *site_urlpatterns,
]
