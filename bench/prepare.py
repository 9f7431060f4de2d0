"""The Django side of the benchmark, run by run_bench.py in its own process after the demo and
the seed article are loaded: picks the pages, counts SQL queries per request (the stock
cache_page reference included), fills the review queue, bakes the site, and prints what
run_bench.py needs as JSON.

    DJANGO_SETTINGS_MODULE=bench.settings python bench/prepare.py OUT_DIR
"""

import json
import sys
from pathlib import Path

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402

from articles.models import Article, PublicationState, Revision, RevisionAction, Section, Topic  # noqa: E402
from articles.publishing import baking  # noqa: E402

REVIEW_QUEUE = "/admin/articles/revision/"
QUEUE_SIZES = (10, 10_000)


def get(client, url):
    """One request, as gunicorn behind nginx gets it; returns (response, number of queries)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, secure=True)
    assert response.status_code == 200, (url, response.status_code)
    return response, len(queries)


def fill_queue(size, section, editor):
    """Pending proposals up to ``size``, inserted in bulk (the services would take minutes)."""
    missing = size - Revision.objects.pending().count()
    content_type = ContentType.objects.get_for_model(Section)
    data = section.snapshot()
    Revision.objects.bulk_create(
        [
            Revision(
                content_type=content_type,
                object_id=section.pk,
                object_repr=section.title[:300],
                article_id=section.article_id,
                action=RevisionAction.CHANGE,
                data=data,
                base_id=section.live_revision_id,
                summary=f"Benchmark proposal {n}",
                author=editor,
                author_name=editor.get_username(),
            )
            for n in range(max(missing, 0))
        ],
        batch_size=1000,
    )
    return Revision.objects.pending().count()


def search_url():
    for name in ("articles:search", "search"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def main(out_dir: Path):
    article = (
        Article.objects.published()
        .annotate(n=Count("sections", filter=Q(sections__state=PublicationState.LIVE)))
        .order_by("-n", "-pk")
        .first()
    )
    topic = (
        Topic.objects.published()
        .annotate(n=Count("sections", filter=Q(sections__state=PublicationState.LIVE)))
        .order_by("-n", "pk")
        .first()
    )
    article_url, topic_url = article.get_absolute_url(), topic.get_absolute_url()
    anonymous = Client(HTTP_HOST="127.0.0.1")
    cache.clear()
    counts = {}

    with override_settings(PUBLIC_PAGE_CACHE=False):
        response, counts["article uncached"] = get(anonymous, article_url)
        article_html = response.content
        _, counts["topic uncached"] = get(anonymous, topic_url)
    (out_dir / "copy" / "article.html").write_bytes(article_html)
    _, counts["bare view"] = get(anonymous, "/bench/bare-article/")
    with override_settings(PUBLIC_PAGE_CACHE=True):
        get(anonymous, article_url)
        cached, counts["article cached"] = get(anonymous, article_url)
        get(anonymous, topic_url)
        _, counts["topic cached"] = get(anonymous, topic_url)
    assert cached.content == article_html, "the cached article differs from the uncached one"
    with override_settings(PUBLIC_PAGE_CACHE=False):
        # Django's stock cache_page around the same view (bench/urls.py): a miss, then a hit.
        get(anonymous, "/bench/cache-page" + article_url)
        stock, counts["stock cache_page"] = get(anonymous, "/bench/cache-page" + article_url)

    found_search = search_url()
    if found_search:
        found_search += "?q=MINUSMA"
        _, counts["search"] = get(anonymous, found_search)

    User = get_user_model()
    moderator = User.objects.get(username="moderator")
    editor = User.objects.get(username="editor")
    section = article.sections.published().order_by("position", "pk").first()
    staff = Client(HTTP_HOST="127.0.0.1")
    staff.force_login(moderator)
    queue_counts = {}
    for size in QUEUE_SIZES:
        pending = fill_queue(size, section, editor)
        _, queue_counts[pending] = get(staff, REVIEW_QUEUE)
    counts["review queue"] = queue_counts

    baked_dir = out_dir / "baked"
    baked_storage = {
        "BACKEND": "mali_history.storage.AtomicFileSystemStorage",
        "OPTIONS": {"location": str(baked_dir), "base_url": None},
    }
    with override_settings(STORAGES={**settings.STORAGES, "baked": baked_storage}, PUBLIC_PAGE_CACHE=False):
        written, _ = baking.bake_site()
        baked_article = (baked_dir / baking.name_for(article_url)).read_bytes()
    cache.clear()

    json.dump(
        {
            "article_url": article_url,
            "article_title": article.title,
            "article_sections": article.n,
            "article_bytes": len(article_html),
            "stock_cache_page_bytes": len(stock.content),
            "baked_same_bytes": baked_article == article_html,
            "baked_pages": written,
            "topic_url": topic_url,
            "search_url": found_search,
            "review_queue_url": REVIEW_QUEUE,
            "session_cookie": f"{settings.SESSION_COOKIE_NAME}={staff.cookies[settings.SESSION_COOKIE_NAME].value}",
            "queries": counts,
        },
        sys.stdout,
        indent=2,
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
