"""Each object's own stored fragments, rendered once when that object is published.

A section's HTML, an introduction's, a source's formatted note and bibliography entry, a topic's
description: Markdown and citation formatting happen here, never on a reader's request. A
fragment depends only on its own object (and on which sources its citation keys name), so
publishing an object re-renders its own fragments and nothing else; pages are put together from
fragments when they are read (``articles.publishing.article_page``).

Notes are numbered within each fragment (1, 2… per section); the article page renumbers them
in reading order, which is why a section keeps the list of notes it cites (``Section.notes``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from articles.content import markup
from articles.models import Article, Citation, Figure, PublicationState, Section, Source, Topic
from articles.publishing import renditions

# Where the page or paragraph cited goes in ``Source.note_with_locator_html``: a character from
# Unicode's private use area, which no escaping changes and no source text contains.
LOCATOR_MARK = "\ue000"


def _sources_by_key(keys: Iterable[str]) -> dict[str, Source]:
    keys = set(keys)
    if not keys:
        return {}
    return {s.key: s for s in Source.objects.filter(key__in=keys).exclude(state=PublicationState.DELETED)}


def render_fragment(text: str, *, id_prefix: str, heading_offset: int) -> tuple[str, list[dict]]:
    """Markdown as sanitised HTML with notes numbered from 1, and the notes it cites, in order.

    Rendered in the content language: links, captions and note labels are content, the same
    whatever the interface language of the moderator who published.
    """
    notes = markup.CitationNotes()
    with translation.override(settings.LANGUAGE_CODE):
        html = markup.render_markdown(text or "", notes=notes, id_prefix=id_prefix, heading_offset=heading_offset)
        html = renditions.rewrite_images(html)
    sources = _sources_by_key(markup.citation_keys(text or ""))
    cited = [
        {
            "source": sources[note.key].pk if note.key in sources else None,
            "key": note.key,
            "locator": note.locator,
            "count": len(note.backrefs),
        }
        for note in notes.notes
    ]
    return html, cited


def render_section(section: Section) -> None:
    """Set the section's ``body_html`` and ``notes`` from its Markdown (the caller saves them)."""
    section.body_html, section.notes = render_fragment(
        section.body, id_prefix=f"s{section.pk}-", heading_offset=section.level
    )


def citations_of(section: Section) -> list[Citation]:
    """The section's citation rows, one per citation, from the notes ``render_section`` set (no query)."""
    ids = {(note["key"]): note["source"] for note in section.notes if note.get("source")}
    return [
        Citation(section=section, source_id=ids[ref.key], locator=ref.locator, position=position)
        for position, ref in enumerate(markup.extract_citations(section.body or ""))
        if ref.key in ids
    ]


def render_dek(article: Article) -> None:
    article.dek_html, article.dek_notes = render_fragment(article.dek, id_prefix="dek-", heading_offset=2)


def store_citations(section: Section) -> None:
    """Which sources the section cites, one row per citation: source pages and "cited in" read them.

    Call after ``render_section``: the rows come from the notes it found.
    """
    Citation.objects.filter(section=section).delete()
    Citation.objects.bulk_create(citations_of(section))


def render_source(source: Source) -> None:
    """Set the source's formatted note (with and without a place cited) and bibliography entry."""
    with translation.override(settings.LANGUAGE_CODE):
        source.note_html = source.format_note()
        source.note_with_locator_html = source.format_note(LOCATOR_MARK)
        source.bibliography_html = source.format_bibliography()


def render_standalone(text: str, *, id_prefix: str = "") -> str:
    """Markdown with its own notes list appended: topic descriptions and previews.

    ``id_prefix`` keeps the note and footnote ids unique when several are shown on one page.
    """
    notes = markup.CitationNotes(id_prefix=id_prefix)
    with translation.override(settings.LANGUAGE_CODE):
        html = markup.render_markdown(text, notes=notes, heading_offset=1, id_prefix=id_prefix)
        sources = _sources_by_key(note.key for note in notes.notes)

        def format_source(key: str, locator: str) -> str | None:
            source = sources.get(key)
            return source.format_note(locator) if source else None

        def source_url(key: str) -> str | None:
            source = sources.get(key)
            return source.get_absolute_url() if source else None

        return html + markup.render_notes(notes, format_source, source_url=source_url)


def render_topic(topic: Topic) -> None:
    topic.body_html = render_standalone(topic.body)


def sections_showing_figure(figure: Figure) -> QuerySet[Section]:
    """Published sections whose Markdown shows this figure's image (their ``<picture>`` is rendered in)."""
    if not figure.image:
        return Section.objects.none()
    return Section.objects.filter(Q(body__contains=f"]({figure.image.url}"), state=PublicationState.LIVE)


# --- The interface inside stored fragments ---------------------------------------------------------

# What fragments hold of the interface, as rendered in the content language: screen-reader labels of
# note markers and back-links, the notes' "Source details" links, the labels of the sources under a
# timeline event, and links to public pages (articles.content.markup, articles.publishing.timeline,
# articles.publishing.article_page write them).
_INTERFACE = re.compile(
    r'href="(?P<path>/(?:articles|topics|sources|timeline)/[^"]*)"'
    r'|aria-label="(?P<what>Back to citation|Back to reference|Footnote|Note) (?P<number>\d+)(?:, (?P<letter>[a-z]+))?"'
    r'|class="note-source-link"(?P<attrs>[^>]*)>Source details</a>'
    r'|<span class="note-unknown">Unknown source \u201c(?P<key>[^<]*?)\u201d</span>'
    r'|<span class="timeline-source-label">(?:Source (?P<first>\d+)|(?P<next>\d+)|(?P<only>Source)):</span>'
    r'|aria-label="Source (?P<source>\d+): (?P<title>[^"]*)"'
    r'|aria-label="Sources"'
)


def in_page_language(html: str) -> str:
    """A stored fragment with its interface in the active language and its links to pages in that language.

    Fragments are rendered once, in the content language (English), whoever publishes; a page in
    another language puts these few bits in its own when it is read: one pass of string
    replacement, no Markdown. In the content language the fragment is returned as it is.
    """
    language = translation.get_language()
    if not html or not language or language == settings.LANGUAGE_CODE:
        return html
    lang = f' lang="{language}"'

    def replace(match: re.Match[str]) -> str:
        group = match.groupdict()
        if group["path"]:
            return f'href="/{language}{group["path"]}"'
        if group["what"]:
            number, letter = group["number"], group["letter"]
            label = {
                "Back to citation": _("Back to citation %(number)s, %(letter)s")
                if letter
                else _("Back to citation %(number)s"),
                "Back to reference": _("Back to reference %(number)s"),
                "Footnote": _("Footnote %(number)s"),
                "Note": _("Note %(number)s"),
            }[group["what"]] % {"number": number, "letter": letter}
            return f'aria-label="{escape(label)}"{lang}'
        if group["attrs"] is not None:
            return f'class="note-source-link"{group["attrs"]}{lang}>{escape(_("Source details"))}</a>'
        if group["key"] is not None:
            # The key is already escaped in the stored HTML.
            label = escape(_("Unknown source “%(key)s”") % {"key": "\ue001"}).replace("\ue001", group["key"])
            return f'<span class="note-unknown"{lang}>{label}</span>'
        if group["first"] or group["next"] or group["only"]:
            if group["only"]:
                label = _("Source:")
            elif group["first"]:
                label = _("Source %(number)s:") % {"number": group["first"]}
            else:
                label = _("%(number)s:") % {"number": group["next"]}
            return f'<span class="timeline-source-label"{lang}>{escape(label)}</span>'
        if group["source"]:
            # The title is already escaped in the stored HTML.
            label = escape(_("Source %(number)s: %(title)s") % {"number": group["source"], "title": "\ue001"})
            label = label.replace("\ue001", group["title"])
            return f'aria-label="{label}"{lang}'
        # The list of an event's sources: its items are content, so no lang of its own.
        return f'aria-label="{escape(_("Sources"))}"'

    return _INTERFACE.sub(replace, html)
