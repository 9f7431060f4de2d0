"""Paged public lists: source and topic pages grouped by article, the home page and the article index.

Page sizes are made small here so that a handful of articles spans several pages: first, middle
and last pages, numbers past the end or not numbers at all, links that work without JavaScript,
``rel`` links for crawlers, the same in French, and a query count that does not grow.
"""

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Article, RevisionAction
from articles.publishing import baking
from articles.reading import lists, search, sitemaps
from articles.revisions import moderation
from tests import factories
from tests.conftest import bake_into

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(lists, "ARTICLES_PER_PAGE", 2)
    monkeypatch.setattr(lists, "INDEX_PER_PAGE", 2)
    monkeypatch.setattr(lists, "SECTIONS_PER_ARTICLE", 2)
    monkeypatch.setattr(lists, "NEWEST_ON_HOME", 2)


def citing_site(moderator, articles, *, sections_each=1, key="unsc-res-2100", slug="peacekeeping"):
    """``articles`` articles titled "Deployment 0".., each with sections on one topic citing one source."""
    topic = factories.topic(moderator, name="Peacekeeping", slug=slug)
    source = factories.source(moderator, key=key, title="Resolution 2100 (2013)")
    made = []
    for n in range(articles):
        article = factories.article(moderator, title=f"Deployment {n}", slug=f"{slug}-deployment-{n}")
        for m in range(sections_each):
            factories.section(
                moderator,
                article,
                title=f"Part {m}",
                anchor=f"part-{m}",
                position=m,
                topics=[topic],
                body=f"Troops arrived [@{key}, para. {m}] and stayed [@{key}].",
            )
        made.append(article)
    return {"topic": topic, "source": source, "articles": made}


def get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def head_links(html):
    head = html[: html.index("</head>")]
    return dict(re.findall(r'<link rel="(prev|next)" href="http://testserver([^"]*)">', head))


def nav_links(html):
    nav = re.search(r'<nav class="pagination".*?</nav>', html, re.S)
    return dict(re.findall(r'<a rel="(prev|next)" href="([^"]*)">', nav.group())) if nav else {}


def group_titles(html):
    return re.findall(r'<h3 class="group-title"><a href="[^"]*">([^<]*)</a>', html)


# --- Source pages -------------------------------------------------------------------------------------


def test_a_source_page_says_how_often_it_is_cited_and_pages_through_the_citing_articles(client, moderator, small_pages):
    site = citing_site(moderator, 5, sections_each=3)
    url = "/sources/unsc-res-2100/"
    first = get(client, url)
    # 5 articles × 3 sections × 2 citations.
    assert "Cited 30 times in 15 sections of 5 articles." in re.sub(r"\s+", " ", first)
    assert group_titles(first) == ["Deployment 0", "Deployment 1"]
    assert "(6 citations, 3 sections)" in first
    # Two sections listed under each article, the third behind a link to the article.
    assert f'<a href="{site["articles"][0].get_absolute_url()}#part-1">Part 1</a>' in first
    assert f'href="{site["articles"][0].get_absolute_url()}#part-2"' not in first
    assert "and 1 more section in “Deployment 0”" in first
    assert head_links(first) == nav_links(first) == {"next": f"{url}?page=2"}
    assert "Page 1 of 3" in first

    middle = get(client, f"{url}?page=2")
    assert group_titles(middle) == ["Deployment 2", "Deployment 3"]
    assert head_links(middle) == nav_links(middle) == {"prev": url, "next": f"{url}?page=3"}
    assert f'<link rel="canonical" href="http://testserver{url}?page=2">' in middle

    last = get(client, f"{url}?page=3")
    assert group_titles(last) == ["Deployment 4"]
    assert head_links(last) == nav_links(last) == {"prev": f"{url}?page=2"}


@pytest.mark.parametrize("page", ["4", "99", "0", "-1", "abc", "02", "2.0", ""])
def test_a_page_past_the_end_or_not_a_number_is_not_found(client, moderator, small_pages, page):
    citing_site(moderator, 5)
    for url in ("/sources/unsc-res-2100/", "/topics/peacekeeping/", "/contents/", "/contents/by-date/"):
        assert client.get(url, {"page": page}).status_code == 404, (url, page)
    assert client.get("/sources/unsc-res-2100/", {"page": "1"}).status_code == 200


def test_a_short_list_has_no_page_links(client, moderator):
    citing_site(moderator, 2)
    html = get(client, "/sources/unsc-res-2100/")
    assert group_titles(html) == ["Deployment 0", "Deployment 1"]
    assert not head_links(html) and not nav_links(html) and 'class="pagination"' not in html


def test_only_published_sections_of_published_articles_count(client, moderator, small_pages):
    site = citing_site(moderator, 3, sections_each=2)
    withdraw = {"moderator": moderator, "summary": "Withdrawn", "action": RevisionAction.UNPUBLISH}
    moderation.publish_directly(obj=site["articles"][1], **withdraw)
    moderation.publish_directly(obj=site["articles"][2].sections.get(anchor="part-1"), **withdraw)
    html = re.sub(r"\s+", " ", get(client, "/sources/unsc-res-2100/"))
    assert "Cited 6 times in 3 sections of 2 articles." in html
    assert group_titles(html) == ["Deployment 0", "Deployment 2"]
    topic_html = re.sub(r"\s+", " ", get(client, "/topics/peacekeeping/"))
    assert "3 sections in 2 articles." in topic_html


def test_counts_follow_each_publish(client, moderator):
    """A retitled article moves in the list; a section that stops citing the source leaves its count."""
    site = citing_site(moderator, 3, sections_each=2)
    first = site["articles"][0]
    moderation.publish_directly(
        obj=first, moderator=moderator, summary="Retitled", data={**first.snapshot(), "title": "Zeal of Deployment"}
    )
    section = first.sections.get(anchor="part-0")
    moderation.publish_directly(
        obj=section, moderator=moderator, summary="Uncited", data={**section.snapshot(), "body": "Troops arrived."}
    )
    html = re.sub(r"\s+", " ", get(client, "/sources/unsc-res-2100/"))
    assert "Cited 10 times in 5 sections of 3 articles." in html
    assert group_titles(html) == ["Deployment 1", "Deployment 2", "Zeal of Deployment"]
    assert "(2 citations, 1 section)" in html


# --- Topic pages --------------------------------------------------------------------------------------


def test_a_topic_page_lists_its_sections_under_their_articles_a_page_at_a_time(client, moderator, small_pages):
    site = citing_site(moderator, 3, sections_each=3)
    other = factories.source(moderator, key="mann-2015", title="From Empires to NGOs")
    last_article = site["articles"][2]
    factories.section(
        moderator,
        last_article,
        title="Aftermath",
        anchor="aftermath",
        position=9,
        topics=[site["topic"]],
        body="Later [@mann-2015].",
    )
    url = "/topics/peacekeeping/"
    first = get(client, url)
    assert "10 sections in 3 articles." in re.sub(r"\s+", " ", first)
    assert group_titles(first) == ["Deployment 0", "Deployment 1"]
    assert "(3 sections)" in first and "and 1 more section in “Deployment 0”" in first
    assert '<p class="excerpt">Troops arrived' in first
    assert head_links(first) == nav_links(first) == {"next": f"{url}?page=2"}
    sources = first[first.index('id="sources-title"') :]
    assert "Resolution 2100 (2013)" in sources and other.title not in sources

    last = get(client, f"{url}?page=2")
    assert group_titles(last) == ["Deployment 2"]
    assert "(4 sections)" in last and "and 2 more sections in “Deployment 2”" in last
    assert head_links(last) == nav_links(last) == {"prev": url}


# --- Home and the index of all articles ---------------------------------------------------------------


def test_home_shows_the_newest_articles_and_links_to_the_index(client, moderator, small_pages):
    for n in range(5):
        factories.article(moderator, title=f"Deployment {n}", slug=f"deployment-{n}")
    html = get(client, "/")
    cards = re.findall(r'<h2 class="card-title"[^>]*><a href="[^"]*">([^<]*)</a>', html)
    assert cards == ["Deployment 4", "Deployment 3"]
    assert 'All 5 articles: <a href="/contents/">by title</a> · <a href="/contents/by-date/">by date</a>' in html


def index_titles(html):
    return re.findall(r'<li><a href="/articles/[^"]*"[^>]*>([^<]*)</a>', html)


def test_the_index_lists_every_article_by_title_or_newest_first(client, moderator, small_pages):
    for n, title in enumerate(["Bamako", "Kidal", "Gao", "Timbuktu", "Mopti"]):
        factories.article(moderator, title=title, slug=f"town-{n}")
    Article.objects.create(title="A draft", slug="a-draft")
    assert index_titles(get(client, "/contents/")) == ["Bamako", "Gao"]
    middle = get(client, "/contents/?page=2")
    assert index_titles(middle) == ["Kidal", "Mopti"]
    assert nav_links(middle) == {"prev": "/contents/", "next": "/contents/?page=3"}
    assert index_titles(get(client, "/contents/?page=3")) == ["Timbuktu"]
    assert client.get("/contents/?page=4").status_code == 404

    by_date = get(client, "/contents/by-date/")
    assert index_titles(by_date) == ["Mopti", "Timbuktu"]
    assert head_links(by_date) == {"next": "/contents/by-date/?page=2"}
    assert index_titles(get(client, "/contents/by-date/?page=3")) == ["Bamako"]


# --- French -------------------------------------------------------------------------------------------


def test_french_pages_are_paged_in_french_and_stay_french(client, moderator, small_pages):
    citing_site(moderator, 5, sections_each=3)
    url = "/fr/sources/unsc-res-2100/"
    middle = get(client, f"{url}?page=2")
    assert '<html lang="fr">' in middle
    assert head_links(middle) == nav_links(middle) == {"prev": url, "next": f"{url}?page=3"}
    assert "Page 2 sur 3" in middle and "Précédente" in middle and "Suivante" in middle
    assert "Cité 30 fois dans 15 sections de 5 articles." in re.sub(r"\s+", " ", middle)
    assert "et 1 autre section dans « Deployment 2 »" in middle
    topic = get(client, "/fr/topics/peacekeeping/?page=3")
    assert head_links(topic) == {"prev": "/fr/topics/peacekeeping/?page=2"}
    assert client.get("/fr/topics/peacekeeping/?page=4").status_code == 404
    index = get(client, "/fr/contents/by-date/?page=2")
    assert "Les plus récents d’abord" in index
    assert nav_links(index) == {"prev": "/fr/contents/by-date/", "next": "/fr/contents/by-date/?page=3"}


# --- Cost ---------------------------------------------------------------------------------------------


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return len(captured)


def test_list_pages_cost_the_same_queries_for_few_and_many_articles(client, moderator, small_pages):
    citing_site(moderator, 1, key="few", slug="few")
    citing_site(moderator, 6, sections_each=3, key="many", slug="many")
    assert (
        queries(client, "/sources/few/")
        == queries(client, "/sources/many/")
        == queries(client, "/sources/many/?page=2")
    )
    assert (
        queries(client, "/topics/few/") == queries(client, "/topics/many/") == queries(client, "/topics/many/?page=3")
    )
    assert queries(client, "/contents/") == queries(client, "/contents/?page=3")
    few_home = queries(client, "/")
    factories.article(moderator, title="One more")
    assert queries(client, "/") == few_home


# --- The page cache and baked pages -------------------------------------------------------------------


def edit(capture, moderator, obj, **changes):
    """Approve a change through the moderation services and run what waits for the commit."""
    with capture(execute=True):
        moderation.publish_directly(obj=obj, moderator=moderator, summary="Edit", data={**obj.snapshot(), **changes})


def test_every_page_of_a_list_is_cached_and_a_publish_retires_them_all(
    client, settings, moderator, small_pages, django_capture_on_commit_callbacks
):
    settings.PUBLIC_PAGE_CACHE = True
    site = citing_site(moderator, 5)
    pages = ["/sources/unsc-res-2100/", "/sources/unsc-res-2100/?page=3", "/topics/peacekeeping/?page=2"]
    pages += ["/contents/?page=2", "/fr/sources/unsc-res-2100/?page=3"]
    for url in pages:
        queries(client, url)
        assert queries_or_zero(client, url) == 0, url  # Served from the cache.
    # Anything else in the query string, or a page that does not exist, is never stored.
    for url in ("/sources/unsc-res-2100/?page=3&utm_source=x", "/sources/unsc-res-2100/?page=03"):
        client.get(url)
        assert queries_or_zero(client, url) > 0, url
    assert client.get("/sources/unsc-res-2100/?page=4").status_code == 404
    # Retitling the last article shows on the last page of every list at once, in both languages.
    edit(django_capture_on_commit_callbacks, moderator, site["articles"][4], title="Deployment Z")
    for url in ("/sources/unsc-res-2100/?page=3", "/fr/sources/unsc-res-2100/?page=3", "/topics/peacekeeping/?page=3"):
        assert "Deployment Z" in get(client, url), url
    assert "Deployment Z" in get(client, "/contents/?page=3")


def queries_or_zero(client, url):
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured)


def test_only_the_first_page_is_baked_and_a_publish_removes_the_index(
    settings, tmp_path, moderator, small_pages, run_tasks, django_capture_on_commit_callbacks
):
    """nginx serves a baked file only when there is no query string (deploy/nginx.conf.example):
    ``?page=N`` always reaches Django and its page cache, so no page but the first is ever baked."""
    bake_into(settings, tmp_path)
    settings.PUBLIC_PAGE_CACHE = True
    citing_site(moderator, 5)
    call_command("bake_site", stdout=io.StringIO())
    for path in ("contents", "contents/by-date", "fr/contents", "sources/unsc-res-2100"):
        assert (tmp_path / path / "index.html").exists(), path
    assert not [p for p in tmp_path.glob("**/*") if "page" in p.name]
    assert baking.name_for("/contents/?page=2") is None
    with django_capture_on_commit_callbacks(execute=True):
        factories.article(moderator, title="Aardvark", slug="aardvark")
    assert not (tmp_path / "contents" / "index.html").exists()  # nginx now asks Django...
    run_tasks()
    assert "Aardvark" in (tmp_path / "contents" / "index.html").read_text()  # ...until it is baked again.
    map_block = re.search(
        r"map .*?\{(.*?)\}", (Path(settings.BASE_DIR) / "deploy" / "nginx.conf.example").read_text(), re.S
    )
    assert '"$request_method|$args|' in map_block.group(0) and '"GET|||"' in map_block.group(1)


# --- The sitemap --------------------------------------------------------------------------------------


def test_the_sitemap_is_an_index_of_paged_sitemaps(client, settings, moderator, monkeypatch):
    monkeypatch.setattr(sitemaps.PagedSitemap, "limit", 2)
    for n in range(5):
        factories.article(moderator, title=f"Deployment {n}", slug=f"deployment-{n}")
    index = get(client, "/sitemap.xml")
    assert "<sitemapindex" in index
    locations = re.findall(r"<loc>([^<]*)</loc>", index)
    assert "http://testserver/sitemap-articles.xml" in locations
    assert "http://testserver/sitemap-articles.xml?p=3" in locations
    assert "http://testserver/sitemap-articles.xml?p=4" not in locations
    assert re.search(r"<lastmod>\d{4}-\d\d-\d\d", index)
    seen = []
    for page in ("", "?p=2", "?p=3"):
        urls = re.findall(r"<loc>([^<]*)</loc>", get(client, f"/sitemap-articles.xml{page}"))
        assert 1 <= len(urls) <= 2
        seen += urls
    assert sorted(seen) == sorted(f"http://testserver/articles/deployment-{n}/" for n in range(5))
    lists_sitemap = get(client, "/sitemap-lists.xml") + get(client, "/sitemap-lists.xml?p=2")
    assert "http://testserver/contents/</loc>" in lists_sitemap
    for page in ("?p=4", "?p=abc"):
        assert client.get(f"/sitemap-articles.xml{page}").status_code == 404
    assert client.get("/sitemap-nothing.xml").status_code == 404


def test_sitemap_pages_are_cached(client, settings, moderator, monkeypatch):
    settings.PUBLIC_PAGE_CACHE = True
    monkeypatch.setattr(sitemaps.PagedSitemap, "limit", 2)
    for n in range(3):
        factories.article(moderator, title=f"Deployment {n}", slug=f"deployment-{n}")
    for url in ("/sitemap.xml", "/sitemap-articles.xml?p=2"):
        get(client, url)
        assert queries_or_zero(client, url) == 0, url


# --- Search stops counting --------------------------------------------------------------------------


def test_search_ranks_and_counts_no_further_than_its_bound(client, moderator, monkeypatch):
    monkeypatch.setattr(search, "MAX_RESULTS", 3)
    article = factories.article(moderator, title="Garrisons")
    for n in range(5):
        factories.section(moderator, article, title=f"Camp {n}", body="A fortified town.")
    response = client.get("/search/", {"q": "fortified"})
    html = re.sub(r"\s+", " ", response.content.decode())
    assert response.context["count"] == 3 and len(response.context["hits"]) == 3
    assert "More than 3 results for “fortified”, page 1 of 1" in html
    assert "Only the first 3 matches are shown" in html
    exact = client.get("/search/", {"q": "garrisons"})
    assert exact.context["count"] == 1 and "More than" not in exact.content.decode()
