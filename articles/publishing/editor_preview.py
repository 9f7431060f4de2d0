"""The Markdown editor's live preview: a text as readers would get it, in its place, saving nothing.

A section's text is rendered as it would be published (``fragments.render_section`` on a detached
copy) and numbered with the article's other published fragments in reading order, as
``article_page.compose`` numbers them, so its notes carry the numbers readers would see and the
sources' stored, formatted notes. Citation keys that name no source, or a source not yet
published, are listed: publishing would refuse them (``publish.check_publishable``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from articles.models import Article, PublicationState, Section, Source
from articles.publishing import article_page, fragments


@dataclass
class TextPreview:
    html: str
    notes_html: str = ""
    #: Keys that name no source.
    unknown_keys: list[str] = field(default_factory=list)
    #: Keys of sources that exist but are not published yet.
    unpublished_keys: list[str] = field(default_factory=list)
    level: int = 2


def _notes_of(numbering: article_page.NoteNumbering, cited: list[dict]) -> article_page.NoteNumbering:
    """The part of an article's notes that one fragment cites, keeping the article's numbers."""
    wanted = {(entry.get("source"), entry["key"], entry.get("locator", "")) for entry in cited}
    return article_page.NoteNumbering(
        notes=[n for n in numbering.notes if (n.source_id, n.key, n.locator) in wanted],
    )


def _flagged(cited: list[dict], sources: dict[int, Source]) -> tuple[list[str], list[str]]:
    unknown = [entry["key"] for entry in cited if not entry.get("source")]
    unpublished = [
        entry["key"]
        for entry in cited
        if entry.get("source") in sources and sources[entry["source"]].state != PublicationState.LIVE
    ]
    return list(dict.fromkeys(unknown)), list(dict.fromkeys(unpublished))


def _in_article(article: Article, text: str, *, section: Section | None, dek: bool) -> TextPreview:
    """``text`` as the introduction (``dek``) or as ``section``'s body, within the article's published page."""
    sections = list(Section.objects.published().filter(article=article).order_by("position", "pk"))
    if dek:
        copy = Article(pk=article.pk, dek=text)
        fragments.render_dek(copy)
        own_html, own_notes = copy.dek_html, copy.dek_notes
        level = 2
    else:
        sections = [s for s in sections if section is None or s.pk != section.pk]
        # A new section has no place yet: it is previewed at the end of the article.
        copy = Section(pk=None, article=article, body=text, position=10**9)
        if section is not None:
            copy = Section(
                pk=section.pk, article=article, parent_id=section.parent_id, position=section.position, body=text
            )
        fragments.render_section(copy)
        sections.append(copy)
        own_html, own_notes = copy.body_html, copy.notes
        level = copy.level
    numbering = article_page.NoteNumbering()
    if dek:
        own_html = numbering.renumber(own_html, own_notes)
    else:
        numbering.renumber(article.dek_html, article.dek_notes)
    for each in article_page.reading_order(sections):
        html = numbering.renumber(each.body_html, each.notes)
        if each is copy:
            own_html = html
    mine = _notes_of(numbering, own_notes)
    sources = Source.objects.in_bulk(mine.source_ids())
    unknown, unpublished = _flagged(own_notes, sources)
    notes_html = mine.render(sources)
    # Only this text's notes are listed: each keeps its number in the article, not its place here.
    for note in mine.notes:
        notes_html = notes_html.replace(
            f'<li id="note-{note.number}">', f'<li id="note-{note.number}" value="{note.number}">'
        )
    return TextPreview(
        html=own_html,
        notes_html=notes_html,
        unknown_keys=unknown,
        unpublished_keys=unpublished,
        level=level,
    )


def preview_text(
    text: str, *, section: Section | None = None, article: Article | None = None, dek: bool = False
) -> TextPreview:
    """The preview of ``text``: a section's body or an article's introduction in its article, else standalone."""
    if section is not None:
        return _in_article(section.article, text, section=section, dek=False)
    if article is not None:
        return _in_article(article, text, section=None, dek=dek)
    # Topic descriptions, timeline events: the text on its own, its notes numbered from 1.
    html, cited = fragments.render_fragment(text, id_prefix="", heading_offset=1)
    sources = {s.pk: s for s in Source.objects.filter(pk__in={e["source"] for e in cited if e.get("source")})}
    unknown, unpublished = _flagged(cited, sources)
    return TextPreview(
        html=fragments.render_standalone(text), unknown_keys=unknown, unpublished_keys=unpublished, level=1
    )
