"""The read API: published articles, sections, sources, topics, timeline events and permalink versions.

Only what readers may see (``published()``, and sections only of published articles), and only
as it was stored when published: the HTML fragments and formatted citations, never Markdown
rendered on a read. Every operation runs a fixed number of queries whatever the size of the site
(``tests/api/test_reading.py`` counts them), and every list is paged.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Router

from articles.api import schemas
from articles.api.responses import PagingQuery, Slug, page_of, public_read
from articles.content.citation_formats import MEDIA_TYPES, write
from articles.models import Article, ArticleVersion, RetiredSlug, Section, Source, TimelineEvent, Topic
from articles.reading.citations import source_reference

router = Router(tags=["Reading"])

PUBLISHED_TOPICS = Prefetch("topics", queryset=Topic.objects.published().only("name", "slug").order_by("name"))


def _topics(obj) -> list[dict]:
    return [{"slug": t.slug, "name": t.name} for t in obj.topics.all()]


def _article_summary(article: Article) -> dict:
    return {
        "slug": article.slug,
        "title": article.title,
        "dek_html": article.dek_html,
        "published_at": article.published_at,
        "url": article.get_absolute_url(),
        "api_url": reverse("api:article_detail", kwargs={"slug": article.slug}),
    }


class Moved(Exception):  # noqa: N818 - not an error: the answer is a redirect
    """The object gave up the slug asked for: answered with a permanent redirect to its current address."""

    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


def published_or_moved(request: HttpRequest, model, slug: str, kwarg: str = "slug"):
    """The published object with ``slug``; for a slug it gave up, :class:`Moved` to the same operation at
    its current one (the rule of ``articles.models.addresses``; a query more only on the way to a 404)."""
    try:
        return get_object_or_404(model.objects.published(), **{model.SLUG_FIELD: slug})
    except Http404:
        holder = RetiredSlug.objects.current_holder(model, slug)
        if holder is None:
            raise
    match = request.resolver_match
    raise Moved(reverse(match.view_name, kwargs={**match.kwargs, kwarg: getattr(holder, model.SLUG_FIELD)}))


def _published_article(request: HttpRequest, slug: str) -> Article:
    return published_or_moved(request, Article, slug)


@router.get("/articles", response=schemas.Page[schemas.ArticleSummary], summary="Published articles, by title")
@public_read
def article_list(request: HttpRequest, paging: PagingQuery):
    articles = Article.objects.published().order_by("title", "pk")
    return page_of(request, articles, paging, _article_summary)


@router.get("/articles/{slug}", response=schemas.Article, summary="A published article")
@public_read
def article_detail(request: HttpRequest, slug: Slug):
    article = _published_article(request, slug)
    return _article_summary(article) | {
        "sections_url": reverse("api:article_sections", kwargs={"slug": slug}),
        "versions_url": reverse("api:article_versions", kwargs={"slug": slug}),
    }


def _section(section: Section) -> dict:
    return {
        "id": section.pk,
        "article": section.article.slug,
        "anchor": section.anchor,
        "title": section.title,
        "level": section.level,
        "parent": section.parent_id,
        "position": section.position,
        "html": section.body_html,
        "notes": [
            {
                "number": number,
                "key": note["key"],
                "locator": note.get("locator", ""),
                "source_url": reverse("api:source_detail", kwargs={"key": note["key"]}) if note.get("source") else None,
            }
            for number, note in enumerate(section.notes or [], start=1)
        ],
        "topics": _topics(section),
        "url": section.get_absolute_url(),
        "api_url": reverse("api:section_detail", kwargs={"section_id": section.pk}),
    }


@router.get(
    "/articles/{slug}/sections",
    response=schemas.Page[schemas.Section],
    summary="The published sections of an article, in reading order",
)
@public_read
def article_sections(request: HttpRequest, slug: Slug, paging: PagingQuery):
    article = _published_article(request, slug)
    sections = Section.objects.for_reading().filter(article=article).prefetch_related(PUBLISHED_TOPICS)
    for_page = page_of(request, sections, paging, lambda section: section)
    for section in for_page["results"]:
        section.article = article  # known already: no query per section
    for_page["results"] = [_section(section) for section in for_page["results"]]
    return for_page


@router.get("/sections/{section_id}", response=schemas.Section, summary="A published section")
@public_read
def section_detail(request: HttpRequest, section_id: int):
    visible = Section.objects.visible().select_related("article").prefetch_related(PUBLISHED_TOPICS)
    return _section(get_object_or_404(visible, pk=section_id))


def _source(source: Source) -> dict:
    key = {"key": source.key}
    return {
        "key": source.key,
        "kind": source.kind,
        "title": source.title,
        "authors": list(source.authors),
        "publisher": source.publisher,
        "container_title": source.container_title,
        "date": source.date.iso() if source.date_year else "",
        "url": source.url,
        "accessed_on": source.accessed_on,
        "identifier": source.identifier,
        "note_html": source.note_html,
        "bibliography_html": source.bibliography_html,
        "page_url": source.get_absolute_url(),
        "api_url": reverse("api:source_detail", kwargs=key),
        "csl_url": reverse("api:source_csl", kwargs=key),
    }


@router.get("/sources", response=schemas.Page[schemas.Source], summary="Published sources, by citation key")
@public_read
def source_list(request: HttpRequest, paging: PagingQuery):
    return page_of(request, Source.objects.published().order_by("key"), paging, _source)


@router.get("/sources/{key}", response=schemas.Source, summary="A published source")
@public_read
def source_detail(request: HttpRequest, key: Slug):
    return _source(published_or_moved(request, Source, key, "key"))


@router.get(
    "/sources/{key}/csl",
    summary="A published source as CSL-JSON",
    description="The source as a one-item CSL-JSON array (application/vnd.citationstyles.csl+json), "
    "as Zotero and other reference managers import it.",
    openapi_extra={
        "responses": {
            200: {
                "description": "A CSL-JSON array of one item.",
                "content": {
                    MEDIA_TYPES["json"].split(";")[0]: {"schema": {"type": "array", "items": {"type": "object"}}}
                },
            }
        }
    },
)
@public_read
def source_csl(request: HttpRequest, key: Slug):
    source = published_or_moved(request, Source, key, "key")
    return HttpResponse(write("json", [source_reference(source)]), content_type=MEDIA_TYPES["json"])


def _topic(topic: Topic) -> dict:
    return {
        "slug": topic.slug,
        "name": topic.name,
        "summary": topic.summary,
        "description_html": topic.body_html,
        "url": topic.get_absolute_url(),
        "api_url": reverse("api:topic_detail", kwargs={"slug": topic.slug}),
    }


@router.get("/topics", response=schemas.Page[schemas.Topic], summary="Published topics, by name")
@public_read
def topic_list(request: HttpRequest, paging: PagingQuery):
    return page_of(request, Topic.objects.published().order_by("name", "pk"), paging, _topic)


@router.get("/topics/{slug}", response=schemas.Topic, summary="A published topic")
@public_read
def topic_detail(request: HttpRequest, slug: Slug):
    return _topic(published_or_moved(request, Topic, slug))


def _event(event: TimelineEvent) -> dict:
    return {
        "id": event.pk,
        "title": event.title,
        "date": event.date_iso,
        "text_html": event.text_html,
        "topics": _topics(event),
        "url": event.get_absolute_url(),
        "api_url": reverse("api:timeline_event_detail", kwargs={"event_id": event.pk}),
    }


@router.get(
    "/timeline-events", response=schemas.Page[schemas.TimelineEvent], summary="Published timeline events, by date"
)
@public_read
def timeline_event_list(request: HttpRequest, paging: PagingQuery):
    return page_of(request, TimelineEvent.objects.for_timeline(), paging, _event)


@router.get("/timeline-events/{event_id}", response=schemas.TimelineEvent, summary="A published timeline event")
@public_read
def timeline_event_detail(request: HttpRequest, event_id: int):
    return _event(get_object_or_404(TimelineEvent.objects.for_timeline(), pk=event_id))


def _version_summary(version: ArticleVersion, slug: str) -> dict:
    return {
        "number": version.number,
        "title": version.title,
        "published_at": version.created_at,
        "editor": version.editor_name,
        "summary": version.summary,
        "url": reverse("articles:article_version", kwargs={"slug": slug, "number": version.number}),
        "api_url": reverse("api:article_version_detail", kwargs={"slug": slug, "number": version.number}),
    }


@router.get(
    "/articles/{slug}/versions",
    response=schemas.Page[schemas.VersionSummary],
    summary="An article's permalink versions, newest first",
)
@public_read
def article_versions(request: HttpRequest, slug: Slug, paging: PagingQuery):
    article = _published_article(request, slug)
    versions = ArticleVersion.objects.filter(article=article).order_by("-number").for_listing()
    return page_of(request, versions, paging, lambda version: _version_summary(version, slug))


@router.get(
    "/articles/{slug}/versions/{number}",
    response=schemas.Version,
    summary="One permalink version, frozen as readers saw it",
)
@public_read
def article_version_detail(request: HttpRequest, slug: Slug, number: int):
    article = _published_article(request, slug)
    version = get_object_or_404(ArticleVersion.objects.filter(article=article), number=number)
    return _version_summary(version, slug) | {
        "article": slug,
        "dek_html": version.dek_html,
        "sections": [
            {
                "anchor": section.anchor,
                "title": section.title,
                "level": section.level,
                "html": section.html,
                "topics": [{"slug": t.slug, "name": t.name} for t in section.topics],
            }
            for section in version.section_list
        ],
        "notes_html": version.notes_html,
        "bibliography_html": version.bibliography_html,
    }
