"""RSS and Atom feeds, the sitemap and robots.txt: valid XML, only published content, the right items,
dates and links, and kept current by publishing when the page cache is on."""

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article, ArticleVersion, PublicationState, RevisionAction, Section
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
DC = "{http://purl.org/dc/elements/1.1/}"


def xml(client, url, content_type):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith(content_type)
    return ET.fromstring(response.content)


def rss_items(client, url):
    channel = xml(client, url, "application/rss+xml").find("channel")
    return channel, channel.findall("item")


def atom_entries(client, url):
    feed = xml(client, url, "application/atom+xml")
    return feed, feed.findall(f"{ATOM}entry")


@pytest.fixture
def site(moderator):
    source = factories.source(moderator, key="unsc-res-2100", title="Resolution 2100 (2013)", kind="un_document")
    topic = factories.topic(moderator, name="Peacekeeping", slug="peacekeeping")
    serval = factories.article(
        moderator, title="Operation Serval", slug="operation-serval", dek="France intervened in **January 2013**."
    )
    factories.section(
        moderator,
        serval,
        topics=[topic],
        title="Landing",
        anchor="landing",
        body="Troops landed in Bamako [@unsc-res-2100].",
    )
    minusma = factories.article(moderator, title="MINUSMA", slug="minusma", dek="The UN mission.")
    draft = Article.objects.create(title="Secret draft", slug="secret-draft", dek="Not yet.")
    return {"source": source, "topic": topic, "serval": serval, "minusma": minusma, "draft": draft}


# --- Articles feeds -----------------------------------------------------------------------------------


def test_articles_rss_lists_published_articles_newest_update_first(client, moderator, site):
    channel, items = rss_items(client, "/feeds/articles.rss")
    assert channel.findtext("title") == "Mali History: new and updated articles"
    assert [i.findtext("title") for i in items] == ["MINUSMA", "Operation Serval"]
    assert items[1].findtext("link") == "http://testserver/articles/operation-serval/"
    assert "<strong>January 2013</strong>" in items[1].findtext("description")
    assert items[0].findtext("pubDate")

    # An update brings an article to the top, as a new item (a new version permalink as its id).
    old_guid = items[1].findtext("guid")
    serval = site["serval"]
    moderation.publish_directly(
        obj=serval,
        moderator=moderator,
        summary="Better introduction",
        data={**serval.snapshot(), "dek": "France intervened in 2013."},
    )
    _, items = rss_items(client, "/feeds/articles.rss")
    assert [i.findtext("title") for i in items] == ["Operation Serval", "MINUSMA"]
    latest = ArticleVersion.objects.for_article(serval).first()
    assert items[0].findtext("guid") == f"http://testserver/articles/operation-serval/revisions/{latest.number}/"
    assert items[0].findtext("guid") != old_guid


def test_articles_atom_has_ids_and_dates(client, site):
    feed, entries = atom_entries(client, "/feeds/articles.atom")
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == "http://testserver/feeds/articles.atom"
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["MINUSMA", "Operation Serval"]
    serval = site["serval"]
    serval.refresh_from_db()
    entry = entries[1]
    assert entry.find(f"{ATOM}link").get("href") == "http://testserver/articles/operation-serval/"
    assert entry.findtext(f"{ATOM}id").startswith("http://testserver/articles/operation-serval/revisions/")
    updated = datetime.datetime.fromisoformat(entry.findtext(f"{ATOM}updated"))
    assert updated == serval.published_at
    first_version = ArticleVersion.objects.filter(article=serval).order_by("number").first()
    assert datetime.datetime.fromisoformat(entry.findtext(f"{ATOM}published")) == first_version.created_at


def test_unpublished_and_deleted_articles_leave_the_feed(client, moderator, site):
    moderation.publish_directly(obj=site["minusma"], moderator=moderator, summary="Gone", action=RevisionAction.DELETE)
    for url in ("/feeds/articles.rss", "/feeds/articles.atom"):
        body = client.get(url).content.decode()
        assert "Operation Serval" in body
        assert "MINUSMA" not in body and "Secret draft" not in body


# --- Changes feeds -------------------------------------------------------------------------------------


def test_changes_feed_lists_published_changes_with_summary_author_and_permalink(client, editor, moderator, site):
    serval = site["serval"]
    section = serval.sections.get()
    revision = moderation.propose(
        obj=section,
        author=editor,
        summary="Name the airport",
        data={**section.snapshot(), "body": "Troops landed at Bamako airport."},
    )
    _, items = rss_items(client, "/feeds/changes.rss")
    assert "Name the airport" not in [i.findtext("description") for i in items]  # pending: not published

    moderation.approve(revision=revision, moderator=moderator)
    _, items = rss_items(client, "/feeds/changes.rss")
    item = items[0]
    version = ArticleVersion.objects.get(revision=revision)
    assert item.findtext("description") == "Name the airport"
    assert item.findtext(f"{DC}creator") == "editor"
    assert item.findtext("title") == "Change section “Landing” in “Operation Serval”"
    assert item.findtext("link") == f"http://testserver/articles/operation-serval/revisions/{version.number}/"
    assert item.find("guid").get("isPermaLink") == "false"
    assert client.get(f"/articles/operation-serval/revisions/{version.number}/").status_code == 200

    feed, entries = atom_entries(client, "/feeds/changes.atom")
    entry = entries[0]
    assert entry.findtext(f"{ATOM}summary") == "Name the airport"
    assert entry.find(f"{ATOM}author").findtext(f"{ATOM}name") == "editor"
    assert entry.findtext(f"{ATOM}id") == item.findtext("guid")
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(ids) == len(set(ids))


def test_changes_feed_items_are_newest_first_and_link_to_topic_and_source_pages(client, moderator, site):
    topic, source = site["topic"], site["source"]
    moderation.publish_directly(
        obj=source, moderator=moderator, summary="Add the date", data={**source.snapshot(), "date_month": 4}
    )
    moderation.publish_directly(
        obj=topic, moderator=moderator, summary="Add a summary", data={**topic.snapshot(), "summary": "UN missions."}
    )
    _, items = rss_items(client, "/feeds/changes.rss")
    assert [i.findtext("description") for i in items[:2]] == ["Add a summary", "Add the date"]
    assert items[0].findtext("link") == "http://testserver/topics/peacekeeping/"
    assert items[1].findtext("link") == "http://testserver/sources/unsc-res-2100/"
    dates = [i.findtext("pubDate") for i in items]
    assert all(dates)


def test_changes_to_pages_readers_cannot_see_are_left_out(client, editor, moderator, site):
    draft = site["draft"]
    section = Section.objects.create(
        article=draft, title="Draft section", anchor="d", body="Hidden.", state=PublicationState.DRAFT
    )
    moderation.publish_directly(obj=section, moderator=moderator, summary="Prepared in a draft", action="create")
    rejected = moderation.propose(
        obj=site["topic"], author=editor, summary="Rejected idea", data={**site["topic"].snapshot(), "name": "Nope"}
    )
    moderation.reject(revision=rejected, moderator=moderator, reason="No.")
    moderation.publish_directly(
        obj=site["minusma"], moderator=moderator, summary="Unpublish MINUSMA", action=RevisionAction.UNPUBLISH
    )
    body = client.get("/feeds/changes.rss").content.decode()
    assert "Prepared in a draft" not in body
    assert "Rejected idea" not in body
    assert "MINUSMA" not in body  # its changes, the unpublishing included, lead nowhere now
    assert "Operation Serval" in body


# --- Sitemap and robots.txt -------------------------------------------------------------------------


def sitemap_entries(client):
    """Every address in every sitemap the sitemap index names, with its lastmod."""
    index = xml(client, "/sitemap.xml", "application/xml")
    assert index.tag == f"{SITEMAP}sitemapindex"
    entries = {}
    for sitemap in index.findall(f"{SITEMAP}sitemap"):
        root = xml(client, sitemap.findtext(f"{SITEMAP}loc").removeprefix("http://testserver"), "application/xml")
        assert root.tag == f"{SITEMAP}urlset"
        entries |= {u.findtext(f"{SITEMAP}loc"): u.findtext(f"{SITEMAP}lastmod") for u in root.findall(f"{SITEMAP}url")}
    return entries


def test_sitemap_lists_every_public_page_with_its_last_change(client, moderator, site):
    entries = sitemap_entries(client)
    origin = "http://testserver"
    assert set(entries) == {
        f"{origin}/",
        f"{origin}/contents/",
        f"{origin}/contents/by-date/",
        f"{origin}/topics/",
        f"{origin}/sources/",
        f"{origin}/timeline/",
        f"{origin}/articles/operation-serval/",
        f"{origin}/articles/minusma/",
        f"{origin}/topics/peacekeeping/",
        f"{origin}/sources/unsc-res-2100/",
    }
    # Every page with content has a lastmod (the timeline has no events yet).
    assert all(lastmod for url, lastmod in entries.items() if url != f"{origin}/timeline/")
    serval = Article.objects.get(slug="operation-serval")
    assert entries[f"{origin}/articles/operation-serval/"] == serval.published_at.date().isoformat()
    for lastmod in filter(None, entries.values()):
        datetime.date.fromisoformat(lastmod)


def test_sitemap_lastmod_of_a_topic_follows_its_sections(client, moderator, site):
    section = site["serval"].sections.get()
    long_ago = timezone.now() - datetime.timedelta(days=400)
    type(site["topic"]).objects.filter(pk=site["topic"].pk).update(updated_at=long_ago)
    type(site["source"]).objects.filter(pk=site["source"].pk).update(updated_at=long_ago)
    type(section).objects.filter(pk=section.pk).update(updated_at=long_ago)
    entries = sitemap_entries(client)
    assert entries["http://testserver/topics/peacekeeping/"] == long_ago.date().isoformat()

    moderation.publish_directly(
        obj=section,
        moderator=moderator,
        summary="Edit",
        data={**section.snapshot(), "body": "Troops landed [@unsc-res-2100]."},
    )
    entries = sitemap_entries(client)
    today = timezone.now().date().isoformat()
    assert entries["http://testserver/topics/peacekeeping/"] == today
    assert entries["http://testserver/sources/unsc-res-2100/"] == today


def test_sitemap_leaves_out_drafts_deleted_pages_and_permalinks(client, moderator, site):
    moderation.publish_directly(obj=site["topic"], moderator=moderator, summary="Gone", action=RevisionAction.DELETE)
    locations = set(sitemap_entries(client))
    assert "http://testserver/topics/peacekeeping/" not in locations
    assert not any(
        "secret-draft" in url or "/revisions/" in url or "/history/" in url or "/preview/" in url for url in locations
    )


def test_robots_txt_disallows_admin_and_previews_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert "Disallow: /admin/" in lines
    assert "Disallow: /articles/*/preview/" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert client.get("/sitemap.xml").status_code == 200


# --- Page cache ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/feeds/articles.rss",
        "/feeds/articles.atom",
        "/feeds/changes.rss",
        "/feeds/changes.atom",
        "/sitemap-articles.xml",
    ],
)
def test_feeds_and_sitemap_are_cached_and_refreshed_by_a_publish(
    client, moderator, site, settings, url, django_capture_on_commit_callbacks
):
    settings.PUBLIC_PAGE_CACHE = True
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) == 0
    with django_capture_on_commit_callbacks(execute=True):
        factories.article(moderator, title="Operation Barkhane", slug="operation-barkhane")
    assert "operation-barkhane" in client.get(url).content.decode()
