"""Reading and discovery pages: the search results page, and what the page cache must know.

The feeds, the sitemap and robots.txt are Django's own views (``articles.feeds``,
``articles.sitemaps``, a template); ``articles.urls`` wraps them in ``@public_page``, and
``_discovery_pages`` below names them for invalidation. This module is imported by
``ArticlesConfig.ready`` so that every process that publishes (web, ``publish_scheduled``, the
importer) registers it, not only the ones that loaded the URLconf.
"""
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse

from . import search
from .caching import pages_for_changes, public_page

RESULTS_PER_PAGE = 20


# Only the empty form is stored: a results page is rendered each time (``public_page`` never
# stores a query string unless told to), because every reader's query would otherwise be a cache
# entry of its own, and anyone could fill the cache and push the article pages out of it.
@public_page
def search_page(request):
    query = search.parse_query(request.GET.get("q"))
    context = {"query": query, "searched": "q" in request.GET}
    if not query.problem:
        paginator = Paginator(search.run(query), RESULTS_PER_PAGE)
        page = paginator.get_page(request.GET.get("page"))  # A bad or past-the-end ?page= is not an error.
        context.update(page=page, hits=search.hits(page.object_list, query), count=paginator.count)
    return render(request, "articles/search.html", context)


@pages_for_changes
def _discovery_pages(obj):
    """Every publish can change the feeds and the sitemap: an article's "last updated" moves
    when any section, source or figure it shows is published, and each publish is a change."""
    from .models import MODERATED_MODELS

    if not isinstance(obj, MODERATED_MODELS):
        return set()
    return {
        reverse("articles:feed_articles_rss"),
        reverse("articles:feed_articles_atom"),
        reverse("articles:feed_changes_rss"),
        reverse("articles:feed_changes_atom"),
        reverse("articles:sitemap"),
    }
