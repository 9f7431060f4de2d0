"""Changelist filters that stay short however many articles and revisions the site has.

Django's filter on a foreign key lists every row of the related table: with thousands of
articles the sidebar would be thousands of links. ``RecentArticleFilter`` lists only the articles
changed most recently (and the one chosen, wherever it is), and says how to reach the others:
the changelist's search box searches article titles, and an article's change form links to its
sections and revisions already filtered. It keeps the query parameter of Django's own filter
(``article__id__exact``), so links made for that filter still work. No extra package and no
JavaScript: the filter is plain links, like every admin filter.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from articles.models import Article

RECENT_ARTICLES = 10


class RecentArticleFilter(admin.SimpleListFilter):
    title = _("article")
    parameter_name = "article__id__exact"
    template = "admin/articles/recent_article_filter.html"
    limit = RECENT_ARTICLES

    def lookups(self, request, model_admin):
        value = self.value()
        if value is not None and not value.isdigit():
            raise IncorrectLookupParameters(f"{self.parameter_name}={value!r} is not an article number.")
        newest_first = ("-updated_at", "-pk")
        shown = Q(pk__in=Article.objects.order_by(*newest_first).values("pk")[: self.limit])
        if value is not None:
            shown |= Q(pk=value)  # The chosen one, wherever it is: the same query.
        return [
            (str(pk), title)
            for pk, title in Article.objects.filter(shown).order_by(*newest_first).values_list("pk", "title")
        ]

    def queryset(self, request, queryset):
        return queryset.filter(article_id=self.value()) if self.value() else queryset


class AuthorFilter(admin.RelatedFieldListFilter):
    """One "By author" filter: the signed-in person's own proposals (``?mine=1``) first, then each author."""

    MINE = "mine"

    def __init__(self, field, request, params, model, model_admin, field_path):
        mine = params.pop(self.MINE, None)
        self.mine = bool(mine) and mine[-1] == "1"
        super().__init__(field, request, params, model, model_admin, field_path)

    def expected_parameters(self):
        return [*super().expected_parameters(), self.MINE]

    def queryset(self, request, queryset):
        queryset = super().queryset(request, queryset)
        return queryset.filter(author=request.user) if self.mine else queryset

    def choices(self, changelist):
        by_author = [self.lookup_kwarg, self.lookup_kwarg_isnull]
        yield {
            "selected": not (self.mine or self.lookup_val or self.lookup_val_isnull),
            "query_string": changelist.get_query_string(remove=[*by_author, self.MINE]),
            "display": _("All"),
        }
        yield {
            "selected": self.mine,
            "query_string": changelist.get_query_string({self.MINE: "1"}, by_author),
            "display": _("My proposals"),
        }
        for pk, name in self.lookup_choices:
            yield {
                "selected": not self.mine and self.lookup_val is not None and str(pk) in self.lookup_val,
                "query_string": changelist.get_query_string(
                    {self.lookup_kwarg: pk}, [self.lookup_kwarg_isnull, self.MINE]
                ),
                "display": name,
            }
        if self.include_empty_choice:
            yield {
                "selected": bool(self.lookup_val_isnull),
                "query_string": changelist.get_query_string(
                    {self.lookup_kwarg_isnull: "True"}, [self.lookup_kwarg, self.MINE]
                ),
                "display": self.empty_value_display,
            }
