"""Article pages stored when they are published: readers get them with one query, exactly as a
live render would show them, never older than the content, in both languages."""
import io
from pathlib import Path

import pytest
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import dateformat, timezone, translation

from articles import moderation, rendered_pages
from articles.models import Article, PublicationState, RenderedPage, RevisionAction

from . import factories

pytestmark = pytest.mark.django_db

URL = "/articles/minusma/"


@pytest.fixture(autouse=True)
def site_url(settings):
    # Pages are stored for the site's address; the test client asks for http://testserver.
    settings.SITE_URL = "http://testserver"


@pytest.fixture
def site(moderator):
    return factories.mandate_site(moderator)


def fetch(client, url=URL, **extra):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    assert response.status_code == 200, url
    return response.content.decode(), len(queries)


def live_render(client, url=URL):
    """The page as the view renders it from the content, with no stored copy to answer from."""
    saved = list(RenderedPage.objects.values())
    RenderedPage.objects.all().delete()
    html, queries = fetch(client, url)
    RenderedPage.objects.bulk_create(RenderedPage(**row) for row in saved)
    assert queries > 1
    return html


def publish(moderator, obj, **changes):
    moderation.publish_directly(obj=obj, moderator=moderator, summary="Edit", data={**obj.snapshot(), **changes})


def test_publishing_stores_the_page_in_every_language_with_its_headers(site):
    stored = {page.language: page for page in RenderedPage.objects.filter(article=site["article"])}
    assert {language: (page.path, page.site_url) for language, page in stored.items()} == {
        "en": ("/articles/minusma/", "http://testserver"), "fr": ("/fr/articles/minusma/", "http://testserver"),
    }
    headers = dict(stored["fr"].headers)
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Content-Language"] == "fr"
    assert "default-src" in headers["Content-Security-Policy"]
    assert "Content-Length" not in headers  # It changes with the access date.
    assert stored["en"].digest != stored["fr"].digest


@pytest.mark.parametrize("url", [URL, "/fr" + URL])
def test_readers_get_the_stored_page_with_one_query_and_the_same_bytes_as_a_live_render(client, site, url):
    html, queries = fetch(client, url)
    assert queries == 1
    assert html == live_render(client, url)
    assert "Mandate" in html and "Resolution 2100 (2013)" in html


def test_the_french_page_is_stored_with_the_french_interface(client, site):
    html, _ = fetch(client, "/fr" + URL)
    assert '<html lang="fr">' in html
    assert 'hreflang="en" href="http://testserver/articles/minusma/"' in html


def test_the_cite_box_shows_the_day_it_is_read(client, site):
    html, _ = fetch(client)
    with translation.override("en"):
        today = dateformat.format(timezone.localdate(), "F j, Y")
    assert f"(accessed {today})." in html
    assert RenderedPage.ACCESS_DATE_MARK not in html
    assert RenderedPage.ACCESS_DATE_MARK in RenderedPage.objects.get(article=site["article"], language="en").html


def test_a_published_section_change_shows_on_the_next_request(client, site, moderator):
    fetch(client)
    publish(moderator, site["section"], body="The Council created the mission in April 2013 [@unsc-res-2100].")
    html, queries = fetch(client)
    assert queries == 1
    assert "created the mission" in html and "set up the mission" not in html


def test_a_renamed_topic_shows_on_the_article_page(client, site, moderator):
    publish(moderator, site["topic"], name="UN peacekeeping")
    html, queries = fetch(client)
    assert queries == 1
    assert "UN peacekeeping" in html


def test_a_retitled_source_shows_in_the_bibliography(client, site, moderator):
    publish(moderator, site["source"], title="Security Council Resolution 2100")
    html, queries = fetch(client)
    assert queries == 1
    assert "Security Council Resolution 2100" in html


def test_an_unpublished_article_is_gone_at_once(client, site, moderator):
    moderation.publish_directly(obj=site["article"], moderator=moderator, summary="Withdraw",
                                action=RevisionAction.UNPUBLISH)
    assert client.get(URL).status_code == 404
    assert not RenderedPage.objects.filter(article=site["article"]).exists()


def test_a_refused_publish_leaves_the_stored_page_as_it_was(client, site, moderator):
    before = RenderedPage.objects.get(article=site["article"], language="en").html
    with pytest.raises(Exception):
        publish(moderator, site["section"], body="Cites an unknown source [@no-such-key].")
    assert RenderedPage.objects.get(article=site["article"], language="en").html == before
    html, _ = fetch(client)
    assert "set up the mission" in html


@pytest.mark.parametrize("case", ["signed in", "notice pending", "query string", "other host"])
def test_other_requests_are_rendered_live(client, site, moderator, case):
    extra = {}
    url = URL
    if case == "signed in":
        client.force_login(moderator)
    elif case == "notice pending":
        client.cookies[CookieStorage.cookie_name] = "x"
    elif case == "query string":
        url = URL + "?ref=feed"
    else:
        extra = {"HTTP_HOST": "127.0.0.1"}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    assert response.status_code == 200
    assert len(queries) > 1
    assert RenderedPage.ACCESS_DATE_MARK not in response.content.decode()


def test_a_page_from_another_build_is_not_served_until_render_pages_runs(client, site):
    RenderedPage.objects.update(fingerprint="an-older-build", html="old page")
    html, queries = fetch(client)
    assert queries > 1 and "Mandate" in html
    call_command("render_pages", verbosity=0)
    html, queries = fetch(client)
    assert queries == 1 and "Mandate" in html
    assert set(RenderedPage.objects.values_list("fingerprint", flat=True)) == {rendered_pages.build_fingerprint()}


def test_the_fingerprint_follows_the_templates(settings, tmp_path):
    (tmp_path / "templates").mkdir()
    page = tmp_path / "templates" / "base.html"
    page.write_text("one")
    settings.BASE_DIR = tmp_path
    settings.STATIC_ROOT = tmp_path / "static"
    rendered_pages.build_fingerprint.cache_clear()
    try:
        first = rendered_pages.build_fingerprint()
        rendered_pages.build_fingerprint.cache_clear()
        page.write_text("two")
        assert rendered_pages.build_fingerprint() != first
    finally:
        rendered_pages.build_fingerprint.cache_clear()


def test_the_page_cache_never_keeps_the_render_made_for_storage(client, site, moderator, settings,
                                                                django_capture_on_commit_callbacks):
    settings.PUBLIC_PAGE_CACHE = True
    fetch(client)
    with django_capture_on_commit_callbacks(execute=True):  # The cache learns of publishes after commit.
        publish(moderator, site["section"], body="The Council created the mission in April 2013 [@unsc-res-2100].")
    for _ in range(2):
        html, _ = fetch(client)
        assert RenderedPage.ACCESS_DATE_MARK not in html
        assert "created the mission" in html


@pytest.mark.parametrize(("site_url", "allowed", "warned"), [
    ("https://history.example.org", ["history.example.org"], False),
    ("https://history.example.org:8443", [".example.org"], False),
    ("https://history.example.org", ["127.0.0.1"], True),
    ("", ["*"], True),
])
def test_the_deploy_check_warns_when_pages_could_never_be_stored(settings, site_url, allowed, warned):
    settings.SITE_URL, settings.ALLOWED_HOSTS = site_url, allowed
    assert [problem.id for problem in rendered_pages.check_site_url(None)] == (["articles.W003"] if warned else [])


SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "mali_military_deployments.txt"


def test_the_demo_and_the_commissioned_article_are_stored_exactly_as_they_render(client, moderator):
    """Notes, tables, citations, figures, timelines: every stored page is the live render, byte for byte."""
    call_command("load_demo", stdout=io.StringIO())
    if SEED.exists():  # The commissioned article, when the shared folder is beside the project.
        call_command("import_article", str(SEED), "--publish", "--user", "moderator", stdout=io.StringIO())
    pages = list(RenderedPage.objects.filter(article__state=PublicationState.LIVE))
    assert len(pages) == 2 * Article.objects.published().count() >= 2
    for page in pages:
        stored, queries = fetch(client, page.path)
        assert queries == 1, page.path
        assert stored == live_render(client, page.path), page.path
