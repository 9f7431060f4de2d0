"""Reading and discovery pages: the search results page, and what the page cache must know.

The feeds, the sitemap and robots.txt are Django's own views (``articles.reading.feeds``,
``articles.reading.sitemaps``, a template); ``articles.reading.urls`` wraps them in ``@public_page``.
"""

from django.shortcuts import render

from articles.publishing.caching import public_page
from articles.reading import pagination, search

RESULTS_PER_PAGE = 20


# Only the empty form is stored: a results page is rendered each time (``public_page`` never
# stores a query string unless told to), because every reader's query would otherwise be a cache
# entry of its own, and anyone could fill the cache and push the article pages out of it.
@public_page
def search_page(request):
    query = search.parse_query(request.GET.get("q"))
    context = {"query": query, "searched": "q" in request.GET}
    if not query.problem:
        found = search.count(query)  # At most MAX_RESULTS + 1: past that, "more than 1,000".
        shown = min(found, search.MAX_RESULTS)
        page = pagination.paginate(request, search.run(query), RESULTS_PER_PAGE, keep=("q",), count=shown)
        context.update(
            page=page,
            page_obj=page,
            hits=search.hits(page.object_list, query),
            count=shown,
            more=found > search.MAX_RESULTS,
            max_results=search.MAX_RESULTS,
        )
    return render(request, "articles/search.html", context)
