"""Tests for the public pages: content, drafts and deleted objects, 404s, no Markdown on read, query counts, and escaping."""

import re
import time
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import models
from articles.content import markup
from articles.models import Article, RevisionAction, Section, Source, Topic
from articles.publishing import fragments
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db


def get_page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def delete(obj, moderator):
    moderation.publish_directly(obj=obj, moderator=moderator, summary="Remove", action=RevisionAction.DELETE)


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(html):
    parser = TagCollector()
    parser.feed(html)
    return parser.tags


@pytest.fixture
def history(moderator):
    """A published article with two main sections, a subsection, a topic and two cited sources."""
    france = factories.topic(moderator, name="France", slug="france", summary="France's part in Mali's wars.")
    un = factories.source(
        moderator,
        key="unsc-res-2100",
        kind="un_document",
        title="Resolution 2100 (2013)",
        publisher="United Nations Security Council",
        identifier="S/RES/2100 (2013)",
        date_year=2013,
        date_month=4,
        date_day=25,
    )
    mann = factories.source(
        moderator,
        key="mann-2015",
        kind="book",
        title="From Empires to NGOs in the West African Sahel",
        authors=["Gregory Mann"],
        publisher="Cambridge University Press",
        date_year=2015,
    )
    article = factories.article(
        moderator,
        title="Operation Serval",
        slug="operation-serval",
        dek="France intervened in **January 2013**.",
    )
    background = factories.section(
        moderator,
        article,
        topics=[france],
        title="Background",
        anchor="background",
        position=1,
        body="Rebels took the north in 2012 [@unsc-res-2100, para. 3]. See [@mann-2015, p. 45].",
    )
    coup = factories.section(
        moderator,
        article,
        title="The coup",
        anchor="coup",
        position=2,
        parent=background,
        body="Soldiers removed the president in March 2012 [@mann-2015, p. 45].",
    )
    intervention = factories.section(
        moderator,
        article,
        title="The intervention",
        anchor="intervention",
        position=3,
        body="French troops landed in January 2013 [@unsc-res-2100, para. 7].",
    )
    article.refresh_from_db()
    return {
        "article": article,
        "france": france,
        "un": un,
        "mann": mann,
        "background": background,
        "coup": coup,
        "intervention": intervention,
    }


# --- Content of each page --------------------------------------------------------------------


def test_home_lists_published_articles_only(client, moderator, history):
    Article.objects.create(title="A draft article", slug="draft-article", dek="Not yet.")
    removed = factories.article(moderator, title="A removed article")
    delete(removed, moderator)
    html = get_page(client, "/")
    assert 'href="/articles/operation-serval/"' in html
    assert "Operation Serval" in html
    assert "France intervened in <strong>January 2013</strong>." in html
    assert "A draft article" not in html
    assert "A removed article" not in html


def test_article_page_title_dek_and_last_updated(client, history):
    html = get_page(client, "/articles/operation-serval/")
    assert '<h1 id="article-title">Operation Serval</h1>' in html
    assert "France intervened in <strong>January 2013</strong>." in html
    assert "Last updated <time" in html


def test_article_page_table_of_contents_links_every_section(client, history):
    html = get_page(client, "/articles/operation-serval/")
    toc = html[html.index('<nav class="toc"') : html.index("</nav>", html.index('<nav class="toc"'))]
    links = re.findall(r'<a href="#([\w-]+)">([^<]+)</a>', toc)
    assert links == [
        ("background", "Background"),
        ("coup", "The coup"),
        ("intervention", "The intervention"),
        ("notes", "Notes"),
        ("bibliography", "Bibliography"),
    ]
    for anchor in ("background", "coup", "intervention", "notes", "bibliography"):
        assert f'id="{anchor}"' in html


def test_article_page_sections_in_reading_order_with_subsections_as_h3(client, history):
    html = get_page(client, "/articles/operation-serval/")
    assert '<h2 id="background-title">Background</h2>' in html
    assert '<h3 id="coup-title">The coup</h3>' in html
    assert '<h2 id="intervention-title">The intervention</h2>' in html
    assert html.index("Rebels took the north") < html.index("Soldiers removed") < html.index("French troops landed")


def test_article_page_topic_links(client, history):
    html = get_page(client, "/articles/operation-serval/")
    assert '<a href="/topics/france/">France</a>' in html


def test_article_page_citation_markers_and_notes(client, history):
    html = get_page(client, "/articles/operation-serval/")
    markers = re.findall(r'<a href="#note-(\d+)" id="(cite-[\d-]+)"', html)
    # One run of numbers over the whole article; the same source and page cited twice shares note 2.
    assert markers == [("1", "cite-1-1"), ("2", "cite-2-1"), ("2", "cite-2-2"), ("3", "cite-3-1")]

    notes = re.findall(r'<li id="note-(\d+)">(.*?)</li>', html, re.S)
    assert [number for number, _ in notes] == ["1", "2", "3"]
    assert notes[0][1].startswith(
        "“Resolution 2100 (2013),” United Nations Security Council, S/RES/2100 (2013), April 25, 2013, para. 3."
    )
    assert notes[1][1].startswith(
        "Gregory Mann, <cite>From Empires to NGOs in the West African Sahel</cite>, Cambridge University Press, 2015, p. 45."
    )
    assert 'href="#cite-1-1"' in notes[0][1]
    assert 'href="#cite-2-1"' in notes[1][1] and 'href="#cite-2-2"' in notes[1][1]
    assert "para. 7" in notes[2][1]
    assert 'href="/sources/unsc-res-2100/"' in notes[0][1]


def test_article_page_bibliography(client, history):
    html = get_page(client, "/articles/operation-serval/")
    bibliography = html[html.index('id="bibliography"') :]
    assert (
        "Mann, Gregory. <cite>From Empires to NGOs in the West African Sahel</cite>. Cambridge University Press, 2015."
        in bibliography
    )
    assert (
        "“Resolution 2100 (2013).” United Nations Security Council, S/RES/2100 (2013), April 25, 2013." in bibliography
    )
    assert bibliography.index("From Empires") < bibliography.index("Resolution 2100")  # by title
    assert 'href="/sources/mann-2015/"' in bibliography


def test_topics_index(client, moderator, history):
    Topic.objects.create(name="A draft topic", slug="draft-topic")
    html = get_page(client, "/topics/")
    assert '<a class="topic-name" href="/topics/france/">France</a>' in html
    assert "France&#x27;s part in Mali&#x27;s wars." in html
    assert "A draft topic" not in html


def test_topic_page_lists_tagged_sections_and_their_sources(client, history):
    html = get_page(client, "/topics/france/")
    assert "<h1>France</h1>" in html
    assert '<a href="/articles/operation-serval/#background">Background</a>' in html
    assert '<p class="excerpt">Rebels took the north in 2012' in html
    assert "The intervention" not in html  # not tagged
    sources = html[html.index('id="sources-title"') :]
    assert "Resolution 2100 (2013)" in sources
    assert "From Empires to NGOs" in sources


def test_source_list_is_the_bibliography(client, history):
    Source.objects.create(key="draft-source", title="A draft source")
    html = get_page(client, "/sources/")
    assert "Mann, Gregory. <cite>From Empires to NGOs in the West African Sahel</cite>." in html
    assert "“Resolution 2100 (2013).”" in html
    assert 'href="/sources/unsc-res-2100/"' in html
    assert "A draft source" not in html


def test_source_page_shows_where_it_is_cited(client, history):
    html = get_page(client, "/sources/mann-2015/")
    assert "<h1>From Empires to NGOs in the West African Sahel</h1>" in html
    assert "Mann, Gregory." in html
    cited = html[html.index('id="cited-title"') :]
    assert '<a href="/articles/operation-serval/">Operation Serval</a>' in cited
    assert '<a href="/articles/operation-serval/#background">Background</a>' in cited
    assert '<a href="/articles/operation-serval/#coup">The coup</a>' in cited
    assert "The intervention" not in cited


def test_source_page_for_an_uncited_source(client, moderator):
    factories.source(moderator, key="lonely", title="Lonely report")
    html = get_page(client, "/sources/lonely/")
    assert "No published section cites this source yet." in html


# --- Drafts and deleted objects --------------------------------------------------------------


def test_draft_and_deleted_articles_are_not_found(client, moderator, history):
    Article.objects.create(title="Draft", slug="draft")
    get_page(client, "/articles/draft/", status=404)
    delete(history["article"], moderator)
    get_page(client, "/articles/operation-serval/", status=404)
    assert "Operation Serval" not in get_page(client, "/")
    # Its sections no longer appear on topic and source pages either.
    assert "Background" not in get_page(client, "/topics/france/")
    assert "No published section cites this source yet." in get_page(client, "/sources/mann-2015/")


def test_unpublished_article_is_not_found(client, moderator, history):
    moderation.publish_directly(
        obj=history["article"], moderator=moderator, summary="Hide", action=RevisionAction.UNPUBLISH
    )
    get_page(client, "/articles/operation-serval/", status=404)


def test_draft_and_deleted_sections_are_not_shown(client, moderator, history):
    Section.objects.create(
        article=history["article"], title="Draft section", anchor="draft-section", body="Not yet.", position=9
    )
    delete(history["intervention"], moderator)
    html = get_page(client, "/articles/operation-serval/")
    assert "Draft section" not in html
    assert "The intervention" not in html
    assert "para. 7" not in html  # its note went with it
    assert 'href="#draft-section"' not in html


def test_draft_and_deleted_topics_and_sources_are_not_found(client, moderator, history):
    Topic.objects.create(name="Draft topic", slug="draft-topic")
    get_page(client, "/topics/draft-topic/", status=404)
    delete(history["france"], moderator)
    get_page(client, "/topics/france/", status=404)
    assert "France" not in get_page(client, "/topics/")

    Source.objects.create(key="draft-source", title="Draft source")
    get_page(client, "/sources/draft-source/", status=404)
    lonely = factories.source(moderator, key="lonely", title="Lonely report")
    delete(lonely, moderator)
    get_page(client, "/sources/lonely/", status=404)
    assert "Lonely report" not in get_page(client, "/sources/")


@pytest.mark.parametrize("url", ["/articles/no-such-article/", "/this/does/not/exist/"])
def test_friendly_404_page(client, settings, url):
    settings.DEBUG = False
    html = get_page(client, url, status=404)
    assert "<h1>Page not found</h1>" in html
    assert "Sorry, there is nothing at this address." in html
    assert 'href="/topics/"' in html and 'href="/sources/"' in html


# --- The read path -------------------------------------------------------------------------


def test_public_pages_do_no_markdown_rendering(client, history, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("Markdown rendered on the read path")

    monkeypatch.setattr(markup, "render_markdown", refuse)
    monkeypatch.setattr(fragments, "render_fragment", refuse)
    monkeypatch.setattr(fragments, "render_standalone", refuse)
    monkeypatch.setattr(models.Source, "format_note", refuse)
    html = get_page(client, "/articles/operation-serval/")
    assert "Rebels took the north in 2012" in html
    assert 'id="note-1"' in html
    for url in ("/", "/topics/", "/topics/france/", "/sources/", "/sources/mann-2015/"):
        get_page(client, url)


def test_article_page_query_count_does_not_grow_with_sections(client, moderator):
    topic = factories.topic(moderator)
    source = factories.source(moderator)
    started = time.monotonic()
    small = factories.article_with_sections(moderator, 5, topic, source)
    large = factories.article_with_sections(moderator, 200, topic, source)
    setup_seconds = time.monotonic() - started

    counts = {}
    for article in (small, large):
        with CaptureQueriesContext(connection) as queries:
            html = get_page(client, article.get_absolute_url())
        counts[article.sections.count()] = len(queries)
        sections = article.sections.count()
        assert html.count('class="article-section') == sections
        assert html.count('<li id="note-') == sections
        assert html.count("<h3 ") == sections - sections // 5
    print(
        f"article page queries: 5 sections -> {counts[5]}, 200 sections -> {counts[200]} (setup {setup_seconds:.1f} s)"
    )
    assert counts[5] == counts[200]


def test_same_source_at_another_place_gets_the_shortened_note(client, moderator, history):
    article = factories.article(moderator, slug="locators")
    factories.section(moderator, article, body="First [@mann-2015, p. 12]. Second [@mann-2015, p. 80].")
    factories.section(moderator, article, title="Later", anchor="later", body="Third [@unsc-res-2100].")
    html = get_page(client, "/articles/locators/")
    notes = re.findall(r'<li id="note-(\d+)">(.*?)</li>', html, re.S)
    assert [number for number, _ in notes] == ["1", "2", "3"]
    # The first note is the full one; the same book cited again is shortened as Chicago wants.
    assert "Gregory Mann, <cite>From Empires to NGOs in the West African Sahel</cite>, Cambridge" in notes[0][1]
    assert "2015, p. 12." in notes[0][1]
    assert notes[1][1].startswith("Mann, <cite>From Empires to NGOs</cite>, p. 80.")
    assert "Cambridge" not in notes[1][1]
    assert notes[2][1].startswith("“Resolution 2100 (2013),” United Nations Security Council")
    # The bibliography lists the book once, entries in the alphabetical order of their first words.
    bibliography = html[html.index('id="bibliography"') :]
    assert bibliography.count('<li class="source-entry">') == 2
    assert bibliography.index("Mann, Gregory.") < bibliography.index("“Resolution 2100 (2013).”")


def test_english_pages_write_dates_as_their_notes_do(client, moderator, history):
    """One date style a page: the timeline, the notes and the page's own dates in English are
    “April 25, 2013”; French pages write « 25 avril 2013 »."""
    html = get_page(client, history["article"].get_absolute_url())
    assert "April 25, 2013" in html
    updated = history["article"].published_at or history["article"].updated_at
    assert f"{updated:%B} {updated.day}, {updated.year}</time>" in html
    assert not re.search(
        r">\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December) \d{4}<", html
    )


HOSTILE = """<script>alert(1)</script>

[x](javascript:alert(1))

<img src=x onerror=alert(1)>

[y](JaVaScRiPt:alert(2)) and ![z](javascript:alert(3))
"""


def test_hostile_section_body_renders_harmless(client, moderator, history):
    article = history["article"]
    factories.section(
        moderator, article, topics=[history["france"]], title="Hostile", anchor="hostile", position=4, body=HOSTILE
    )
    for url in ("/articles/operation-serval/", "/topics/france/", "/"):
        html = get_page(client, url)
        for tag, attrs in tags_of(html):
            # Structured data (JSON-LD) is the one script element allowed: data, never run.
            assert tag != "script" or attrs == {"type": "application/ld+json"}, url
            for name, value in attrs.items():
                assert not name.startswith("on"), (url, tag, name)
                assert not (value or "").strip().lower().startswith("javascript:"), (url, tag, name, value)
    html = get_page(client, "/articles/operation-serval/")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text, not run
