"""Applying revisions to live content, and the derived data that publishing refreshes.

Rendered HTML, notes and "cited in" relations are computed here, once, when content is
published, so that the public read path does no Markdown work. Callers hold a transaction:
``apply_revision`` is only ever called from ``articles.moderation``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import caching, markup
from .models import (
    Article,
    Citation,
    Figure,
    ModeratedContent,
    PublicationState,
    Revision,
    RevisionAction,
    Section,
    Source,
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
        rendered.citations[key] = [(ref.key, ref.locator) for ref in markup.extract_citations(section.body)]
    format_source, source_url = _source_formatter(note.key for note in notes.notes)
    rendered.notes_html = markup.render_notes(notes, format_source, source_url=source_url)
    return rendered


def render_standalone(text: str) -> str:
    """Markdown with its own notes list appended: topic bodies and previews."""
    notes = markup.CitationNotes()
    html = markup.render_markdown(text, notes=notes, heading_offset=1)
    format_source, source_url = _source_formatter(note.key for note in notes.notes)
    return html + markup.render_notes(notes, format_source, source_url=source_url)


def refresh_article(article: Article) -> None:
    """Re-render an article's stored HTML and citations from its live content."""
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


def refresh_topic(topic: Topic) -> None:
    topic.body_html = render_standalone(topic.body)
    Topic.objects.filter(pk=topic.pk).update(body_html=topic.body_html)


def articles_affected_by(obj) -> list[Article]:
    """Articles whose rendered pages show this object."""
    if isinstance(obj, Article):
        return [obj]
    if isinstance(obj, Section):
        return [obj.article]
    if isinstance(obj, Source):
        return list(Article.objects.filter(sections__citations__source=obj).distinct())
    if isinstance(obj, Figure):
        return list(Article.objects.filter(lead_figure=obj))
    return []


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
    missing = missing_citation_keys(text)
    if not missing:
        return []
    return [
        _("No source has the citation key “%(key)s”. Add the source first, or correct the key.") % {"key": key}
        for key in missing
    ]


def check_publishable(obj: ModeratedContent, action: str) -> None:
    """Refuse to publish content that would give readers a broken page."""
    errors = []
    if action in (RevisionAction.CREATE, RevisionAction.CHANGE, RevisionAction.RESTORE):
        for name in ("body", "dek"):
            if hasattr(obj, name):
                errors.extend(citation_errors(getattr(obj, name)))
        if isinstance(obj, Section):
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
    for article in articles_affected_by(obj):
        refresh_article(article)
    for topic in topics_affected_by(obj):
        refresh_topic(topic)
    if isinstance(obj, Section):
        # A section that moved to another article leaves stale HTML behind in the old one.
        previous = Revision.objects.filter(pk=obj.live_revision.base_id).first() if obj.live_revision else None
        old_article_id = previous.data.get("article") if previous else None
        if old_article_id and old_article_id != obj.article_id:
            old = Article.objects.filter(pk=old_article_id).first()
            if old:
                refresh_article(old)
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
    rendered = render_article(article, sections)
    return reading_order(sections), rendered


__all__ = [
    "apply_revision",
    "check_publishable",
    "citation_errors",
    "preview_article",
    "reading_order",
    "refresh_article",
    "refresh_topic",
    "render_article",
    "render_standalone",
]
