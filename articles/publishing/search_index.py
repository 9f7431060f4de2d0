"""Keeping the site search current: the write side of ``articles.reading.search``.

Called at publish time from ``articles.publishing.publish`` (``refresh_article``, ``refresh_topic`` and
``refresh_derived``), inside the publish transaction, so the search changes exactly when the pages
do and never shows a draft, a pending proposal or a deleted page. What is indexed is decided by
the same ``published()`` / ``visible()`` querysets the pages use. The text comes from the HTML
rendered at publish time; nothing here renders Markdown. ``manage.py rebuild_search_index``
rebuilds it all from the stored HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html.parser import HTMLParser

from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.db.models import Q, QuerySet, Value

from articles.content.search_text import FTS_TABLE, index_text
from articles.models import Article, SearchEntry, SearchEntryKind, Section, Source, Topic

# --- Plain text from rendered HTML ---------------------------------------------------------------

_BLOCKS = {
    "p",
    "div",
    "section",
    "article",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "tr",
    "td",
    "th",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "br",
    "hr",
}
_VOID = {"br", "hr", "img", "wbr", "col", "area", "source", "input", "meta", "link"}
# Note markers and back-links are numbers and arrows, not words; the notes list under a topic
# is the bibliography's words, not the topic's.
_SKIPPED_CLASSES = {"footnote-backref", "note-backref", "notes"}


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []  # The open tags inside a skipped element, outermost first.

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if tag in _BLOCKS and not self.skipping:
                self.parts.append("\n")
            return
        classes = set((dict(attrs).get("class") or "").split())
        if self.skipping or tag == "sup" or classes & _SKIPPED_CLASSES:
            self.skipping.append(tag)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if self.skipping:
            if tag in self.skipping:
                while self.skipping and self.skipping.pop() != tag:
                    pass
            return
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def plain_text(rendered_html: str) -> str:
    """What a reader reads in ``rendered_html``, as one line of text (entities decoded)."""
    if not rendered_html:
        return ""
    extractor = _TextExtractor()
    extractor.feed(rendered_html)
    extractor.close()
    text = re.sub(r"\s+", " ", "".join(extractor.parts)).strip()
    # A note marker removed from "in 2012 [1]." leaves "in 2012 ." behind.
    return re.sub(r" ([.,])", r"\1", text)


# --- Entries ---------------------------------------------------------------------------------------


def _article_entries(article: Article, sections: Iterable[Section], section_html: dict) -> list[SearchEntry]:
    url = article.get_absolute_url()
    entries = [
        SearchEntry(
            kind=SearchEntryKind.ARTICLE,
            object_id=article.pk,
            article=article,
            title=article.title,
            url=url,
            text=plain_text(article.dek_html),
        )
    ]
    entries += [
        _section_entry(article, section, section_html.get(section.pk, section.body_html)) for section in sections
    ]
    return entries


def _section_entry(article: Article, section: Section, html: str) -> SearchEntry:
    return SearchEntry(
        kind=SearchEntryKind.SECTION,
        object_id=section.pk,
        article=article,
        title=section.title,
        context=article.title,
        url=f"{article.get_absolute_url()}#{section.anchor}",
        text=plain_text(html),
    )


def _topic_entry(topic: Topic) -> SearchEntry:
    text = " ".join(part for part in (topic.summary, plain_text(topic.body_html)) if part)
    return SearchEntry(
        kind=SearchEntryKind.TOPIC,
        object_id=topic.pk,
        title=topic.name,
        url=topic.get_absolute_url(),
        text=text,
    )


def _source_entry(source: Source) -> SearchEntry:
    # What the source page shows readers; never the editors' notes.
    facts = [
        "; ".join(source.authors),
        source.publisher,
        source.container_title,
        source.identifier,
        source.date_display,
    ]
    return SearchEntry(
        kind=SearchEntryKind.SOURCE,
        object_id=source.pk,
        title=source.title,
        context=str(source.get_kind_display()),
        url=source.get_absolute_url(),
        text=". ".join(fact for fact in facts if fact),
    )


def _forget_fts_rows(ids: Sequence[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({', '.join(['%s'] * len(ids))})", list(ids))


def _replace(stale: QuerySet[SearchEntry], entries: list[SearchEntry]) -> None:
    """Delete the ``stale`` entries and store ``entries`` in their place, in both indexes."""
    if connection.vendor == "sqlite":
        stale_ids = list(stale.values_list("pk", flat=True))
        if stale_ids:
            _forget_fts_rows(stale_ids)
            SearchEntry.objects.filter(pk__in=stale_ids).delete()
    else:
        stale.delete()  # One statement: nothing refers to an entry.
    _store(entries)


def _store(entries: list[SearchEntry]) -> list[SearchEntry]:
    """Insert ``entries``, their terms with them: in the same statement on PostgreSQL, in FTS5 on SQLite."""
    if not entries:
        return entries
    if connection.vendor == "postgresql":
        for entry in entries:
            entry.vector = SearchVector(Value(index_text(entry.title)), config="simple", weight="A") + SearchVector(
                Value(index_text(entry.text)), config="simple", weight="D"
            )
    created = SearchEntry.objects.bulk_create(entries)
    for entry in created:
        entry.vector = None  # Stored; the expression is not a value to keep on the instance.
    if connection.vendor == "sqlite":
        # Entries deleted behind the index's back (``manage.py flush`` empties the entry table,
        # not the FTS table, and may reset ids) leave rows that would collide with new ids.
        _forget_fts_rows([entry.pk for entry in created])
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (%s, %s, %s)",
                [(entry.pk, index_text(entry.title), index_text(entry.text)) for entry in created],
            )
    return created


# --- Called at publish time ------------------------------------------------------------------------


def index_article(article: Article, sections: Sequence[Section], section_html: dict | None = None) -> None:
    """Index the article and ``sections`` (its published ones) if readers can see it; else drop it.

    ``section_html`` is what ``refresh_article`` just rendered, by section pk; without it the
    sections' stored HTML is used.
    """
    live = Article.objects.published().filter(pk=article.pk).first()
    section_ids = [section.pk for section in sections]
    # Its own entries, and those of sections that have just moved here from another article.
    stale = SearchEntry.objects.filter(
        Q(article_id=article.pk) | Q(kind=SearchEntryKind.SECTION, object_id__in=section_ids)
    )
    entries = []
    if live is not None:
        visible_ids = set(Section.objects.visible().filter(pk__in=section_ids).values_list("pk", flat=True))
        visible = [section for section in sections if section.pk in visible_ids]
        entries = _article_entries(live, visible, section_html or {})
    _replace(stale, entries)


def index_section(section: Section) -> None:
    """Index one section as readers now see it (or drop it): what publishing that section changes."""
    live = Section.objects.visible().select_related("article").filter(pk=section.pk).first()
    entries = [_section_entry(live.article, live, live.body_html)] if live is not None else []
    _replace(SearchEntry.objects.filter(kind=SearchEntryKind.SECTION, object_id=section.pk), entries)


def index_topic(topic: Topic) -> None:
    live = Topic.objects.published().filter(pk=topic.pk).first()
    _replace(
        SearchEntry.objects.filter(kind=SearchEntryKind.TOPIC, object_id=topic.pk), [_topic_entry(live)] if live else []
    )


def index_source(source: Source) -> None:
    live = Source.objects.published().filter(pk=source.pk).first()
    _replace(
        SearchEntry.objects.filter(kind=SearchEntryKind.SOURCE, object_id=source.pk),
        [_source_entry(live)] if live else [],
    )


@transaction.atomic
def rebuild(batch_size: int = 200) -> int:
    """Index every published page again, from the HTML stored at publish time; return the count.

    A batch of articles at a time, with their sections: memory stays that of one batch whatever
    the size of the site (a restore runs this on the whole site).
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE}")
    SearchEntry.objects.all().delete()
    count = 0
    articles = Article.objects.published().only("pk", "title", "slug", "dek_html").order_by("pk")
    last = 0
    while batch := list(articles.filter(pk__gt=last)[:batch_size]):
        last = batch[-1].pk
        sections_by_article: dict[int, list] = {}
        sections = Section.objects.visible().filter(article__in=[article.pk for article in batch])
        for section in sections.only("pk", "article_id", "title", "anchor", "body_html"):
            sections_by_article.setdefault(section.article_id, []).append(section)
        entries = []
        for article in batch:
            entries += _article_entries(article, sections_by_article.get(article.pk, []), {})
        count += _store_all(entries)
    for queryset, entry_for in ((Topic.objects.published(), _topic_entry), (Source.objects.published(), _source_entry)):
        entries = []
        for obj in queryset.iterator(chunk_size=500):
            entries.append(entry_for(obj))
            if len(entries) >= 500:
                count += _store_all(entries)
                entries = []
        count += _store_all(entries)
    return count


def _store_all(entries: list[SearchEntry]) -> int:
    for start in range(0, len(entries), 500):
        _store(entries[start : start + 500])
    return len(entries)
