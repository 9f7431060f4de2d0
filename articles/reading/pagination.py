"""Paged public lists: one rule for ``?page=N``, and the links readers and crawlers follow.

A list's first page is its bare address; page N is ``?page=N``. A page number that is not a
plain number (``?page=abc``, ``?page=02``, ``?page=-1``) or lies past the last page is a 404,
not the nearest page: every page then has exactly one address, the page cache
(``articles.publishing.caching``, which stores ``?page=N`` for views declared ``paged``) holds at
most one entry per real page, and nobody can fill it with made-up numbers. ``?page=1`` is the
first page too (it is where a hand-edited address most often lands).

Every page carries ``previous_url`` and ``next_url``: ``base.html`` turns them into
``<link rel="prev">`` / ``<link rel="next">``, ``includes/pagination.html`` into visible links.
Both are plain links, so paging needs no JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.core.paginator import InvalidPage, Page, Paginator
from django.http import Http404, HttpRequest
from django.utils.http import urlencode

PAGE_PARAMETER = "page"
PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")


def page_number(request: HttpRequest) -> int:
    """The page asked for: 1 without ``?page=``; a 404 for anything but a plain positive number."""
    raw = request.GET.get(PAGE_PARAMETER)
    if raw is None:
        return 1
    if not PAGE_NUMBER.fullmatch(raw):
        raise Http404("There is no such page.")
    return int(raw)


def paginate(
    request: HttpRequest, items: Sequence, per_page: int, *, keep: tuple[str, ...] = (), count: int | None = None
) -> Page:
    """Page ``request`` asked for of ``items`` (a queryset is sliced in SQL), with its links.

    ``keep`` names query parameters the links carry along (the search's ``q``). ``count``, when
    known already, saves the paginator's COUNT query.
    """
    paginator = Paginator(items, per_page)
    if count is not None:
        paginator.count = count  # A cached_property: set, it is never computed.
    try:
        page = paginator.page(page_number(request))
    except InvalidPage:
        raise Http404("There is no such page.") from None
    kept = [(name, request.GET[name]) for name in keep if name in request.GET]

    def url(number: int) -> str:
        query = kept + ([(PAGE_PARAMETER, number)] if number > 1 else [])
        return f"{request.path}?{urlencode(query)}" if query else request.path

    page.url = url(page.number)
    page.previous_url = url(page.previous_page_number()) if page.has_previous() else None
    page.next_url = url(page.next_page_number()) if page.has_next() else None
    return page
