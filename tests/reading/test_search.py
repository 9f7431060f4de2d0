"""Site search: ranking, accents, phrases, French and English, only published content, odd queries,
pagination, safe snippets, the search box, and the index kept current by publishing. Runs on both
SQLite (FTS5) and PostgreSQL (tsvector); the results must be the same."""

import io
import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Article, PublicationState, RevisionAction, SearchEntry, Section
from articles.reading import search
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db


def results(client, q, **params):
    response = client.get("/search/", {"q": q, **params})
    assert response.status_code == 200
    return response


def titles(client, q):
    return [hit.entry.title for hit in results(client, q).context["hits"]]


def urls(client, q):
    return [hit.url for hit in results(client, q).context["hits"]]


@pytest.fixture
def article(moderator):
    return factories.article(
        moderator, title="Operation Serval", slug="operation-serval", dek="France intervened in January 2013."
    )


# --- Ranking and matching -----------------------------------------------------------------------


def test_a_title_match_ranks_above_a_single_mention_in_the_body(client, moderator, article):
    factories.section(
        moderator,
        article,
        title="Early years",
        position=1,
        body="Long before the crisis, " + "the army trained in the north. " * 20 + "Later came Barkhane, briefly.",
    )
    factories.section(
        moderator,
        article,
        title="Barkhane takes over",
        position=2,
        body="In August 2014 a new operation replaced the old one across the Sahel.",
    )
    assert titles(client, "barkhane") == ["Barkhane takes over", "Early years"]


def test_accents_and_capitals_do_not_matter_either_way(client, moderator, article):
    factories.section(moderator, article, title="Sécurité", body="La sécurité du Sahel dépend de l’État.")
    factories.section(moderator, article, title="Plain", body="Written without accents: securite, etat, Gao.")
    for query in ("securite", "sécurité", "SÉCURITÉ", "Securité", "etat", "ÉTAT"):
        assert sorted(titles(client, query)) == ["Plain", "Sécurité"], query
    assert titles(client, "dépend") == titles(client, "DEPEND") == ["Sécurité"]


def test_a_quoted_phrase_matches_those_words_in_that_order(client, moderator, article):
    factories.section(moderator, article, title="Together", body="The French army entered Gao in January.")
    factories.section(
        moderator, article, title="Apart", body="The army of France entered Timbuktu; French units followed."
    )
    assert sorted(titles(client, "french army")) == ["Apart", "Together"]
    assert titles(client, '"french army"') == ["Together"]
    assert titles(client, "«\u00a0French army\u00a0»") == ["Together"]  # French quotation marks too
    assert titles(client, '"army french"') == []


def test_french_and_english_words_and_their_plurals(client, moderator, article):
    factories.section(
        moderator,
        article,
        title="Accord d’Alger",
        body="Les soldats maliens et les groupes armés signent l’accord pour la paix et la réconciliation.",
    )
    factories.section(
        moderator, article, title="Peacekeeping", body="MINUSMA peacekeepers were deployed to Kidal and Timbuktu."
    )
    assert titles(client, "soldats") == ["Accord d’Alger"]
    assert titles(client, "soldat") == ["Accord d’Alger"]  # a word finds the words it starts
    assert titles(client, "réconciliation paix") == ["Accord d’Alger"]
    assert titles(client, "peacekeeper") == ["Peacekeeping"]
    assert titles(client, "alger") == ["Accord d’Alger"]  # the apostrophe separates words
    assert titles(client, "peacekeepers soldats") == []  # every word must be found


def test_topics_sources_and_articles_are_found_and_link_to_their_pages(client, moderator, article):
    topic = factories.topic(moderator, name="MINUSMA", slug="minusma", summary="The United Nations mission in Mali.")
    source = factories.source(
        moderator,
        key="unsc-res-2100",
        kind="un_document",
        title="Resolution 2100 (2013)",
        identifier="S/RES/2100 (2013)",
        notes="Editors only: check the French version.",
    )
    assert urls(client, "minusma") == [topic.get_absolute_url()]
    assert urls(client, "resolution 2100") == [source.get_absolute_url()]
    assert urls(client, "S/RES/2100") == [source.get_absolute_url()]
    assert urls(client, "serval") == [article.get_absolute_url()]
    # The editors' notes on a source are not shown to readers, so they are not searchable.
    assert titles(client, "editors only") == []


# --- Only what readers can see --------------------------------------------------------------------


def test_proposals_are_found_only_once_approved_and_deleted_sections_never(client, editor, moderator, article):
    section = factories.section(moderator, article, title="Gao", body="The town was retaken.")
    revision = moderation.propose(
        obj=section,
        author=editor,
        summary="Add a detail",
        data={**section.snapshot(), "body": "The town was retaken by zanzibarqux."},
    )
    assert titles(client, "zanzibarqux") == []

    moderation.approve(revision=revision, moderator=moderator)
    assert titles(client, "zanzibarqux") == ["Gao"]
    assert titles(client, "retaken") == ["Gao"]

    deletion = moderation.propose(obj=section, author=editor, summary="Remove", action=RevisionAction.DELETE)
    assert titles(client, "zanzibarqux") == ["Gao"]
    moderation.approve(revision=deletion, moderator=moderator)
    assert titles(client, "zanzibarqux") == []


def test_a_rejected_proposal_is_never_found(client, editor, moderator, article):
    section = factories.section(moderator, article, title="Kidal", body="Original.")
    revision = moderation.propose(
        obj=section, author=editor, summary="Try", data={**section.snapshot(), "body": "Quxwobble."}
    )
    moderation.reject(revision=revision, moderator=moderator, reason="Unsourced.")
    assert titles(client, "quxwobble") == []


def test_sections_of_unpublished_and_draft_articles_are_not_found(client, moderator, article):
    factories.section(moderator, article, title="Visible", body="Plumbago in the visible article.")
    draft = Article.objects.create(title="Draft article", slug="draft-article", dek="Plumbago draft.")
    hidden = Section(
        article=draft, title="Hidden", anchor="hidden", body="Plumbago in a draft.", state=PublicationState.DRAFT
    )
    hidden.save()
    moderation.publish_directly(obj=hidden, moderator=moderator, summary="Wait in the draft", action="create")
    assert titles(client, "plumbago") == ["Visible"]

    moderation.publish_directly(
        obj=article, moderator=moderator, summary="Withdraw it", action=RevisionAction.UNPUBLISH
    )
    assert titles(client, "plumbago") == []
    assert titles(client, "serval") == []

    moderation.publish_directly(obj=draft, moderator=moderator, summary="Publish it", action="create")
    assert sorted(titles(client, "plumbago")) == ["Draft article", "Hidden"]


def test_renamed_and_moved_content_is_found_under_its_new_title_and_address(client, moderator, article):
    other = factories.article(moderator, title="Operation Barkhane", slug="operation-barkhane")
    section = factories.section(moderator, article, title="Logistics", anchor="logistics", body="Convoys and fuel.")
    moderation.publish_directly(
        obj=section,
        moderator=moderator,
        summary="Move",
        data={**section.snapshot(), "article": other.pk, "title": "Supply lines"},
    )
    hits = results(client, "convoys").context["hits"]
    assert [(h.entry.title, h.url, h.entry.context) for h in hits] == [
        ("Supply lines", "/articles/operation-barkhane/#logistics", "Operation Barkhane")
    ]
    assert SearchEntry.objects.filter(kind="section", object_id=section.pk).count() == 1


def test_a_deleted_topic_or_source_leaves_the_search(client, moderator):
    topic = factories.topic(moderator, name="Wagner Group", slug="wagner")
    source = factories.source(moderator, key="wagner-report", title="Wagner report")
    assert sorted(titles(client, "wagner")) == ["Wagner Group", "Wagner report"]
    moderation.publish_directly(obj=topic, moderator=moderator, summary="Gone", action=RevisionAction.DELETE)
    moderation.publish_directly(obj=source, moderator=moderator, summary="Gone", action=RevisionAction.DELETE)
    assert titles(client, "wagner") == []


# --- Odd queries ------------------------------------------------------------------------------------

ODD_QUERIES = [
    "",
    "   ",
    "!!!",
    "*",
    '"',
    '""',
    "((",
    "-",
    "a" * 5000,
    "x " * 400,
    "AND OR NEAR(",
    "NEAR(a b, 2)",
    '"unbalanced phrase',
    "title:serval",
    "serval*",
    "'; DROP TABLE articles_article; --",
    "\\",
    "%",
    "_",
    "NOT",
    "^serval",
    "serval AND",
    "\u202e\u0000",
    "🙂",
    "a:*",
    "x & | ! <->",
]


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_empty_and_absurd_queries_get_an_answer_not_an_error(client, moderator, article, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    problem = response.context["query"].problem
    if problem:
        assert str(problem).split(".")[0] in html.replace("&#x27;", "'")
    else:
        assert "result" in html or "Nothing published matches" in html


def test_the_messages_say_what_is_wrong(client):
    assert "Type one or more words" in results(client, "   ").content.decode()
    assert "no letters or numbers" in results(client, "?!*").content.decode()
    assert "too long" in results(client, "word " * 1000).content.decode()
    assert "too many words" in results(client, " ".join(f"w{i}" for i in range(30))).content.decode()
    assert "Nothing published matches" in results(client, "xylophonequux").content.decode()
    # Arriving at the search page without a query is no error either.
    response = client.get("/search/")
    assert response.status_code == 200 and "search-problem" not in response.content.decode()


def test_fts_syntax_in_a_query_is_only_words():
    parsed = search.parse_query('AND OR NEAR( "a b" c* -d')
    # Words of three letters or more also match longer words; a phrase matches exactly.
    assert search.fts_match(parsed) == '"a b" "and"* "or" "near"* "c" "d"'
    assert search.postgres_tsquery(parsed) == "('a' <-> 'b') & ('and':*) & ('or') & ('near':*) & ('c') & ('d')"


# --- Pagination -------------------------------------------------------------------------------------


def test_results_are_paginated(client, moderator, article):
    for n in range(25):
        factories.section(moderator, article, title=f"Camp {n:02d}", body="A garrison town.")
    first = results(client, "garrison")
    assert first.context["count"] == 25
    assert len(first.context["hits"]) == 20
    html = first.content.decode()
    assert "page 1 of 2" in html and 'rel="next" href="/search/?q=garrison&amp;page=2"' in html
    second = results(client, "garrison", page=2)
    assert len(second.context["hits"]) == 5
    assert not {h.url for h in first.context["hits"]} & {h.url for h in second.context["hits"]}
    assert 'rel="prev" href="/search/?q=garrison"' in second.content.decode()
    # Out of range or nonsense page numbers are not pages (articles.reading.pagination).
    for page in (3, 99, "abc", 0, "02"):
        assert client.get("/search/", {"q": "garrison", "page": page}).status_code == 404


def test_query_count_does_not_grow_with_the_page_size(client, moderator, article):
    for n in range(3):
        factories.section(moderator, article, title=f"Few {n}", body="Tessalit outpost.")
    for n in range(20):
        factories.section(moderator, article, title=f"Many {n}", body="Aguelhok outpost.")
    counts = []
    for query in ("tessalit", "aguelhok"):
        with CaptureQueriesContext(connection) as queries:
            results(client, query)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 4


# --- Snippets -----------------------------------------------------------------------------------------


def test_snippets_highlight_the_match_and_escape_everything_else(client, moderator, article):
    factories.section(
        moderator,
        article,
        title="Markup <b>title</b>",
        body='Editors once typed <b>bold</b> & <script>alert("x")</script> near the keyword quokka here.',
    )
    html = results(client, "quokka").content.decode()
    snippet = re.search(r'<p class="search-snippet">(.*?)</p>', html, re.S).group(1)
    assert "<mark>quokka</mark>" in snippet
    assert "&lt;b&gt;bold&lt;/b&gt;" in snippet and "&amp;" in snippet
    assert "<b>" not in snippet and "<script>" not in html.split("</head>")[1]
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0
    title = re.search(r'<h3 class="search-result-title"><a [^>]*>(.*?)</a>', html, re.S).group(1)
    assert title == "Markup &lt;b&gt;title&lt;/b&gt;"


def test_a_long_text_gives_a_short_snippet_around_the_first_match(client, moderator, article):
    body = (
        " ".join(f"filler{n}" for n in range(300))
        + " the wombat appears here "
        + " ".join(f"tail{n}" for n in range(300))
    )
    factories.section(moderator, article, title="Long", body=body)
    snippet = str(results(client, "wombat").context["hits"][0].snippet_html)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>wombat</mark>" in snippet
    assert len(snippet.split()) <= search.SNIPPET_WORDS + 2


def test_snippets_come_from_stored_text_without_note_markers(client, moderator, article):
    source = factories.source(moderator, key="mann-2015", title="From Empires to NGOs")
    factories.section(moderator, article, title="Rebellion", body="Rebels took the north in 2012 [@mann-2015, p. 4].")
    entry = SearchEntry.objects.get(title="Rebellion")
    assert entry.text == "Rebels took the north in 2012."
    assert source.title not in entry.text


def test_the_search_page_does_no_markdown_work(client, moderator, article, monkeypatch):
    factories.section(moderator, article, title="Gao", body="Retaken in **Februaryish**.")
    from articles.content import markup

    def refuse(*args, **kwargs):
        raise AssertionError("Markdown rendered at query time")

    monkeypatch.setattr(markup, "render_markdown", refuse)
    assert titles(client, "februaryish") == ["Gao"]


# --- The search box and the index ------------------------------------------------------------------


class Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms, self.labels, self.inputs = [], {}, []
        self._label = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(attrs)
        elif tag == "label":
            self._label = attrs.get("for")
        elif tag == "input":
            self.inputs.append(attrs)

    def handle_data(self, data):
        if self._label and data.strip():
            self.labels[self._label] = data.strip()
            self._label = None


@pytest.mark.parametrize(
    "url", ["/", "/topics/", "/sources/", "/articles/operation-serval/", "/search/?q=gao", "/no-such-page/"]
)
def test_every_page_has_a_labelled_search_box_that_works_without_javascript(client, article, url):
    response = client.get(url)
    parser = Forms()
    parser.feed(response.content.decode())
    form = next(f for f in parser.forms if f.get("action") == "/search/")
    assert form["method"] == "get" and form.get("role") == "search"
    box = next(i for i in parser.inputs if i.get("id") == "site-search-q")
    assert box["name"] == "q" and box["type"] == "search"
    assert parser.labels["site-search-q"] == "Search articles, topics and sources"


def test_rebuild_search_index_backfills_from_stored_html(client, moderator, article):
    factories.section(moderator, article, title="Gao", body="Retaken in January.")
    topic = factories.topic(moderator, name="Gao region", slug="gao-region")
    expected = sorted(titles(client, "gao"))
    SearchEntry.objects.all().delete()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {search.FTS_TABLE}")
    assert titles(client, "gao") == []

    call_command("rebuild_search_index", stdout=io.StringIO())
    assert sorted(titles(client, "gao")) == expected == ["Gao", "Gao region"]
    call_command("rebuild_search_index", stdout=io.StringIO())  # again: no duplicates
    assert sorted(titles(client, "gao")) == expected
    assert SearchEntry.objects.filter(kind="topic", object_id=topic.pk).count() == 1


def test_the_index_is_the_database_s_own_full_text_index(moderator, article):
    factories.section(moderator, article, title="Gao", body="Retaken.")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'search_entry_vector_gin'")
            assert "USING gin (vector)" in cursor.fetchone()[0]
            assert SearchEntry.objects.filter(vector__isnull=True).count() == 0
        else:
            cursor.execute(f"SELECT sql FROM sqlite_master WHERE name = '{search.FTS_TABLE}'")
            sql = cursor.fetchone()[0]
            assert "fts5" in sql and "remove_diacritics 2" in sql
            cursor.execute(f"SELECT count(*) FROM {search.FTS_TABLE}")
            assert cursor.fetchone()[0] == SearchEntry.objects.count()


def test_rows_left_in_the_fts_table_by_a_flush_neither_collide_nor_show(client, moderator, article):
    if connection.vendor != "sqlite":
        pytest.skip("the FTS5 table exists on SQLite only")
    factories.section(moderator, article, title="Before", body="Nothing here.")
    next_id = SearchEntry.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    with connection.cursor() as cursor:  # as `manage.py flush` leaves them: the entries gone, their words not
        cursor.executemany(
            f"INSERT INTO {search.FTS_TABLE} (rowid, title, body) VALUES (%s, %s, %s)",
            [(pk, "ghost", "ghostword") for pk in range(next_id, next_id + 20)],
        )
    factories.section(moderator, article, title="Real", body="A real ghostword.")
    hits = results(client, "ghostword").context
    assert [h.entry.title for h in hits["hits"]] == ["Real"] and hits["count"] == 1
