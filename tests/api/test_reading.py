"""The read API: published content only, a page at a time, revalidated by ETag, in a fixed number of queries."""

import json

import pytest

from articles.models import Section
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(moderator):
    """The mandate site, a second section, a timeline event and an unpublished article with a section."""
    objects = factories.mandate_site(moderator)
    objects["second"] = factories.section(
        moderator, objects["article"], topics=[objects["topic"]], title="Drawdown", anchor="drawdown"
    )
    objects["event"] = factories.timeline_event(
        moderator, topics=[objects["topic"]], title="MINUSMA created", date_year=2013, date_month=4, date_day=25
    )
    hidden = factories.article(moderator, title="Withdrawn article", slug="withdrawn")
    objects["hidden_section"] = factories.section(moderator, hidden, title="Hidden section", anchor="hidden")
    moderation.publish_directly(obj=hidden, moderator=moderator, summary="Unpublish", action="unpublish")
    objects["hidden"] = hidden
    return objects


def _json(response):
    assert response.status_code == 200, response.content[:300]
    return json.loads(response.content)


def read_urls(site):
    return {
        "articles": "/api/v1/articles",
        "article": "/api/v1/articles/minusma",
        "sections": "/api/v1/articles/minusma/sections",
        "section": f"/api/v1/sections/{site['section'].pk}",
        "sources": "/api/v1/sources",
        "source": "/api/v1/sources/unsc-res-2100",
        "source_csl": "/api/v1/sources/unsc-res-2100/csl",
        "topics": "/api/v1/topics",
        "topic": "/api/v1/topics/peacekeeping",
        "events": "/api/v1/timeline-events",
        "event": f"/api/v1/timeline-events/{site['event'].pk}",
        "versions": "/api/v1/articles/minusma/versions",
        "version": "/api/v1/articles/minusma/versions/1",
    }


LISTS = ("articles", "sections", "sources", "topics", "events", "versions")


def test_an_article_reads_as_published_with_its_sections_in_order(client, site):
    article = _json(client.get("/api/v1/articles/minusma"))
    assert article["title"] == "MINUSMA"
    assert article["url"] == "/articles/minusma/"
    sections = _json(client.get(article["sections_url"]))
    assert [s["title"] for s in sections["results"]] == ["Mandate", "Drawdown"]
    mandate = sections["results"][0]
    # The stored HTML fragment, not the Markdown: the citation is a numbered note marker.
    assert mandate["html"] == site["section"].body_html
    assert "[@unsc-res-2100]" not in mandate["html"]
    assert mandate["notes"] == [
        {"number": 1, "key": "unsc-res-2100", "locator": "", "source_url": "/api/v1/sources/unsc-res-2100"}
    ]
    assert mandate["topics"] == [{"slug": "peacekeeping", "name": "Peacekeeping"}]
    assert mandate["url"] == "/articles/minusma/#mandate"


def test_a_source_reads_as_data_and_as_csl_json(client, site):
    source = _json(client.get("/api/v1/sources/unsc-res-2100"))
    assert source["title"] == "Resolution 2100 (2013)"
    assert source["date"] == "2013"
    assert "<cite>Resolution 2100 (2013)</cite>" in source["note_html"]
    response = client.get(source["csl_url"])
    assert response["Content-Type"] == "application/vnd.citationstyles.csl+json; charset=utf-8"
    [item] = json.loads(response.content)
    assert item["id"] == "unsc-res-2100"
    assert item["title"] == "Resolution 2100 (2013)"
    assert item["issued"] == {"date-parts": [[2013]]}


def test_topics_events_and_versions_read_as_published(client, site):
    topic = _json(client.get("/api/v1/topics/peacekeeping"))
    assert topic["name"] == "Peacekeeping"
    event = _json(client.get(f"/api/v1/timeline-events/{site['event'].pk}"))
    assert event["date"] == "2013-04-25"
    assert event["topics"] == [{"slug": "peacekeeping", "name": "Peacekeeping"}]
    versions = _json(client.get("/api/v1/articles/minusma/versions"))["results"]
    assert [v["number"] for v in versions] == [3, 2, 1]  # the article, then each section
    latest = _json(client.get(versions[0]["api_url"]))
    assert [s["title"] for s in latest["sections"]] == ["Mandate", "Drawdown"]
    assert latest["url"] == "/articles/minusma/revisions/3/"
    assert "Resolution 2100 (2013)" in latest["notes_html"]


def test_a_version_stays_as_readers_saw_it_after_the_article_changes(client, site, moderator):
    section = site["section"]
    moderation.publish_directly(
        obj=section, moderator=moderator, summary="Reword", data={**section.snapshot(), "title": "The mandate"}
    )
    old = _json(client.get("/api/v1/articles/minusma/versions/3"))
    new = _json(client.get("/api/v1/articles/minusma/versions/4"))
    assert old["sections"][0]["title"] == "Mandate"
    assert new["sections"][0]["title"] == "The mandate"


def test_unpublished_content_is_invisible(client, site, moderator):
    assert "withdrawn" not in {a["slug"] for a in _json(client.get("/api/v1/articles"))["results"]}
    for url in (
        "/api/v1/articles/withdrawn",
        "/api/v1/articles/withdrawn/sections",
        "/api/v1/articles/withdrawn/versions",
        "/api/v1/articles/withdrawn/versions/1",
        f"/api/v1/sections/{site['hidden_section'].pk}",  # published, but in an unpublished article
    ):
        assert client.get(url).status_code == 404, url
    # A pending proposal shows nowhere; an unpublished section, source, topic or event is gone.
    editor = factories.make_user("writer", group="Editor")
    section = site["section"]
    moderation.propose(obj=section, author=editor, summary="Draft", data={**section.snapshot(), "title": "Secret"})
    assert "Secret" not in client.get("/api/v1/articles/minusma/sections").content.decode()
    draft = Section.objects.create(article=site["article"], title="Draft", anchor="draft", body="Draft text.")
    assert client.get(f"/api/v1/sections/{draft.pk}").status_code == 404
    for obj, url in (
        (site["second"], f"/api/v1/sections/{site['second'].pk}"),
        (site["event"], f"/api/v1/timeline-events/{site['event'].pk}"),
        (site["topic"], "/api/v1/topics/peacekeeping"),
    ):
        moderation.publish_directly(obj=obj, moderator=moderator, summary="Unpublish", action="unpublish")
        assert client.get(url).status_code == 404, url
    assert _json(client.get("/api/v1/timeline-events"))["count"] == 0
    assert _json(client.get("/api/v1/topics"))["count"] == 0
    assert [s["title"] for s in _json(client.get("/api/v1/articles/minusma/sections"))["results"]] == ["Mandate"]


def test_every_list_is_paged_with_links_and_a_bounded_page_size(client, moderator):
    for n in range(5):
        factories.source(moderator, key=f"key-{n}")
    first = _json(client.get("/api/v1/sources?page_size=2"))
    assert first["count"] == 5
    assert [s["key"] for s in first["results"]] == ["key-0", "key-1"]
    assert first["previous"] is None
    assert first["next"] == "/api/v1/sources?page_size=2&page=2"
    last = _json(client.get("/api/v1/sources?page_size=2&page=3"))
    assert [s["key"] for s in last["results"]] == ["key-4"]
    assert last["next"] is None and last["previous"] == "/api/v1/sources?page_size=2&page=2"
    assert client.get("/api/v1/sources?page_size=2&page=4").status_code == 404
    too_big = client.get("/api/v1/sources?page_size=101")
    assert too_big.status_code == 400
    assert "page_size" in json.loads(too_big.content)["errors"]
    assert client.get("/api/v1/sources?page=0").status_code == 400


@pytest.mark.parametrize("name", LISTS)
def test_each_list_answers_pages(client, site, name):
    url = read_urls(site)[name]
    page = _json(client.get(url + "?page_size=1"))
    assert page["count"] >= 1 and len(page["results"]) == 1 and page["page_size"] == 1
    assert (page["next"] is not None) == (page["count"] > 1)


READS = (
    "articles",
    "article",
    "sections",
    "section",
    "sources",
    "source",
    "source_csl",
    "topics",
    "topic",
    "events",
    "event",
    "versions",
    "version",
)


@pytest.mark.parametrize("name", READS)
def test_each_read_has_an_etag_and_answers_304_when_unchanged(client, site, name):
    url = read_urls(site)[name]
    response = client.get(url)
    etag = response["ETag"]
    assert etag.startswith('"') and len(etag) > 10
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    unchanged = client.get(url, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged["ETag"] == etag
    weak = client.get(url, headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_a_publish_changes_the_etag(client, site, moderator):
    url = "/api/v1/sources/unsc-res-2100"
    etag = client.get(url)["ETag"]
    source = site["source"]
    moderation.publish_directly(
        obj=source, moderator=moderator, summary="Title", data={**source.snapshot(), "title": "Resolution 2100"}
    )
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert json.loads(response.content)["title"] == "Resolution 2100"


# Queries per read: the same with one item as with many.
QUERIES = {
    "articles": 2,  # count, page
    "article": 1,
    "sections": 4,  # article, count, page, topics
    "section": 2,  # section with its article, topics
    "sources": 2,
    "source": 1,
    "source_csl": 1,
    "topics": 2,
    "topic": 1,
    "events": 3,  # count, page, topics
    "event": 2,
    "versions": 3,  # article, count, page
    "version": 2,
}


def _grow(site, moderator, extra):
    """``extra`` more of everything, all linked together."""
    topics = [factories.topic(moderator) for _ in range(extra)]
    sources = [factories.source(moderator) for _ in range(extra)]
    for n in range(extra):
        factories.article(moderator)
        factories.section(
            moderator, site["article"], topics=topics, body=" ".join(f"[@{s.key}]" for s in sources) + f" {n}."
        )
        factories.timeline_event(moderator, topics=topics, date_year=2014 + n)


@pytest.mark.parametrize("name", READS)
def test_each_read_costs_the_same_queries_however_big_the_site(
    client, site, moderator, name, django_assert_num_queries
):
    url = read_urls(site)[name]
    with django_assert_num_queries(QUERIES[name]):
        small = client.get(url)
    _grow(site, moderator, 3)
    with django_assert_num_queries(QUERIES[name]):
        big = client.get(url)
    assert small.status_code == big.status_code == 200
    if name in LISTS:
        assert json.loads(big.content)["count"] > json.loads(small.content)["count"] or name == "articles"


def test_reads_are_the_same_for_a_signed_in_editor_and_need_no_session(client, site, editor):
    anonymous = client.get("/api/v1/articles/minusma/sections")
    client.force_login(editor)
    signed_in = client.get("/api/v1/articles/minusma/sections")
    assert anonymous.content == signed_in.content
    assert "sessionid" not in signed_in.cookies


def test_addresses_are_in_the_content_language_whatever_the_client_asks(client, site):
    response = client.get("/api/v1/articles/minusma", headers={"Accept-Language": "fr"})
    assert json.loads(response.content)["url"] == "/articles/minusma/"


@pytest.mark.parametrize(
    "url,status",
    [
        ("/api/v1/sections/99999999999999999999999", 404),
        ("/api/v1/sections/abc", 404),
        ("/api/v1/topics/no%20such", 404),
        ("/api/v1/articles/" + "a" * 300, 404),
        ("/api/v1/articles/minusma/versions/99999999999999999999", 404),
        ("/api/v1/timeline-events/-1", 404),
        ("/api/v1/sources/%00", 404),
        ("/api/v1/articles?page=99999999999", 404),
        ("/api/v1/articles?page=02", 404),
        ("/api/v1/articles?page_size=abc", 400),
    ],
)
def test_malformed_addresses_are_refused_never_a_server_error(client, site, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert "detail" in json.loads(response.content)


def test_an_old_slug_redirects_to_the_same_answer_at_the_new_one(client, site, moderator):
    article, topic, source = site["article"], site["topic"], site["source"]
    for obj, field, value in (
        (article, "slug", "minusma-mission"),
        (topic, "slug", "peace"),
        (source, "key", "s-res-2100"),
    ):
        moderation.publish_directly(
            obj=obj, moderator=moderator, summary="Rename", data={**obj.snapshot(), field: value}
        )
    for old, new in (
        ("/api/v1/articles/minusma/versions/1", "/api/v1/articles/minusma-mission/versions/1"),
        ("/api/v1/articles/minusma/sections?page_size=1", "/api/v1/articles/minusma-mission/sections?page_size=1"),
        ("/api/v1/topics/peacekeeping", "/api/v1/topics/peace"),
        ("/api/v1/sources/unsc-res-2100/csl", "/api/v1/sources/s-res-2100/csl"),
    ):
        response = client.get(old)
        assert response.status_code == 301 and response["Location"] == new
        assert client.get(new).status_code == 200
    assert client.get("/api/v1/topics/never-was").status_code == 404
