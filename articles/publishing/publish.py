"""Applying a revision to live content: the one multi-step write behind every publish.

The transaction holds only the change. :func:`apply_revision` applies the revision to its own
row, renders that object's own stored fragments (articles.publishing.fragments), updates its own search
entries, records a new frozen version when an article's own content changed, and writes a
``FollowUp`` row for everything else; after the commit it bumps the page-cache tags the object
appears under (articles.publishing.dependencies) and hands the follow-up to a background task
(articles.publishing.followups). Nothing here renders another article or walks the pages that show the
object, so a publish costs the same on a site of ten articles or five thousand.

The caller (``articles.revisions.moderation.PublishRevision``) holds the transaction and the row locks,
taken in the order that module documents.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from articles.content import figure_files, markup
from articles.models import (
    Article,
    ArticleVersion,
    Citation,
    Figure,
    ModeratedContent,
    PublicationState,
    RetiredSlug,
    Revision,
    RevisionAction,
    Section,
    Source,
    TimelineEvent,
    Topic,
)
from articles.publishing import (
    article_page,
    dependencies,
    followups,
    fragments,
    mentions,
    search_index,
    tasks,
    timeline,
)


def cited_source_states(text: str) -> dict[str, str]:
    """The state of each source ``text`` cites, by key (deleted sources are left out): one query."""
    keys = markup.citation_keys(text or "")
    if not keys:
        return {}
    return dict(Source.objects.filter(key__in=keys).exclude(state=PublicationState.DELETED).values_list("key", "state"))


def missing_citation_keys(text: str, states: dict[str, str] | None = None) -> list[str]:
    """Keys cited in ``text`` that match no source (deleted sources count as missing)."""
    states = cited_source_states(text) if states is None else states
    return [key for key in markup.citation_keys(text or "") if key not in states]


def citation_errors(text: str, states: dict[str, str] | None = None) -> list[str]:
    errors = [
        _("No source has the citation key “%(key)s”. Add the source first, or correct the key.") % {"key": key}
        for key in missing_citation_keys(text, states)
    ]
    # A longer locator could not be stored as a Citation (PostgreSQL refuses it at publish time).
    limit = Citation._meta.get_field("locator").max_length
    for ref in markup.extract_citations(text or ""):
        if len(ref.locator) > limit:
            message = _("The place cited in “%(key)s” (“%(start)s…”) is too long: at most %(limit)d characters.") % {
                "key": ref.key,
                "start": ref.locator[:40],
                "limit": limit,
            }
            if message not in errors:
                errors.append(message)
    return errors


def _unpublished_sources(states: dict[str, str], what: str) -> list[str]:
    message = {
        "section": _("The source “%(key)s” is not published yet: approve it before this section."),
        "event": _("The source “%(key)s” is not published yet: approve it before this event."),
    }[what]
    return [message % {"key": key} for key, state in states.items() if state != PublicationState.LIVE]


# Where a source is still cited, at most this many places are named in the refusal.
PLACES_NAMED = 5


def shown_media_names(text: str) -> set[str]:
    """Names of the figure files ``text`` shows by their public address, in Markdown or in an ``<img>``."""
    found = re.findall(re.escape(settings.MEDIA_URL) + r"(figures/[^\s()<>\[\]\"']+)", text or "")
    return {unquote(name) for name in found}


def unapproved_figure_errors(text: str) -> list[str]:
    """Refuse text that shows an image readers may not see yet: a figure waiting for approval."""
    names = shown_media_names(text)
    if not names:
        return []
    figures = {figure.image.name: figure for figure in Figure.objects.filter(image__in=names)}
    errors = []
    for name in sorted(names):
        figure = figures.get(name)
        if figure is not None and figure.is_live:
            continue
        if figure is None and not figure_files.is_pending(name):
            continue  # an address that is no upload: shown as it is, like any outside image
        errors.append(
            _(
                "The figure “%(figure)s” (%(file)s) is not approved yet: approve it before this text, "
                "or together with it."
            )
            % {"figure": figure if figure is not None else name.rsplit("/", 1)[-1], "file": name.rsplit("/", 1)[-1]}
        )
    return errors


def check_publishable(obj: ModeratedContent, action: str) -> None:
    """Refuse to publish content that would give readers a broken page."""
    errors = []
    if action in (RevisionAction.CREATE, RevisionAction.CHANGE, RevisionAction.RESTORE):
        for name in ("body", "dek", "text"):
            if hasattr(obj, name):
                states = cited_source_states(getattr(obj, name))
                errors.extend(citation_errors(getattr(obj, name), states))
                if isinstance(obj, (Section, TimelineEvent)):
                    errors.extend(_unpublished_sources(states, "section" if isinstance(obj, Section) else "event"))
                errors.extend(unapproved_figure_errors(getattr(obj, name)))
        if isinstance(obj, Section):
            errors.extend(timeline.directive_errors(obj.body))
        if isinstance(obj, Figure) and not (obj.alt_text or "").strip():
            errors.append(
                _(
                    "This figure has no alt text. Write what the image shows for readers who cannot see it, then approve."
                )
            )
    if action in (RevisionAction.DELETE, RevisionAction.UNPUBLISH) and isinstance(obj, Source):
        citing = Section.objects.published().filter(citations__source=obj).distinct()
        places = list(citing.select_related("article").order_by("article__title", "position")[: PLACES_NAMED + 1])
        if places:
            where = "; ".join(f"“{s.article.title}” › “{s.title}”" for s in places[:PLACES_NAMED])
            if len(places) > PLACES_NAMED:
                where += " " + _("and %(count)d more sections") % {"count": citing.count() - PLACES_NAMED}
            errors.append(
                _("This source is still cited in %(where)s. Remove those citations first.") % {"where": where}
            )
        # --- Timeline events (articles.publishing.timeline) ---
        events = list(TimelineEvent.objects.published().filter(cited_sources=obj)[:PLACES_NAMED])
        if events:
            where = "; ".join(f"“{event}”" for event in events)
            errors.append(
                _("This source is still cited by the timeline events %(where)s. Remove those citations first.")
                % {"where": where}
            )
    if errors:
        raise ValidationError(errors)


def apply_revision(revision: Revision, obj: ModeratedContent) -> ModeratedContent:
    """Make ``revision`` the live state of ``obj`` (locked by the caller) and render what is its own."""
    before = obj.live_revision.data if obj.live_revision_id else {}
    # The address readers may have linked to: only a published object's slug was ever public.
    old_slug = getattr(obj, obj.SLUG_FIELD) if obj.SLUG_FIELD and obj.live_revision_id else None
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
    render_own_fragments(obj)
    obj.save()
    for name, pks in m2m.items():
        getattr(obj, name).set(pks)
    if old_slug:
        RetiredSlug.objects.retire(obj, old_slug)
    if isinstance(obj, Figure) and obj.is_live and obj.image:
        # Readers may reach the file only once the approval is committed: a rolled-back approval
        # leaves it private. The figure's follow-up publishes it again if this copy failed.
        name = obj.image.name
        transaction.on_commit(lambda: figure_files.publish(name))
    refresh_own_records(obj, before, revision)
    schedule_follow_up(obj, before=before, revision=revision)
    return obj


def schedule_follow_up(obj: ModeratedContent, *, before: dict, revision: Revision | None = None) -> None:
    """Leave the rest for after the commit: page-cache tags, stale baked pages, the background follow-up."""
    follow_up, found = followups.record(obj, before=before, revision=revision)
    transaction.on_commit(lambda: tasks.start_follow_up(follow_up.pk, found))


def render_own_fragments(obj: ModeratedContent) -> None:
    """Render the object's own stored HTML from its Markdown and fields (saved with the object).

    In the content language: links and labels in stored HTML are content, the same whatever the
    interface language of the moderator who published.
    """
    with translation.override(settings.LANGUAGE_CODE):
        _render_own_fragments(obj)


def _render_own_fragments(obj: ModeratedContent) -> None:
    if isinstance(obj, Section):
        fragments.render_section(obj)
    elif isinstance(obj, Article):
        fragments.render_dek(obj)
        obj.published_at = timezone.now()
    elif isinstance(obj, Source):
        fragments.render_source(obj)
    elif isinstance(obj, Topic):
        fragments.render_topic(obj)
    elif isinstance(obj, TimelineEvent):
        obj.text_html, _keys = timeline.render_event_text(obj.text, id_prefix=f"event-{obj.pk}-")


def refresh_own_records(obj: ModeratedContent, before: dict, revision: Revision) -> None:
    """Rows derived from the object alone: citations, search entries, the article's new version."""
    if isinstance(obj, Section):
        fragments.store_citations(obj)
        if timeline.directive_slugs(obj.body) or timeline.directive_slugs(before.get("body") or ""):
            obj.timelines.set(Topic.objects.filter(slug__in=timeline.directive_slugs(obj.body)))
        article_ids = {pk for pk in (obj.article_id, before.get("article")) if pk}
        # Lists show each article's "last updated", which a published section moves.
        Article.objects.filter(pk__in=article_ids).update(published_at=timezone.now())
        search_index.index_section(obj)
        mentions.refresh(article_ids)
        for article in Article.objects.filter(pk__in=article_ids):
            record_version(article, revision=revision)
    elif isinstance(obj, Article):
        search_index.index_article(obj, list(obj.sections.published()))
        mentions.refresh([obj.pk])
        record_version(obj, revision=revision)
    elif isinstance(obj, Source):
        search_index.index_source(obj)
        refresh_formatting_of(obj)
    elif isinstance(obj, Topic):
        search_index.index_topic(obj)
    elif isinstance(obj, TimelineEvent):
        timeline.store_cited_sources(obj)


def refresh_formatting_of(source: Source) -> None:
    """Topic descriptions and timeline events format the source's title in their stored HTML.

    Both are few (a site has tens of topics and a timeline, against thousands of articles) and
    are rendered again here, so the timeline and topic pages show the change at once; articles
    put their notes together when read and need nothing.
    """
    found = dependencies.appearances(source)
    with translation.override(settings.LANGUAGE_CODE):
        for topic in found.topics.published():
            fragments.render_topic(topic)
            Topic.objects.filter(pk=topic.pk).update(body_html=topic.body_html)
        for event in found.events:
            timeline.refresh_event(event)


def record_version(article: Article, *, revision: Revision | None = None) -> ArticleVersion | None:
    """Freeze the article as readers now see it, unless that is what its latest version shows.

    Only a change to the article's own content (its fields or its sections) records a version:
    a source, topic or figure it shows may change later without touching it. The caller holds
    the article's row lock, so numbers cannot collide.
    """
    if article.state != PublicationState.LIVE:
        return None
    # In the content language, as every stored fragment: whoever publishes, the links and labels a
    # permalink keeps are the same, and a page in another language translates them when read.
    with translation.override(settings.LANGUAGE_CODE):
        page = article_page.compose(article, Section.objects.for_reading().filter(article=article))
        content = frozen_content(page)
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


def frozen_content(page: article_page.ArticlePage) -> dict:
    """What an article page shows, as the content fields of an ArticleVersion."""
    from django.template.loader import render_to_string

    article = page.article
    frozen_sections = [
        {
            "anchor": section.anchor,
            "title": section.title,
            "level": section.level,
            "html": section.html,
            "body": section.body,
            "topics": [{"name": topic.name, "slug": topic.slug} for topic in section.topic_list],
        }
        for section in page.sections
    ]
    # The same include as the live page, so a frozen entry looks like a live one.
    bibliography_html = "".join(
        render_to_string("includes/source_entry.html", {"source": source}) for source in page.bibliography
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
        "dek_html": page.dek_html,
        "sections": frozen_sections,
        "notes_html": page.notes_html,
        "bibliography_html": bibliography_html,
        "lead_figure": lead_figure,
    }


def _as_read(content: dict) -> dict:
    """The parts of frozen content readers see: a Markdown edit that renders the same is no new version."""
    return {
        **{name: value for name, value in content.items() if name != "dek"},
        "sections": [{k: v for k, v in section.items() if k != "body"} for section in content["sections"]],
    }


def preview_article(article: Article, *revisions: Revision | None) -> article_page.ArticlePage:
    """The article page as it would read with ``revisions`` applied (in order), saving nothing.

    Each revision's object is a detached copy, fetched for the preview alone: live rows in memory
    elsewhere are never changed. Revisions of other kinds (sources, topics…) are left out.
    """
    article = Article.objects.select_related("lead_figure").get(pk=article.pk)
    sections = list(Section.objects.for_reading().filter(article=article))
    for revision in revisions:
        if revision is None:
            continue
        if revision.action in (RevisionAction.CREATE, RevisionAction.CHANGE, RevisionAction.RESTORE):
            target = revision.as_object()
            if isinstance(target, Article) and target.pk == article.pk:
                article = target
                fragments.render_dek(article)
            elif isinstance(target, Section):
                sections = [s for s in sections if s.pk != target.pk]
                if target.article_id == article.pk:
                    fragments.render_section(target)
                    sections.append(target)
        elif revision.model_class is Section:
            sections = [s for s in sections if s.pk != revision.object_id]  # deleted or unpublished
    return article_page.compose(article, sections)
