"""The timeline: dated events as moderated content, and the places they are shown.

Events are rendered when they are published (:func:`refresh_event`): their Markdown becomes
``text_html`` and the sources they cite become ``cited_sources``. A section embeds a topic's
timeline with a line of its own, ``{{timeline:<topic slug>}}``; the section's stored HTML keeps
that paragraph, and the article page puts the topic's events in its place when it is read
(``articles.publishing.article_page``), from the events' stored HTML: publishing an event touches no
article. Readers' requests do no Markdown work.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from articles.content import markup
from articles.models import PublicationState, Source, TimelineEvent, Topic

# In Markdown: the directive alone on its line. In the sanitised HTML: alone in its paragraph.
_DIRECTIVE_SOURCE = re.compile(r"^[ \t]*\{\{timeline:([A-Za-z0-9_-]+)\}\}[ \t]*$", re.MULTILINE)
_DIRECTIVE_HTML = re.compile(r"<p>\s*\{\{timeline:([A-Za-z0-9_-]+)\}\}\s*</p>")
_CITATION_MARKER = re.compile(r'<a href="#note-(\d+)"[^>]*class="citation-ref"[^>]*>\d+</a>')


def directive_text(slug: str) -> str:
    return "{{timeline:%s}}" % slug


def directive_slugs(text: str) -> list[str]:
    """Topic slugs whose timelines ``text`` embeds, in order of first appearance."""
    return list(dict.fromkeys(_DIRECTIVE_SOURCE.findall(text or "")))


def directive_errors(text: str) -> list[str]:
    """A directive naming no published topic would show readers nothing: say so to the editor."""
    slugs = directive_slugs(text)
    if not slugs:
        return []
    known = set(Topic.objects.published().filter(slug__in=slugs).values_list("slug", flat=True))
    return [
        _("“{{timeline:%(slug)s}}” names no published topic. Check the topic’s slug, or publish the topic first.")
        % {"slug": slug}
        for slug in slugs
        if slug not in known
    ]


# --- Publishing ---------------------------------------------------------------------------------


def render_event_text(text: str, *, id_prefix: str = "") -> tuple[str, list[str]]:
    """An event's Markdown as HTML, with its sources listed under it; and the keys it cites.

    Each citation marker links to its source's page and its number matches the list below the
    text, so the event reads the same on the timeline page and inside an article, where the
    article's own notes are numbered separately. Rendered in the content language, as every
    fragment is; a page in another language translates its labels when read
    (``articles.publishing.fragments.in_page_language``).
    """
    with translation.override(settings.LANGUAGE_CODE):
        return _render_event_text(text, id_prefix=id_prefix)


def _render_event_text(text: str, *, id_prefix: str) -> tuple[str, list[str]]:
    notes = markup.CitationNotes()
    html = markup.render_markdown(text, notes=notes, id_prefix=id_prefix, heading_offset=3)
    keys = list(dict.fromkeys(note.key for note in notes.notes))
    sources = {s.key: s for s in Source.objects.filter(key__in=keys).exclude(state=PublicationState.DELETED)}
    by_number = {note.number: note for note in notes.notes}

    def link_marker(match: re.Match[str]) -> str:
        note = by_number.get(int(match.group(1)))
        source = sources.get(note.key) if note else None
        if source is None:
            return match.group(0)
        return format_html(
            '<a href="{}" class="citation-ref" aria-label="{}">{}</a>',
            source.get_absolute_url(),
            _("Source %(number)s: %(title)s") % {"number": note.number, "title": source.title},
            note.number,
        )

    html = _CITATION_MARKER.sub(link_marker, html)
    if notes.notes:
        items = []
        for note in notes.notes:
            source = sources.get(note.key)
            title = source.title if source else note.key
            url = source.get_absolute_url() if source else ""
            locator = format_html(", {}", note.locator) if note.locator else ""
            link = format_html('<a href="{}">{}</a>', url, title) if url else title
            if len(notes.notes) == 1:
                label = _("Source:")
            elif note.number == 1:
                label = _("Source %(number)s:") % {"number": note.number}
            else:
                label = _("%(number)s:") % {"number": note.number}
            items.append((label, link, locator))
        html += format_html(
            '<ol class="timeline-sources" aria-label="{}">{}</ol>',
            _("Sources"),
            format_html_join("", '<li><span class="timeline-source-label">{}</span> {}{}</li>', items),
        )
    return html, keys


def refresh_event(event: TimelineEvent) -> None:
    """Re-render an event's stored HTML and the sources it cites, from its live content."""
    event.text_html, _keys = render_event_text(event.text, id_prefix=f"event-{event.pk}-")  # footnote ids
    TimelineEvent.objects.filter(pk=event.pk).update(text_html=event.text_html)
    store_cited_sources(event)


def store_cited_sources(event: TimelineEvent) -> None:
    keys = markup.citation_keys(event.text or "")
    event.cited_sources.set(
        Source.objects.filter(key__in=keys).exclude(state=PublicationState.DELETED).values_list("pk", flat=True)
    )


def events_citing(source: Source) -> QuerySet[TimelineEvent]:
    return (
        TimelineEvent.objects.exclude(text="")
        .filter(Q(cited_sources=source) | Q(text__contains=f"@{source.key}"))
        .distinct()
    )


def embedded_slugs(html: str) -> list[str]:
    """Topic slugs whose timelines a section's stored HTML embeds (``articles.publishing.article_page`` fills them in)."""
    return list(dict.fromkeys(_DIRECTIVE_HTML.findall(html or "")))


def replace_embeds(html: str, rendered: dict[str, str]) -> str:
    """Replace each ``{{timeline:slug}}`` paragraph with that topic's rendered timeline.

    A directive naming no published topic is dropped: readers never see the raw directive.
    """
    return _DIRECTIVE_HTML.sub(lambda m: rendered.get(m.group(1), ""), html)
