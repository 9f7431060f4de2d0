"""How the API's reads are answered: the same bytes for everyone, revalidated by ETag, one page at a time."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Annotated

from django.conf import settings
from django.core.paginator import Page as PaginatorPage
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.views.decorators.http import conditional_page
from ninja import Path, Query, Schema
from ninja.decorators import decorate_view
from pydantic import Field

from articles.reading.pagination import paginate

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Public data: any cache may keep an answer for a minute, then asks again with If-None-Match, and
# an unchanged answer costs a 304 with no body.
MAX_AGE = 60


class Paging(Schema):
    page: int = Field(1, ge=1, description="The page wanted; past the last page is a 404.")
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Items on a page.")


PagingQuery = Query[Paging]
# Citation keys and slugs, as the models' SlugFields allow them; anything else is no address (404).
Slug = Annotated[str, Path(pattern=r"^[-a-zA-Z0-9_]+$", max_length=200)]


def _public(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        # The content and its addresses are in the content language, whatever the client's.
        with translation.override(settings.LANGUAGE_CODE):
            response = view(request, *args, **kwargs)
        if response.status_code == 200:
            patch_cache_control(response, public=True, max_age=MAX_AGE)
        return response

    return wrapped


def public_read(operation):
    """A read operation's answer: public and cacheable, with a strong ETag (an MD5 of the body) that
    makes ``If-None-Match`` (strong or weak) answer 304 Not Modified (Django's ConditionalGetMiddleware)."""
    return decorate_view(_public, conditional_page)(operation)


def page_of(request: HttpRequest, items: QuerySet, paging: Paging, build: Callable) -> dict:
    """The page ``paging`` asks for of ``items`` (sliced in SQL: one COUNT, one SELECT), each item
    made by ``build``; the site's own rule for page numbers (articles.reading.pagination)."""
    page: PaginatorPage = paginate(request, items, paging.page_size, keep=("page_size",))
    return {
        "count": page.paginator.count,
        "page": page.number,
        "page_size": paging.page_size,
        "next": page.next_url,
        "previous": page.previous_url,
        "results": [build(item) for item in page.object_list],
    }
