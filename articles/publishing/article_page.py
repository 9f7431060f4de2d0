"""An article page put together from stored fragments, when it is read.

Sections bring their HTML (rendered when each was published, notes numbered from 1 within the
section) and the list of notes they cite; sources bring their formatted notes and bibliography
entries. Here the notes are numbered once across the introduction and the sections, in reading
order, and the notes list and bibliography are built: string work on stored HTML, a fixed
number of queries, no Markdown. The live page, the staff preview and the frozen versions
(``articles.publishing.publish.record_version``) all come from :func:`compose`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils.html import escape

from articles.content import markup
from articles.models import Article, PublicationState, Section, Source, TimelineEvent, Topic, TopicLink
from articles.publishing import timeline
from articles.publishing.fragments import LOCATOR_MARK

# A citation marker as fragments.render_fragment stores it (markup's output, sanitised).
_MARKER = re.compile(
    r'<a href="#note-(?P<number>\d+)" id="cite-\d+-(?P<occurrence>\d+)" class="citation-ref"'
    r' aria-label="Note \d+" rel="noopener noreferrer">\d+</a>'
)


def reading_order(sections: Iterable[Section]) -> list[Section]:
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
class Note:
    number: int
    source_id: int | None
    key: str
    locator: str
    occurrences: int = 0


@dataclass
class NoteNumbering:
    """One run of note numbers over several fragments: the same source and place keep one number."""

    notes: list[Note] = field(default_factory=list)
    _by_pair: dict = field(default_factory=dict)

    def renumber(self, html: str, cited: list[dict]) -> str:
        if not cited:
            return html
        local = {}  # the fragment's own number -> (note, occurrences before this fragment)
        for number, entry in enumerate(cited, start=1):
            pair = (entry.get("source"), entry["key"], entry.get("locator", ""))
            note = self._by_pair.get(pair)
            if note is None:
                note = Note(len(self.notes) + 1, entry.get("source"), entry["key"], entry.get("locator", ""))
                self.notes.append(note)
                self._by_pair[pair] = note
            local[number] = (note, note.occurrences)
            note.occurrences += entry.get("count", 1)

        def marker(match: re.Match[str]) -> str:
            found = local.get(int(match["number"]))
            if found is None:
                return match[0]
            note, before = found
            n = note.number
            return (
                f'<a href="#note-{n}" id="cite-{n}-{before + int(match["occurrence"])}" class="citation-ref"'
                f' aria-label="Note {n}" rel="noopener noreferrer">{n}</a>'
            )

        return _MARKER.sub(marker, html)

    def source_ids(self) -> set[int]:
        return {note.source_id for note in self.notes if note.source_id}

    def render(self, sources: dict[int, Source]) -> str:
        """The ``<ol class="notes">`` list, as markup.render_notes writes it, from stored fragments."""
        if not self.notes:
            return ""
        items = []
        cited_before = set()
        for note in self.notes:
            source = sources.get(note.source_id)
            if source is None:
                body = f'<span class="note-unknown">Unknown source \u201c{escape(note.key)}\u201d</span>'
                if note.locator:
                    body += f", {escape(note.locator)}"
            else:
                if source.pk in cited_before:
                    # Chicago: a source cited again, at another place, gets the shortened note.
                    body = str(source.format_short_note(note.locator))
                elif note.locator:
                    body = source.note_with_locator_html.replace(LOCATOR_MARK, str(escape(note.locator)))
                else:
                    body = source.note_html
                body += f' <a href="{escape(source.get_absolute_url())}" class="note-source-link">Source details</a>'
                cited_before.add(source.pk)
            n = note.number
            if note.occurrences > 1:
                backs = " ".join(
                    f'<a href="#cite-{n}-{i}" class="note-backref" aria-label="Back to citation {n}, {label}">'
                    f"\u21a9\ufe0e<sup>{label}</sup></a>"
                    for i, label in ((i, markup.backref_label(i - 1)) for i in range(1, note.occurrences + 1))
                )
            else:
                backs = f'<a href="#cite-{n}-1" class="note-backref" aria-label="Back to citation {n}">\u21a9\ufe0e</a>'
            items.append(f'<li id="note-{n}">{body} {backs}</li>')
        return '<ol class="notes">\n' + "\n".join(items) + "\n</ol>\n"


@dataclass
class ArticlePage:
    article: Article
    sections: list[Section]
    dek_html: str
    notes_html: str
    bibliography: list[Source]
    topic_ids: set[int]
    source_ids: set[int]
    embeds_timeline: bool

    @property
    def cache_tags(self) -> set[str]:
        """What the page shows, for the page cache (articles.publishing.dependencies names the same tags)."""
        from articles.publishing import dependencies

        return dependencies.article_page_tags(self)


def _embed_timelines(sections: list[Section]) -> bool:
    """Put each ``{{timeline:slug}}`` paragraph's timeline in place; True if there was any."""
    slugs = {slug for section in sections for slug in timeline.embedded_slugs(section.html)}
    if not slugs:
        return False
    topics = {t.pk: t for t in Topic.objects.published().filter(slug__in=slugs)}
    events = {pk: [] for pk in topics}
    # One query for the events of every embedded topic, in date order.
    tagged = (
        TimelineEvent.topics.through.objects.filter(topic__in=list(topics), timelineevent__state=PublicationState.LIVE)
        .select_related("timelineevent")
        .order_by(*(f"timelineevent__{name}" if isinstance(name, str) else name for name in _event_order()))
    )
    for row in tagged:
        events[row.topic_id].append(row.timelineevent)
    rendered = {
        topic.slug: render_to_string("includes/timeline_embed.html", {"topic": topic, "events": events[pk]}).strip()
        for pk, topic in topics.items()
    }
    for section in sections:
        section.html = timeline.replace_embeds(section.html, rendered)
    return True


def _event_order():
    from django.db.models import F

    return [
        "date_year",
        F("timelineevent__date_month").asc(nulls_first=True),
        F("timelineevent__date_day").asc(nulls_first=True),
        "title",
        "pk",
    ]


def _link_topics(sections: list[Section]) -> None:
    """Each section's published topics, for the whole page in one query.

    Django's prefetch_related would do it too, at about twice the cost of the rest of the page.
    """
    saved = [section for section in sections if section.pk]
    if not saved:
        return
    links = {section.pk: [] for section in saved}
    rows = (
        Section.topics.through.objects.filter(section__in=list(links), topic__state=PublicationState.LIVE)
        .order_by("topic__name", "topic_id")
        .values_list("section_id", "topic_id", "topic__name", "topic__slug")
    )
    for section_id, topic_id, name, slug in rows:
        links[section_id].append(TopicLink(name, slug, topic_id))
    for section in saved:
        section.topic_list = links[section.pk]


def compose(article: Article, sections: Iterable[Section]) -> ArticlePage:
    """The article page from ``sections`` (published ones, in any order).

    Sections get ``.html``, their stored HTML with the article's note numbers, and their topics.
    One query for the topics, one for the sources cited, one more when a section embeds a timeline.
    """
    sections = reading_order(sections)
    _link_topics(sections)
    numbering = NoteNumbering()
    dek_html = numbering.renumber(article.dek_html, article.dek_notes)
    for section in sections:
        section.html = numbering.renumber(section.body_html, section.notes)
    source_ids = numbering.source_ids()
    sources = Source.objects.in_bulk(source_ids) if source_ids else {}
    cited_in_sections = {entry.get("source") for section in sections for entry in section.notes}
    bibliography = sorted(
        (s for pk, s in sources.items() if pk in cited_in_sections and s.state == PublicationState.LIVE),
        key=lambda s: s.sort_key,
    )
    embeds = _embed_timelines(sections)
    return ArticlePage(
        article=article,
        sections=sections,
        dek_html=dek_html,
        notes_html=numbering.render(sources),
        bibliography=bibliography,
        topic_ids={topic.pk for section in sections for topic in section.topic_list},
        source_ids=set(sources),
        embeds_timeline=embeds,
    )
