"""The site's URLs plus one bench-only view: the uncached article's bytes, with no work at all.

It goes through the same middleware as every page, so it is the most the Django stack could
possibly serve; the uncached article is measured against it.
"""
import functools
import os
from pathlib import Path

from django.http import HttpResponse
from django.urls import path

from mali_history.urls import urlpatterns as site_urlpatterns


@functools.cache
def article_bytes() -> bytes:
    # Read on first use: manage.py commands import this module before run_bench.py writes the file.
    return Path(os.environ["BENCH_ARTICLE_FILE"]).read_bytes()


def bare_article(request):
    return HttpResponse(article_bytes(), content_type="text/html; charset=utf-8")


urlpatterns = [path("bench/bare-article/", bare_article, name="bench_bare_article"), *site_urlpatterns]
