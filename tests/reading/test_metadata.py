"""Page metadata: titles and descriptions, absolute canonical links, Open Graph and Twitter cards, feed
links, and schema.org JSON-LD (Article with its citations, BreadcrumbList), escaped and CSP-safe."""

import io
import json
import re
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from articles.models import Source
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db
ORIGIN = "http://testserver"


class Head(HTMLParser):
    """Meta and link tags, and the text of every script element, by type."""

    def __init__(self):
        super().__init__()
        self.meta, self.links, self.scripts = {}, [], []
        self.title = ""
        self._in = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta":
            key = attrs.get("property") or attrs.get("name")
            if key:
                self.meta[key] = attrs.get("content")
        elif tag == "link":
            self.links.append(attrs)
        elif tag == "script":
            self.scripts.append([attrs, ""])
            self._in = "script"
        elif tag == "title":
            self._in = "title"

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts[-1][1] += data
        elif self._in == "title":
            self.title += data

    def canonical(self):
        found = [link["href"] for link in self.links if link.get("rel") == "canonical"]
        assert len(found) <= 1
        return found[0] if found else None

    def json_ld(self):
        return [json.loads(text) for attrs, text in self.scripts if attrs.get("type") == "application/ld+json"]


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    parser = Head()
    parser.feed(response.content.decode())
    parser.html = response.content.decode()
    return parser


def of_type(items, kind):
    found = [item for item in items if item.get("@type") == kind]
    assert len(found) == 1, [i.get("@type") for i in items]
    return found[0]


def png_upload():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile("map.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def site(moderator):
    un = factories.source(
        moderator,
        key="unsc-res-2100",
        kind="un_document",
        title="Resolution 2100 (2013)",
        publisher="United Nations Security Council",
        identifier="S/RES/2100 (2013)",
        url="https://undocs.org/S/RES/2100(2013)",
        date_year=2013,
        date_month=4,
        date_day=25,
    )
    mann = factories.source(
        moderator,
        key="mann-2015",
        kind="book",
        title="From Empires to NGOs",
        authors=["Gregory Mann"],
        publisher="Cambridge University Press",
        date_year=2015,
        identifier="ISBN 978-1-107-05435-0",
    )
    crisis = factories.source(
        moderator,
        key="icg-2012",
        kind="report",
        title="Mali: Avoiding Escalation",
        publisher="International Crisis Group",
        date_year=2012,
    )
    factories.source(moderator, key="uncited", title="Never cited")
    topic = factories.topic(moderator, name="France", slug="france", summary="France's part in Mali's wars.")
    figure = factories.figure(moderator, png_upload(), alt_text="Map of northern Mali", caption="The north")
    article = factories.article(
        moderator,
        title="Operation Serval",
        slug="operation-serval",
        dek="France intervened in **January 2013** & won <fast>.",
        lead_figure=figure,
    )
    factories.section(
        moderator,
        article,
        topics=[topic],
        title="Background",
        anchor="background",
        body="Rebels took the north [@unsc-res-2100, para. 3]. See [@mann-2015, p. 45].",
    )
    factories.section(moderator, article, title="Crisis", anchor="crisis", body="As reported [@icg-2012].")
    article.refresh_from_db()
    return {"article": article, "topic": topic, "figure": figure, "un": un, "mann": mann, "crisis": crisis}


# --- JSON-LD --------------------------------------------------------------------------------------------


def test_article_page_has_article_json_ld_citing_its_bibliography(client, site):
    article = site["article"]
    items = page(client, "/articles/operation-serval/").json_ld()
    data = of_type(items, "Article")
    assert data["@context"] == "https://schema.org"
    assert data["headline"] == "Operation Serval"
    assert data["url"] == data["mainEntityOfPage"] == f"{ORIGIN}/articles/operation-serval/"
    assert data["description"] == "France intervened in January 2013 & won <fast>."
    assert data["dateModified"] == article.published_at.isoformat()
    first = article.versions.order_by("number").first()
    assert data["datePublished"] == first.created_at.isoformat() <= data["dateModified"]
    for role in ("author", "publisher"):
        assert data[role] == {"@type": "Organization", "name": "Mali History", "url": f"{ORIGIN}/"}
    assert data["image"]["@type"] == "ImageObject"
    assert data["image"]["url"] == ORIGIN + site["figure"].image.url
    assert (data["image"]["width"], data["image"]["height"]) == (64, 48)

    bibliography = Source.objects.cited_in_article(article)
    assert len(data["citation"]) == bibliography.count() == 3
    citations = {c["name"]: c for c in data["citation"]}
    un = citations["Resolution 2100 (2013)"]
    assert un["@type"] == "Legislation"
    assert un["identifier"] == "S/RES/2100 (2013)"
    assert un["url"] == "https://undocs.org/S/RES/2100(2013)"
    assert un["datePublished"] == "2013-04-25"
    book = citations["From Empires to NGOs"]
    assert book["@type"] == "Book" and book["author"] == [{"@type": "Person", "name": "Gregory Mann"}]
    report = citations["Mali: Avoiding Escalation"]
    assert report["@type"] == "Report"
    assert report["url"] == f"{ORIGIN}/sources/icg-2012/"  # no URL of its own: its page here
    for citation in data["citation"]:
        assert {"@type", "name", "url"} <= set(citation)


def test_article_page_has_breadcrumbs_json_ld(client, site):
    crumbs = of_type(page(client, "/articles/operation-serval/").json_ld(), "BreadcrumbList")
    assert crumbs["@context"] == "https://schema.org"
    assert [(i["@type"], i["position"], i["name"], i["item"]) for i in crumbs["itemListElement"]] == [
        ("ListItem", 1, "Articles", f"{ORIGIN}/"),
        ("ListItem", 2, "Operation Serval", f"{ORIGIN}/articles/operation-serval/"),
    ]


@pytest.mark.parametrize(
    "url,trail",
    [
        ("/topics/france/", [("Topics", "/topics/"), ("France", "/topics/france/")]),
        ("/sources/mann-2015/", [("Sources", "/sources/"), ("From Empires to NGOs", "/sources/mann-2015/")]),
    ],
)
def test_topic_and_source_pages_have_breadcrumbs_json_ld(client, site, url, trail):
    items = page(client, url).json_ld()
    crumbs = of_type(items, "BreadcrumbList")
    assert crumbs["@context"] == "https://schema.org"
    assert [(i["name"], i["item"]) for i in crumbs["itemListElement"]] == [(n, ORIGIN + p) for n, p in trail]
    assert [i["position"] for i in crumbs["itemListElement"]] == [1, 2]


def test_json_ld_cannot_break_out_of_its_script_element(client, moderator, site):
    article = site["article"]
    hostile = 'Gao </script><script>alert("x")</script> <!-- & more'
    moderation.publish_directly(
        obj=article, moderator=moderator, summary="Hostile title", data={**article.snapshot(), "title": hostile}
    )
    parsed = page(client, "/articles/operation-serval/")
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', parsed.html, re.S)
    assert len(blocks) == 2
    for block in blocks:
        assert "<" not in block and ">" not in block and "&" not in block
    assert of_type(parsed.json_ld(), "Article")["headline"] == hostile


def test_public_pages_carry_no_executable_inline_script(client, site):
    for url in ("/", "/articles/operation-serval/", "/topics/france/", "/sources/mann-2015/", "/search/?q=gao"):
        parsed = page(client, url)
        for attrs, _text in parsed.scripts:
            assert attrs.get("type") == "application/ld+json", (url, attrs)
            assert "nonce" not in attrs
    # The Content-Security-Policy stays strict: the JSON-LD is data, so it needs neither a nonce
    # (which would keep the page out of the page cache) nor 'unsafe-inline'.
    policy = client.get("/articles/operation-serval/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "nonce-" not in policy


def test_article_page_with_json_ld_is_still_served_from_the_page_cache(client, site, settings):
    settings.PUBLIC_PAGE_CACHE = True
    client.get("/articles/operation-serval/")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/articles/operation-serval/")
    assert response.status_code == 200 and len(queries) == 0
    assert '"@type": "Article"' in response.content.decode()


# --- Canonical links, titles, descriptions, social cards ---------------------------------------------


@pytest.mark.parametrize(
    "url,title",
    [
        ("/", "Articles · Mali History"),
        ("/topics/", "Topics · Mali History"),
        ("/sources/", "Sources · Mali History"),
        ("/topics/france/", "France · Mali History"),
        ("/sources/mann-2015/", "From Empires to NGOs · Mali History"),
        ("/articles/operation-serval/", "Operation Serval · Mali History"),
        ("/search/", "Search · Mali History"),
    ],
)
def test_each_page_has_a_title_description_and_absolute_canonical_link(client, site, url, title):
    parsed = page(client, url)
    assert parsed.title == title
    assert parsed.meta["description"]
    assert parsed.canonical() == ORIGIN + url
    assert parsed.meta["og:url"] == parsed.canonical()
    assert parsed.meta["og:site_name"] == "Mali History"
    assert parsed.meta["og:title"] and parsed.meta["og:description"]
    assert parsed.meta["twitter:card"] in ("summary", "summary_large_image")


def test_canonical_link_ignores_the_query_string(client, site):
    assert page(client, "/topics/?utm_source=x").canonical() == f"{ORIGIN}/topics/"


def test_article_open_graph_and_twitter_card(client, site):
    meta = page(client, "/articles/operation-serval/").meta
    assert meta["og:type"] == "article"
    assert meta["og:title"] == meta["twitter:title"] == "Operation Serval"
    assert meta["description"] == meta["og:description"] == "France intervened in January 2013 & won <fast>."
    assert meta["og:image"] == meta["twitter:image"] == ORIGIN + site["figure"].image.url
    assert meta["og:image:alt"] == "Map of northern Mali"
    assert meta["twitter:card"] == "summary_large_image"


def test_topic_and_source_cards_describe_them(client, site):
    topic = page(client, "/topics/france/").meta
    assert topic["og:title"] == "France" and topic["og:description"] == "France's part in Mali's wars."
    source = page(client, "/sources/mann-2015/").meta
    assert source["og:title"] == "From Empires to NGOs"
    assert "Mann" in source["og:description"] and "<" not in source["og:description"]


def test_versions_and_previews_name_the_live_article_as_canonical(client, editor, moderator, site):
    article = site["article"]
    version = page(client, "/articles/operation-serval/revisions/1/")
    assert version.canonical() == f"{ORIGIN}/articles/operation-serval/"
    assert version.meta["robots"] == "noindex, follow"
    assert version.json_ld() == []

    revision = moderation.propose(
        obj=article, author=editor, summary="Idea", data={**article.snapshot(), "title": "New title"}
    )
    client.force_login(editor)
    preview = page(client, f"/articles/operation-serval/preview/{revision.pk}/")
    assert preview.canonical() == f"{ORIGIN}/articles/operation-serval/"
    assert preview.meta["robots"] == "noindex, nofollow"
    assert preview.json_ld() == []


def test_missing_pages_have_no_canonical_link(client, site):
    parsed = page(client, "/no-such-page/", status=404)
    assert parsed.canonical() is None


def test_every_page_links_the_feeds(client, site):
    links = {
        (link.get("type"), link["href"])
        for link in page(client, "/topics/").links
        if link.get("rel") == "alternate" and not link.get("hreflang")
    }  # not the page in other languages
    assert links == {
        ("application/rss+xml", "/feeds/articles.rss"),
        ("application/atom+xml", "/feeds/articles.atom"),
        ("application/rss+xml", "/feeds/changes.rss"),
        ("application/atom+xml", "/feeds/changes.atom"),
    }
    for _, href in links:
        assert client.get(href).status_code == 200
