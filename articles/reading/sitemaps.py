"""The sitemap: every public page readers and search engines should find, with when it last changed.

Version permalinks, history and comparison pages are left out: they say ``noindex`` and point
to the article as the canonical page. A topic or source page lists sections, so it changes when
one of them does; its lastmod is the later of its own change and theirs.

``/sitemap.xml`` is a sitemap index naming one sitemap per kind of page, each in pages of
``LIMIT`` addresses (``?p=2``...): well inside the protocol's 50,000 addresses and 50 MB, and a
page stays small. The index's lastmod of each sitemap is one aggregate query, never a walk over
every item (which is what ``Sitemap.get_latest_lastmod`` would do).
"""

from django.contrib.sitemaps import Sitemap
from django.db.models import Max, OuterRef, Subquery
from django.urls import reverse

from articles.models import Article, Section, Source, TimelineEvent, Topic

# Addresses per sitemap page: about 100 KB of XML.
LIMIT = 500

# The list pages, and the model whose latest published change is the page's lastmod.
LIST_PAGES = {
    "articles:home": (Article, "published_at"),
    "articles:article_index": (Article, "published_at"),
    "articles:article_index_by_date": (Article, "published_at"),
    "articles:topic_list": (Topic, "updated_at"),
    "articles:source_list": (Source, "updated_at"),
    "articles:timeline": (TimelineEvent, "updated_at"),
}


def _latest(*dates):
    dates = [d for d in dates if d is not None]
    return max(dates) if dates else None


def _latest_visible_section(**filters):
    return Subquery(Section.objects.visible().filter(**filters).order_by("-updated_at").values("updated_at")[:1])


class PagedSitemap(Sitemap):
    limit = LIMIT

    def get_latest_lastmod(self):
        return None


class ArticleSitemap(PagedSitemap):
    changefreq = "weekly"
    priority = 0.8

    def get_latest_lastmod(self):
        return Article.objects.published().aggregate(at=Max("published_at"))["at"]

    def items(self):
        return Article.objects.published().only("slug", "published_at", "updated_at").order_by("pk")

    def lastmod(self, article):
        return article.published_at or article.updated_at


class TopicSitemap(PagedSitemap):
    changefreq = "weekly"
    priority = 0.6

    def get_latest_lastmod(self):
        return _latest(
            Topic.objects.published().aggregate(at=Max("updated_at"))["at"],
            Section.objects.visible().exclude(topics=None).aggregate(at=Max("updated_at"))["at"],
        )

    def items(self):
        return (
            Topic.objects.published()
            .only("slug", "updated_at")
            .annotate(sections_changed=_latest_visible_section(topics=OuterRef("pk")))
            .order_by("pk")
        )

    def lastmod(self, topic):
        return _latest(topic.updated_at, topic.sections_changed)


class SourceSitemap(PagedSitemap):
    changefreq = "monthly"
    priority = 0.5

    def get_latest_lastmod(self):
        return _latest(
            Source.objects.published().aggregate(at=Max("updated_at"))["at"],
            Section.objects.visible().filter(citations__isnull=False).aggregate(at=Max("updated_at"))["at"],
        )

    def items(self):
        return (
            Source.objects.published()
            .only("key", "updated_at")
            .annotate(sections_changed=_latest_visible_section(citations__source=OuterRef("pk")))
            .order_by("pk")
        )

    def lastmod(self, source):
        return _latest(source.updated_at, source.sections_changed)


class ListSitemap(PagedSitemap):
    """The list pages; each changed when the latest thing it lists did."""

    changefreq = "daily"
    priority = 1.0

    def items(self):
        return list(LIST_PAGES)

    def location(self, name):
        return reverse(name)

    def lastmod(self, name):
        model, field = LIST_PAGES[name]
        return model.objects.published().aggregate(at=Max(field))["at"]

    def get_latest_lastmod(self):
        return _latest(*(self.lastmod(name) for name in LIST_PAGES))


SITEMAPS = {
    "lists": ListSitemap,
    "articles": ArticleSitemap,
    "topics": TopicSitemap,
    "sources": SourceSitemap,
}
