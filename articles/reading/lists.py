"""What the public list pages show, one page at a time, whatever the size of the site.

Sections are listed under their articles: a page is a page of articles (so a topic tagging a
section of every article, or a source cited by all of them, costs one page of articles), each
with how many of its sections belong there and the first few of them; the rest are on the
article page. Every function here runs a fixed number of queries for any page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Exists, F, OuterRef, QuerySet, Window
from django.db.models.functions import RowNumber

from articles.models import Article, Citation, Mention, Section, Source, Topic

# Page sizes keep every list page's HTML well under 150 KB, excerpts included.
ARTICLES_PER_PAGE = 20  # On topic and source pages, each article with a few sections.
INDEX_PER_PAGE = 100  # The index of all articles: a title and a date each.
SECTIONS_PER_ARTICLE = 5
NEWEST_ON_HOME = 10

BY_TITLE = "title"
BY_DATE = "date"
INDEX_ORDER = {BY_TITLE: ("title", "pk"), BY_DATE: ("-published_at", "-pk")}


def newest_articles() -> QuerySet[Article]:
    return Article.objects.published().order_by("-published_at", "-pk")[:NEWEST_ON_HOME]


def article_index(order: str) -> QuerySet[Article]:
    return Article.objects.published().only("title", "slug", "published_at", "updated_at").order_by(*INDEX_ORDER[order])


# --- Sections grouped by article --------------------------------------------------------------------

# Which articles cite a source or discuss a topic, and how much, is counted when an article is
# published (``Mention``, written by ``articles.publishing.mentions``): a page of them is read along
# an index, and the totals from one narrow row per article.


def articles_citing(source: Source) -> QuerySet[Mention]:
    """Published articles with a visible section citing ``source``, in title order, with the counts."""
    return Mention.objects.of_source(source).in_title_order()


def citation_totals(source: Source) -> dict[str, int]:
    """How often ``source`` is cited on the public site: citations, sections and articles."""
    return Mention.objects.of_source(source).totals()


def sections_citing(source: Source) -> QuerySet[Section]:
    return Section.objects.published().filter(Exists(Citation.objects.filter(section=OuterRef("pk"), source=source)))


def articles_on(topic: Topic) -> QuerySet[Mention]:
    """Published articles with a visible section tagged ``topic``, in title order, with how many sections."""
    return Mention.objects.of_topic(topic).in_title_order()


def topic_totals(topic: Topic) -> dict[str, int]:
    return Mention.objects.of_topic(topic).totals()


def mentioning_articles(mentions: Sequence[Mention]) -> list[Article]:
    """The articles of a page of mentions, each carrying its ``section_count`` and ``citation_count``."""
    articles = []
    for mention in mentions:
        article = mention.article
        article.section_count, article.citation_count = mention.sections, mention.citations
        articles.append(article)
    return articles


def attach_sections(articles: Sequence[Article], sections: QuerySet[Section], *, fields: Sequence[str] = ()) -> list:
    """Give each article of a page ``listed_sections``: its first few of ``sections``, in reading order.

    One query for the whole page: a window function numbers each article's sections and only the
    first ``SECTIONS_PER_ARTICLE`` come back. ``more_sections`` counts the ones left out (the
    articles carry ``section_count``). Returns the sections listed.
    """
    articles = list(articles)
    by_pk = {article.pk: article for article in articles}
    rows = (
        sections.filter(article_id__in=list(by_pk))
        .only("title", "anchor", "position", "article_id", *fields)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("article_id")], order_by=[F("position").asc(), F("pk").asc()])
        )
        .filter(rank__lte=SECTIONS_PER_ARTICLE)
        .order_by("article_id", "position", "pk")
    )
    grouped = defaultdict(list)
    for section in rows:
        section.article = by_pk[section.article_id]  # Its link needs the article's slug: no query.
        grouped[section.article_id].append(section)
    for article in articles:
        article.listed_sections = grouped[article.pk]
        article.more_sections = max(article.section_count - len(article.listed_sections), 0)
    return [section for article in articles for section in article.listed_sections]
