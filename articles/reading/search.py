"""Site search: what a query means, how each database runs it, and highlighted snippets.

Both databases see the same words. Text is folded in Python (accents removed, case folded,
"œ" as "oe") and cut into words before it is indexed (``articles.publishing.search_index``) and before a
query runs, so "securite" finds "sécurité" and the other way round, and PostgreSQL (a tsvector
with the 'simple' configuration: no stemming, no stop words, no extension needed) and SQLite
(FTS5) find the same entries. No stemming suits a site in English and French: instead a word of
three letters or more also matches the words it starts ("soldat" finds "soldats", "mission"
finds "missions"); a phrase in double quotes matches its words in that order, exactly.

Readers' input never reaches either full-text syntax as such: a query is parsed here into words
and phrases, and the database query is built from those alone, so ``AND OR NEAR(``, ``*`` or an
unbalanced quote are just words or nothing, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import islice

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from articles.content import languages
from articles.content.search_text import FTS_TABLE, WORD, words
from articles.models import SearchEntry

# Quotation marks readers type for a phrase, French ones included.
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "＂": '"'})

MAX_QUERY_LENGTH = 200
# Matches ranked and counted at most: a common word finds "more than 1,000", never every entry.
# The database stops reading its full-text index there, so a search costs the same on any site.
MAX_RESULTS = 1000
MAX_WORDS = 10
PREFIX_MIN_LENGTH = 3
# Relative weight of a match in the title against one in the text.
TITLE_WEIGHT, TEXT_WEIGHT = 10.0, 1.0

EMPTY = _("Type one or more words to search the articles, topics and sources.")
TOO_LONG = _("That search is too long. Use at most %(limit)d characters.")
TOO_MANY_WORDS = _("That search has too many words. Use at most %(limit)d.")
NO_WORDS = _("That search has no letters or numbers to look for. Type words, or a phrase in double quotes.")


@dataclass(frozen=True)
class Clause:
    """Words that must appear in this order; the last one may be the start of a longer word."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Query:
    text: str
    clauses: tuple[Clause, ...] = ()
    problem: str = ""  # Why nothing was searched, for the reader.
    _exact: frozenset = field(default=frozenset(), repr=False)
    _prefixes: tuple = field(default=(), repr=False)

    def matches(self, word: str) -> bool:
        """Whether a word of the text (as written) is one the query looks for."""
        return any(w in self._exact or w.startswith(self._prefixes) for w in words(word))


def parse_query(text: str | None) -> Query:
    text = (text or "").strip()
    if not text:
        return Query(text, problem=str(EMPTY))
    if len(text) > MAX_QUERY_LENGTH:
        return Query(text[:MAX_QUERY_LENGTH], problem=TOO_LONG % {"limit": MAX_QUERY_LENGTH})
    quoted = text.translate(_QUOTES)
    clauses: list[Clause] = []
    for phrase in re.findall(r'"([^"]*)"', quoted):
        phrase_words = tuple(words(phrase))
        if phrase_words:
            clauses.append(Clause(phrase_words))
    # What is left once the phrases are out; an unbalanced quote is dropped.
    for word in words(re.sub(r'"[^"]*"', " ", quoted)):
        clauses.append(Clause((word,), prefix=len(word) >= PREFIX_MIN_LENGTH))
    clauses = list(dict.fromkeys(clauses))
    if not clauses:
        return Query(text, problem=str(NO_WORDS))
    if sum(len(c.words) for c in clauses) > MAX_WORDS:
        return Query(text, problem=TOO_MANY_WORDS % {"limit": MAX_WORDS})
    exact = frozenset(w for c in clauses for w in (c.words if not c.prefix else ()))
    prefixes = tuple(c.words[-1] for c in clauses if c.prefix)
    return Query(text, tuple(clauses), _exact=exact, _prefixes=prefixes)


# --- Running a query ---------------------------------------------------------------------------


def run(query: Query):
    """The entries matching ``query``, best first, as something ``Paginator`` can page through.

    At most ``MAX_RESULTS`` are ranked: the first ones the full-text index yields, so a word
    found everywhere costs one bounded index scan. ``more_than(query)`` says whether there were more.
    """
    if query.problem:
        return []
    if connection.vendor == "postgresql":
        return _postgres_results(query)
    if connection.vendor == "sqlite":
        return FtsResults(query)
    raise NotImplementedError(f"Site search supports PostgreSQL and SQLite, not {connection.vendor}.")


def _postgres_tsquery(query: Query) -> SearchQuery:
    return SearchQuery(postgres_tsquery(query), search_type="raw", config="simple")


def count(query: Query) -> int:
    """How many entries match, counting no further than ``MAX_RESULTS + 1``."""
    if query.problem:
        return 0
    if connection.vendor == "postgresql":
        return SearchEntry.objects.filter(vector=_postgres_tsquery(query))[: MAX_RESULTS + 1].count()
    return FtsResults(query).count()


def postgres_tsquery(query: Query) -> str:
    """A to_tsquery() expression built from folded words only: no reader syntax gets through."""
    parts = []
    for clause in query.clauses:
        lexemes = [f"'{word}'" for word in clause.words]
        if clause.prefix:
            lexemes[-1] += ":*"
        parts.append("(" + " <-> ".join(lexemes) + ")")
    return " & ".join(parts)


def _postgres_results(query: Query):
    tsquery = _postgres_tsquery(query)
    first = SearchEntry.objects.filter(vector=tsquery).values("pk")[:MAX_RESULTS]
    return (
        SearchEntry.objects.filter(pk__in=first)
        # Titles are weight A and text weight D (search_index), so one mention in a title
        # outranks several in the text.
        .annotate(rank=SearchRank(F("vector"), tsquery))
        .defer("vector")
        .order_by("-rank", "title", "pk")
    )


def fts_match(query: Query) -> str:
    """An FTS5 MATCH expression built from folded words only, each quoted: AND, OR, NEAR are words."""
    parts = []
    for clause in query.clauses:
        parts.append('"' + " ".join(clause.words) + '"' + ("*" if clause.prefix else ""))
    return " ".join(parts)


class FtsResults:
    """SQLite's matches, counted and sliced in SQL so that Paginator reads one page at a time.

    Joined to the entry table, so an FTS row left behind by a deleted entry is never a result.
    """

    def __init__(self, query: Query):
        self.match = fts_match(query)

    # The first matches only, each with its score: the LIMIT inside stops FTS5's scan there.
    _MATCHES = (
        f"SELECT {FTS_TABLE}.rowid AS id, bm25({FTS_TABLE}, {TITLE_WEIGHT}, {TEXT_WEIGHT}) AS score "
        f"FROM {FTS_TABLE} JOIN articles_searchentry AS entry ON entry.id = {FTS_TABLE}.rowid "
        f"WHERE {FTS_TABLE} MATCH %s LIMIT %s"
    )

    def count(self) -> int:
        """Matches, counted up to ``MAX_RESULTS + 1``."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({self._MATCHES})", [self.match, MAX_RESULTS + 1])
            return cursor.fetchone()[0]

    def __len__(self):
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("FtsResults supports slices only.")
        start = key.start or 0
        limit = -1 if key.stop is None else max(key.stop - start, 0)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT matches.id, matches.score FROM ({self._MATCHES}) AS matches "
                "JOIN articles_searchentry AS entry ON entry.id = matches.id "
                "ORDER BY matches.score, entry.title, entry.id LIMIT %s OFFSET %s",
                [self.match, MAX_RESULTS, limit, start],
            )
            ranked = cursor.fetchall()
        entries = SearchEntry.objects.defer("vector").in_bulk([pk for pk, _ in ranked])
        results = []
        for pk, score in ranked:
            entry = entries.get(pk)
            if entry is not None:
                entry.rank = -score  # bm25() is lower for better matches.
                results.append(entry)
        return results


# --- Showing results ---------------------------------------------------------------------------

SNIPPET_WORDS = 36
WORDS_BEFORE_MATCH = 10
# How far into a text a snippet looks for its first match: bounded work however long the text.
SCAN_WORDS = 3000


def highlight(text: str, query: Query, *, limit: int | None = SNIPPET_WORDS) -> SafeString:
    """``text`` escaped, with the words the query found in ``<mark>``.

    With a ``limit``, only that many words around the first match (or the opening words, when
    only the title matched), with an ellipsis where text was left out.
    """
    known: dict[str, bool] = {}

    def matches(word):
        if word not in known:
            known[word] = query.matches(word)
        return known[word]

    words_found = WORD.finditer(text)
    spans = list(words_found if limit is None else islice(words_found, SCAN_WORDS))
    if not spans:
        return escape(Truncator(text).chars(400)) if limit else escape(text)
    first, last = 0, len(spans)
    if limit:
        hit = next((i for i, span in enumerate(spans) if matches(span.group())), 0)
        first = max(hit - WORDS_BEFORE_MATCH, 0)
        last = min(first + limit, len(spans))
        first = max(min(first, last - limit), 0)
    begin = 0 if first == 0 else spans[first].start()
    end = spans[last - 1].end()
    if not WORD.search(text, end):
        end = len(text)  # Only punctuation is left: keep it rather than an ellipsis.
    pieces = ["…"] if begin > 0 else []
    position = begin
    for span in spans[first:last]:
        if matches(span.group()):
            pieces.append(escape(text[position : span.start()]))
            pieces.append(f"<mark>{escape(span.group())}</mark>")
            position = span.end()
    pieces.append(escape(text[position:end]))
    if end < len(text):
        pieces.append("…")
    return mark_safe("".join(pieces))


@dataclass
class Hit:
    entry: SearchEntry
    title_html: SafeString
    snippet_html: SafeString

    @property
    def url(self):
        # Stored in the default language when published; the reader stays in theirs.
        return languages.localise_path(self.entry.url)

    @property
    def kind(self):
        return self.entry.kind


def hits(entries, query: Query) -> list[Hit]:
    return [Hit(entry, highlight(entry.title, query, limit=None), highlight(entry.text, query)) for entry in entries]
