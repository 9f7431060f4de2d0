"""What each published object appears on: the one answer for the page cache, baking and follow-up work.

:func:`appearances` takes an object just published (and the snapshot that was live before, for
where it used to show) and says:

- ``tags``: the page-cache tags to bump, a handful whatever the size of the site. Every cached
  page carries the tags of what it shows (:func:`article_page_tags`, and ``caching.depends_on``
  in the views), so bumping a tag makes every page that shows the object miss on its next
  request; nothing loops over pages.
- ``paths``: the fixed public pages that show it (lists, its own page, old addresses), in the
  default language.
- ``articles``: the articles whose pages show it. For a popular source that is thousands of
  rows: only the background follow-up (articles.publishing.followups) walks it, in batches.

One function per model, registered with ``functools.singledispatch``, in the spirit of
Wagtail's ``get_cached_paths``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, singledispatch
from typing import Protocol

from django.conf import settings
from django.db.models import Model, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from articles.content import markup
from articles.models import (
    Article,
    Figure,
    ModeratedContent,
    PublicationState,
    Section,
    Source,
    TimelineEvent,
    Topic,
)

# List tags: pages that show many objects of a kind depend on these rather than on each object.
ARTICLES = "articles"
SOURCES = "sources"
TOPICS = "topics"
FIGURES = "figures"
TIMELINE = "timeline"


def tag(obj_or_model: Model | type[Model], pk: int | None = None) -> str:
    """``"article:12"``: the tag of one object's own content."""
    if pk is None:
        obj_or_model, pk = type(obj_or_model), obj_or_model.pk
    return f"{obj_or_model._meta.model_name}:{pk}"


def url(name: str, **kwargs: str) -> str | None:
    """A public page's path in the default language (``languages.in_every_language`` adds the others)."""
    try:
        with translation.override(settings.LANGUAGE_CODE):
            return reverse(f"articles:{name}", kwargs=kwargs or None)
    except NoReverseMatch:  # A slug from an old snapshot that no longer fits the pattern.
        return None


def discovery_paths() -> set[str | None]:
    """Feeds, the sitemap, home and the article index: every publish can change them."""
    names = ("feed_articles_rss", "feed_articles_atom", "feed_changes_rss", "feed_changes_atom", "sitemap", "home")
    names += ("article_index", "article_index_by_date")  # Their first pages are baked; ?page=N never is.
    return {url(name) for name in names}


@dataclass
class Appearances:
    """Where an object shows. ``tags`` are known without a query; the rest is looked up when asked for."""

    tags: set[str] = field(default_factory=set)
    find_paths: Callable[[], set[str | None]] = set
    articles: QuerySet[Article] | None = None
    # Sections whose stored HTML shows the object and must be rendered again (figures in text).
    sections: QuerySet[Section] | None = None
    # Topics and timeline events whose stored HTML formats the object (a source's note).
    topics: QuerySet[Topic] | None = None
    events: QuerySet[TimelineEvent] | None = None
    # True when ``articles`` is a handful by construction (an article, a section's article or two):
    # their baked pages can go in the commit hook without counting anything first.
    few_articles: bool = False

    @cached_property
    def paths(self) -> set[str]:
        return {path for path in self.find_paths() | discovery_paths() if path}

    def article_queryset(self) -> QuerySet[Article]:
        return self.articles if self.articles is not None else Article.objects.none()


@singledispatch
def appearances(obj: ModeratedContent, before: dict | None = None) -> Appearances:
    return Appearances()


@appearances.register
def _(obj: Article, before: dict | None = None) -> Appearances:
    before = before or {}

    def paths():
        # Topic and source pages list the article's sections under its title.
        topics = Topic.objects.filter(sections__article=obj).values_list("slug", flat=True).distinct()
        sources = Source.objects.filter(citations__section__article=obj).values_list("key", flat=True).distinct()
        return (
            {url("article_detail", slug=obj.slug), url("article_detail", slug=before.get("slug") or obj.slug)}
            | {url("topic_detail", slug=slug) for slug in topics}
            | {url("source_detail", key=key) for key in sources}
        )

    return Appearances(
        tags={tag(obj), ARTICLES}, find_paths=paths, articles=Article.objects.filter(pk=obj.pk), few_articles=True
    )


@appearances.register
def _(obj: Section, before: dict | None = None) -> Appearances:
    before = before or {}
    article_ids = {pk for pk in (obj.article_id, before.get("article")) if pk}

    def paths():
        keys = markup.citation_keys(obj.body or "") + markup.citation_keys(before.get("body") or "")
        tagged = Section.topics.through.objects.filter(section_id=obj.pk).values("topic_id")
        topics = Topic.objects.filter(Q(pk__in=tagged) | Q(pk__in=before.get("topics") or [])).values_list(
            "slug", flat=True
        )
        sources = Source.objects.filter(key__in=keys).values_list("key", flat=True)
        return {url("topic_detail", slug=slug) for slug in topics} | {url("source_detail", key=key) for key in sources}

    return Appearances(
        tags={tag(Article, pk) for pk in article_ids} | {ARTICLES},
        find_paths=paths,
        articles=Article.objects.filter(pk__in=article_ids),
        few_articles=True,
    )


@appearances.register
def _(obj: Source, before: dict | None = None) -> Appearances:
    before = before or {}
    keys = {obj.key, before.get("key") or obj.key}
    events = (
        TimelineEvent.objects.exclude(text="").filter(Q(cited_sources=obj) | Q(text__contains=f"@{obj.key}")).distinct()
    )
    topics = Topic.objects.filter(body__contains=f"@{obj.key}")
    citing = Article.objects.filter(sections__citations__source=obj).values("pk")
    embedding = Article.objects.filter(
        sections__timelines__timeline_events__in=events, sections__state=PublicationState.LIVE
    ).values("pk")
    return Appearances(
        # Topic descriptions and timeline events citing it are rendered again in the transaction:
        # topic pages and the timeline are covered by the list tags.
        tags={tag(obj), SOURCES, TIMELINE, TOPICS},
        find_paths=lambda: {url("source_list"), url("timeline")} | {url("source_detail", key=key) for key in keys},
        articles=Article.objects.filter(Q(pk__in=citing) | Q(pk__in=embedding)),
        topics=topics,
        events=events,
    )


@appearances.register
def _(obj: Topic, before: dict | None = None) -> Appearances:
    before = before or {}
    slugs = {obj.slug, before.get("slug") or obj.slug}
    tagged = Section.objects.filter(topics=obj).values("article_id")
    embedding = Section.objects.filter(timelines=obj, state=PublicationState.LIVE).values("article_id")
    return Appearances(
        tags={tag(obj), TOPICS},
        find_paths=lambda: {url("topic_list"), url("timeline")} | {url("topic_detail", slug=slug) for slug in slugs},
        articles=Article.objects.filter(Q(pk__in=tagged) | Q(pk__in=embedding)),
    )


@appearances.register
def _(obj: Figure, before: dict | None = None) -> Appearances:
    from articles.publishing.fragments import sections_showing_figure

    sections = sections_showing_figure(obj)
    return Appearances(
        tags={tag(obj), FIGURES},
        articles=Article.objects.filter(Q(lead_figure=obj) | Q(pk__in=sections.values("article_id"))),
        sections=sections,
    )


@appearances.register
def _(obj: TimelineEvent, before: dict | None = None) -> Appearances:
    before = before or {}
    topic_ids = lambda: set(obj.topics.values_list("pk", flat=True)) | set(before.get("topics") or [])  # noqa: E731

    def paths():
        slugs = Topic.objects.filter(pk__in=topic_ids()).values_list("slug", flat=True)
        return {url("timeline")} | {url("topic_detail", slug=slug) for slug in slugs}

    return Appearances(
        tags={TIMELINE},
        find_paths=paths,
        articles=Article.objects.filter(
            pk__in=Section.objects.filter(timelines__timeline_events=obj, state=PublicationState.LIVE).values(
                "article_id"
            )
        ),
    )


# --- What pages show -------------------------------------------------------------------------------


class ShownOnArticlePage(Protocol):
    """What an article page shows, as far as its tags go: ``articles.publishing.article_page.ArticlePage``.

    A protocol rather than that class: the article page module asks this one for its tags.
    """

    article: Article
    source_ids: set[int]
    topic_ids: set[int]
    embeds_timeline: bool


def article_page_tags(page: ShownOnArticlePage) -> set[str]:
    """The tags of everything an article page (articles.publishing.article_page.ArticlePage) shows."""
    tags = {tag(page.article)}
    tags |= {tag(Source, pk) for pk in page.source_ids}
    tags |= {tag(Topic, pk) for pk in page.topic_ids}
    if page.article.lead_figure_id:
        tags.add(tag(Figure, page.article.lead_figure_id))
    if page.embeds_timeline:
        tags.add(TIMELINE)
    return tags


def every_fixed_page() -> set[str | None]:
    """The public pages that are not an article, topic or source page."""
    return {url(name) for name in ("home", "topic_list", "source_list", "timeline")} | discovery_paths()


def every_page() -> Iterator[str | None]:
    """Every public page (default language), streamed: for ``bake_site``."""
    yield from sorted(path for path in every_fixed_page() if path)
    for slug in Article.objects.published().order_by("pk").values_list("slug", flat=True).iterator(chunk_size=500):
        yield url("article_detail", slug=slug)
    for slug in Topic.objects.published().order_by("pk").values_list("slug", flat=True).iterator(chunk_size=500):
        yield url("topic_detail", slug=slug)
    for key in Source.objects.published().order_by("pk").values_list("key", flat=True).iterator(chunk_size=500):
        yield url("source_detail", key=key)
