"""Applying revisions to live content, and the derived data that publishing refreshes.

Rendered HTML, notes and "cited in" relations are computed here, once, when content is
published, so that the public read path does no Markdown work. Callers hold a transaction:
``apply_revision`` is only ever called from ``articles.moderation``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import caching, markup, rendered_pages, renditions, search_index, timeline
from .models import (
    Article,
    ArticleVersion,
    Citation,
    Figure,
    ModeratedContent,
    PublicationState,
    Revision,
    RevisionAction,
    Section,
    Source,
    TimelineEvent,
    Topic,
)


def reading_order(sections):
    """Main sections by position, each followed by its subsections by position."""
    sections = sorted(sections, key=lambda s: (s.position, s.pk or 0))
    present = {s.pk for s in sections}
    children = {}
    for section in sections:
        if section.parent_id and section.parent_id in present:
            children.setdefault(section.parent_id, []).append(section)
    ordered = []
    for section in sections:
        if section.parent_id and section.parent_id in present:
            continue
        ordered.append(section)
        ordered.extend(children.get(section.pk, []))
    return ordered


@dataclass
class RenderedArticle:
    dek_html: str
    notes_html: str
    section_html: dict = field(default_factory=dict)  # section pk (or id()) -> HTML
    citations: dict = field(default_factory=dict)  # section pk -> [(key, locator)]


def _source_formatter(keys):
    sources = {s.key: s for s in Source.objects.filter(key__in=set(keys)).exclude(state=PublicationState.DELETED)}

    def format_source(key, locator):
        source = sources.get(key)
        return source.format_note(locator) if source else None

    def source_url(key):
        source = sources.get(key)
        return source.get_absolute_url() if source else None

    return format_source, source_url


def render_article(article, sections) -> RenderedArticle:
    """Render an article and the given sections (in reading order) with one run of note numbers."""
    notes = markup.CitationNotes()
    dek_html = markup.render_markdown(article.dek, notes=notes, id_prefix="dek-", heading_offset=2)
    rendered = RenderedArticle(dek_html=dek_html, notes_html="")
    for section in reading_order(sections):
        key = section.pk or id(section)
        rendered.section_html[key] = markup.render_markdown(
            section.body,
            notes=notes,
            id_prefix=f"s{key}-",
            heading_offset=section.level,
        )
        # --- Timeline embeds and responsive images (articles.timeline, articles.renditions) ---
        # Applied to the sanitised HTML: what they insert is rendered by our own templates.
        rendered.section_html[key] = renditions.rewrite_images(timeline.embed_timelines(rendered.section_html[key]))
        rendered.citations[key] = [(ref.key, ref.locator) for ref in markup.extract_citations(section.body)]
    format_source, source_url = _source_formatter(note.key for note in notes.notes)
    rendered.notes_html = markup.render_notes(notes, format_source, source_url=source_url)
    return rendered


def render_standalone(text: str, *, id_prefix: str = "") -> str:
    """Markdown with its own notes list appended: topic bodies and previews.

    ``id_prefix`` keeps the note and footnote ids unique when several are shown on one page.
    """
    notes = markup.CitationNotes(id_prefix=id_prefix)
    html = markup.render_markdown(text, notes=notes, heading_offset=1, id_prefix=id_prefix)
    format_source, source_url = _source_formatter(note.key for note in notes.notes)
    return html + markup.render_notes(notes, format_source, source_url=source_url)


def refresh_article(article: Article, *, revision: Revision | None = None) -> None:
    """Re-render an article's stored HTML and citations from its live content.

    When the article is live and what readers see has changed, also record a new ArticleVersion
    produced by ``revision`` (the revision being published).
    """
    # Lock the article first: two changes to it published at once (two sources it cites, say) would
    # otherwise each render from content read before the other committed, and the later one would
    # store stale HTML over the earlier one's. Versions are numbered under this lock too.
    state = Article.objects.select_for_update().filter(pk=article.pk).values_list("state", flat=True).first()
    sections = list(article.sections.published())
    rendered = render_article(article, sections)
    # Any published change to what the article shows counts as an update for readers.
    Article.objects.filter(pk=article.pk).update(
        dek_html=rendered.dek_html, notes_html=rendered.notes_html, published_at=timezone.now()
    )
    article.dek_html, article.notes_html = rendered.dek_html, rendered.notes_html
    source_ids = dict(Source.objects.filter(
        key__in={key for refs in rendered.citations.values() for key, _ in refs}
    ).values_list("key", "pk"))
    Citation.objects.filter(section__article=article).delete()
    citations = []
    for section in sections:
        Section.objects.filter(pk=section.pk).update(body_html=rendered.section_html[section.pk])
        for position, (key, locator) in enumerate(rendered.citations[section.pk]):
            if key in source_ids:
                citations.append(Citation(section=section, source_id=source_ids[key], locator=locator, position=position))
    Citation.objects.bulk_create(citations)
    search_index.index_article(article, sections, rendered.section_html)
    if state == PublicationState.LIVE:
        record_article_version(article, sections, rendered, revision=revision)
    article.state = state
    rendered_pages.store(article)


def frozen_article(article: Article, sections, rendered: RenderedArticle) -> dict:
    """What the article page shows, as the content fields of an ArticleVersion.

    Call after the article's citations are stored: the bibliography is read from them.
    """
    prefetch_related_objects(
        sections, Prefetch("topics", queryset=Topic.objects.published().only("name", "slug").order_by("name"))
    )
    frozen_sections = [
        {
            "anchor": section.anchor,
            "title": section.title,
            "level": section.level,
            "html": rendered.section_html[section.pk],
            "body": section.body,
            "topics": [{"name": topic.name, "slug": topic.slug} for topic in section.topics.all()],
        }
        for section in reading_order(sections)
    ]
    # The same include as the live page, so a frozen entry looks like a live one.
    bibliography_html = "".join(
        render_to_string("includes/source_entry.html", {"source": source})
        for source in Source.objects.cited_in_article(article)
    )
    figure = article.lead_figure
    lead_figure = None
    if figure is not None and figure.image and figure.is_live:
        lead_figure = {
            "image": figure.image.name,
            "width": figure.width,
            "height": figure.height,
            "alt_text": figure.alt_text,
            "caption": figure.caption,
            "credit": figure.credit,
            "licence": figure.licence,
        }
    return {
        "title": article.title,
        "dek": article.dek,
        "dek_html": rendered.dek_html,
        "sections": frozen_sections,
        "notes_html": rendered.notes_html,
        "bibliography_html": bibliography_html,
        "lead_figure": lead_figure,
    }


def _as_read(content: dict) -> dict:
    """The parts of frozen content readers see: a Markdown edit that renders the same is no new version."""
    return {
        **{name: value for name, value in content.items() if name != "dek"},
        "sections": [{k: v for k, v in section.items() if k != "body"} for section in content["sections"]],
    }


def record_article_version(article: Article, sections, rendered: RenderedArticle, *,
                           revision: Revision | None = None) -> ArticleVersion | None:
    """Record the article as readers now see it, unless that is what its latest version shows.

    The caller holds the article's row lock (see ``refresh_article``), so numbers cannot collide.
    """
    content = frozen_article(article, sections, rendered)
    latest = ArticleVersion.objects.for_article(article).first()
    if latest is not None and _as_read(latest.content()) == _as_read(content):
        return None
    return ArticleVersion.objects.create(
        article=article,
        number=latest.number + 1 if latest else 1,
        revision=revision,
        editor_name=revision.author_name if revision else "",
        summary=revision.summary if revision else "",
        **content,
    )


def refresh_topic(topic: Topic) -> None:
    topic.body_html = render_standalone(topic.body)
    Topic.objects.filter(pk=topic.pk).update(body_html=topic.body_html)
    search_index.index_topic(topic)


def articles_affected_by(obj) -> list[Article]:
    """Articles whose rendered pages show this object."""
    if isinstance(obj, Article):
        return [obj]
    if isinstance(obj, Section):
        return [obj.article]
    articles = []
    if isinstance(obj, Source):
        articles = list(Article.objects.filter(sections__citations__source=obj).distinct())
    if isinstance(obj, Figure):
        articles = list(Article.objects.filter(lead_figure=obj))
    # --- Timelines embedded in sections, figures shown in section text (articles.timeline) ---
    seen = {article.pk for article in articles}
    articles += [article for article in timeline.articles_showing(obj) if article.pk not in seen]
    return articles


def topics_affected_by(obj) -> list[Topic]:
    if isinstance(obj, Topic):
        return [obj]
    if isinstance(obj, Source):
        return [t for t in Topic.objects.filter(body__contains=f"@{obj.key}")]
    return []


def missing_citation_keys(text: str) -> list[str]:
    """Keys cited in ``text`` that match no source (deleted sources count as missing)."""
    keys = markup.citation_keys(text)
    if not keys:
        return []
    known = set(
        Source.objects.filter(key__in=keys).exclude(state=PublicationState.DELETED).values_list("key", flat=True)
    )
    return [key for key in keys if key not in known]


def citation_errors(text: str) -> list[str]:
    errors = [
        _("No source has the citation key “%(key)s”. Add the source first, or correct the key.") % {"key": key}
        for key in missing_citation_keys(text)
    ]
    # A longer locator could not be stored as a Citation (PostgreSQL refuses it at publish time).
    limit = Citation._meta.get_field("locator").max_length
    for ref in markup.extract_citations(text or ""):
        if len(ref.locator) > limit:
            message = _("The place cited in “%(key)s” (“%(start)s…”) is too long: at most %(limit)d characters.") % {
                "key": ref.key, "start": ref.locator[:40], "limit": limit}
            if message not in errors:
                errors.append(message)
    return errors


def check_publishable(obj: ModeratedContent, action: str) -> None:
    """Refuse to publish content that would give readers a broken page."""
    errors = []
    if action in (RevisionAction.CREATE, RevisionAction.CHANGE, RevisionAction.RESTORE):
        for name in ("body", "dek", "text"):
            if hasattr(obj, name):
                errors.extend(citation_errors(getattr(obj, name)))
        # --- Timeline events (articles.timeline) ---
        if isinstance(obj, TimelineEvent):
            for source in Source.objects.filter(key__in=markup.citation_keys(obj.text)).exclude(
                state=PublicationState.LIVE
            ):
                errors.append(_("The source “%(key)s” is not published yet: approve it before this event.")
                              % {"key": source.key})
        if isinstance(obj, Section):
            errors.extend(timeline.directive_errors(obj.body))
            keys = markup.citation_keys(obj.body)
            unpublished = Source.objects.filter(key__in=keys).exclude(state=PublicationState.LIVE)
            for source in unpublished:
                errors.append(
                    _("The source “%(key)s” is not published yet: approve it before this section.")
                    % {"key": source.key}
                )
            if obj.article.state != PublicationState.LIVE and obj.article.live_revision_id is None:
                pass  # A section may wait in a draft article; it shows once the article is published.
    if action in (RevisionAction.DELETE, RevisionAction.UNPUBLISH) and isinstance(obj, Source):
        places = list(
            Section.objects.published()
            .filter(citations__source=obj)
            .select_related("article")
            .distinct()
        )
        if places:
            where = "; ".join(f"“{s.article.title}” › “{s.title}”" for s in places)
            errors.append(_("This source is still cited in %(where)s. Remove those citations first.") % {"where": where})
        # --- Timeline events (articles.timeline) ---
        events = list(TimelineEvent.objects.published().filter(cited_sources=obj))
        if events:
            where = "; ".join(f"“{event}”" for event in events)
            errors.append(_("This source is still cited by the timeline events %(where)s. Remove those citations "
                            "first.") % {"where": where})
    if errors:
        raise ValidationError(errors)


def apply_revision(revision: Revision) -> ModeratedContent:
    """Make ``revision`` the live state of its object and refresh what depends on it.

    The caller holds a transaction and has locked the object's row.
    """
    model = revision.model_class
    obj = model._default_manager.select_for_update().get(pk=revision.object_id)
    m2m = {}
    if revision.action in (RevisionAction.CREATE, RevisionAction.CHANGE, RevisionAction.RESTORE):
        m2m = obj.apply_snapshot(revision.data)
        obj.state = PublicationState.LIVE
    elif revision.action == RevisionAction.DELETE:
        obj.state = PublicationState.DELETED
    elif revision.action == RevisionAction.UNPUBLISH:
        obj.state = PublicationState.UNPUBLISHED
    check_publishable(obj, revision.action)
    obj.full_clean(exclude=["live_revision"])
    obj.live_revision = revision
    obj.save()
    for name, pks in m2m.items():
        getattr(obj, name).set(pks)
    refresh_derived(obj)
    return obj


def refresh_derived(obj) -> None:
    # Stored HTML is content: rendered in the content language (links, captions, note labels), the
    # same whatever the interface language of the moderator who published (articles.languages).
    with translation.override(settings.LANGUAGE_CODE):
        _refresh_derived(obj)


def _refresh_derived(obj) -> None:
    # --- Timeline events and figure renditions, before the pages that show them are re-rendered ---
    if isinstance(obj, TimelineEvent):
        timeline.refresh_event(obj)
    elif isinstance(obj, Source):
        for event in timeline.events_citing(obj):
            timeline.refresh_event(event)
    elif isinstance(obj, Figure):
        renditions.refresh_figure(obj)
    for article in articles_affected_by(obj):
        refresh_article(article, revision=obj.live_revision)
    for topic in topics_affected_by(obj):
        refresh_topic(topic)
    if isinstance(obj, Topic):
        # Article pages show their sections' topics; the articles' own HTML does not change.
        showing = Article.objects.filter(sections__topics=obj).values("pk")
        for article in Article.objects.select_for_update().filter(pk__in=showing).order_by("pk"):
            rendered_pages.store(article)
    if isinstance(obj, Source):
        search_index.index_source(obj)
    if isinstance(obj, Section):
        # A section that moved to another article leaves stale HTML behind in the old one.
        previous = Revision.objects.filter(pk=obj.live_revision.base_id).first() if obj.live_revision else None
        old_article_id = previous.data.get("article") if previous else None
        if old_article_id and old_article_id != obj.article_id:
            old = Article.objects.filter(pk=old_article_id).first()
            if old:
                refresh_article(old, revision=obj.live_revision)
    # Bumped after commit, or a reader could cache the old page under the new generation.
    transaction.on_commit(lambda: caching.content_changed(obj))


def preview_article(article: Article, revision: Revision | None = None):
    """The article as it would read with ``revision`` applied, without saving anything."""
    sections = list(article.sections.published().prefetch_related("topics"))
    if revision is not None:
        target = revision.get_object()
        if isinstance(target, Article) and target.pk == article.pk:
            article.apply_snapshot(revision.data)
        elif isinstance(target, Section):
            sections = [s for s in sections if s.pk != target.pk]
            if revision.action in (RevisionAction.CREATE, RevisionAction.CHANGE, RevisionAction.RESTORE):
                target.apply_snapshot(revision.data)
                if target.article_id == article.pk:
                    sections.append(target)
    with translation.override(settings.LANGUAGE_CODE):  # as refresh_derived renders it
        rendered = render_article(article, sections)
    return reading_order(sections), rendered


__all__ = [
    "apply_revision",
    "check_publishable",
    "citation_errors",
    "preview_article",
    "reading_order",
    "record_article_version",
    "refresh_article",
    "refresh_topic",
    "render_article",
    "render_standalone",
]
