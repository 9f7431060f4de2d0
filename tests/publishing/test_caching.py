"""Whole-page caching of public pages: served from the cache, revalidated with 304, never stale
after a publish, never mixed up with staff pages, previews or one visitor's notices."""

import os

import pytest
from django.contrib import messages
from django.contrib.messages import constants
from django.contrib.messages.storage import default_storage
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.test.utils import CaptureQueriesContext
from django.utils.csp import LazyNonce

from articles.models import RevisionAction
from articles.publishing import caching, dependencies
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.PUBLIC_PAGE_CACHE = True


@pytest.fixture
def site(moderator):
    """Two articles; the first has a section on a topic citing a source, the second stands apart."""
    site = factories.mandate_site(moderator)
    other = factories.article(moderator, title="Independence", slug="independence")
    factories.section(moderator, other, title="1960", anchor="y1960", body="Mali became independent in 1960.")
    return {**site, "other": other}


PAGES = ["/", "/articles/minusma/", "/topics/", "/topics/peacekeeping/", "/sources/", "/sources/unsc-res-2100/"]


def queries_for(client, url, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    return response, len(queries)


def warm(client, *urls):
    for url in urls:
        assert client.get(url).status_code == 200, url


def publish(capture, moderator, obj, **changes):
    """Approve a change through the moderation services and run what waits for the commit."""
    with capture(execute=True):
        moderation.publish_directly(obj=obj, moderator=moderator, summary="Edit", data={**obj.snapshot(), **changes})
    obj.refresh_from_db()
    return obj


def is_cached(client, url):
    return queries_for(client, url)[1] == 0


# --- Serving from the cache ----------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_second_anonymous_request_is_served_from_the_cache_without_queries(client, site, url):
    first, first_queries = queries_for(client, url)
    second, second_queries = queries_for(client, url)
    assert first.status_code == second.status_code == 200
    assert first_queries > 0 and second_queries == 0
    assert second.content == first.content
    assert second["ETag"] == first["ETag"] and second["Last-Modified"] == first["Last-Modified"]
    assert second["Content-Type"] == "text/html; charset=utf-8"
    assert "must-revalidate" in second["Cache-Control"] and "private" not in second["Cache-Control"]
    assert "Cookie" not in second.get("Vary", "")
    assert "Content-Security-Policy" in second  # The middleware's headers are on cached pages too.


def test_if_none_match_gets_304_and_a_changed_page_gets_200(
    client, moderator, site, django_capture_on_commit_callbacks
):
    etag = client.get("/articles/minusma/")["ETag"]
    response, queries = queries_for(client, "/articles/minusma/", if_none_match=etag)
    assert response.status_code == 304 and response.content == b"" and queries == 0
    assert response["ETag"] == etag

    publish(django_capture_on_commit_callbacks, moderator, site["section"], body="Rewritten [@unsc-res-2100].")
    response = client.get("/articles/minusma/", headers={"if-none-match": etag})
    assert response.status_code == 200 and "Rewritten" in response.content.decode()
    assert response["ETag"] != etag


def test_if_modified_since_gets_304(client, site):
    last_modified = client.get("/topics/peacekeeping/")["Last-Modified"]
    response, queries = queries_for(client, "/topics/peacekeeping/", if_modified_since=last_modified)
    assert response.status_code == 304 and queries == 0
    assert (
        client.get("/topics/peacekeeping/", headers={"if-modified-since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code
        == 200
    )


def test_missing_pages_are_not_cached(client, site):
    assert client.get("/articles/nowhere/").status_code == 404
    assert queries_for(client, "/articles/nowhere/")[1] > 0


def test_a_query_string_gets_a_fresh_page_and_is_not_stored(client, site):
    warm(client, "/")
    response, queries = queries_for(client, "/?utm_source=newsletter")
    assert response.status_code == 200 and queries > 0
    assert queries_for(client, "/?utm_source=newsletter")[1] > 0


# --- Publishing shows at once --------------------------------------------------------------------


def test_section_change_shows_on_its_article_topic_and_source_pages(
    client, moderator, site, django_capture_on_commit_callbacks
):
    warm(client, *PAGES)
    publish(
        django_capture_on_commit_callbacks,
        moderator,
        site["section"],
        title="Mandate of 2013",
        body="Resolution 2100 created MINUSMA [@unsc-res-2100].",
    )
    assert "Resolution 2100 created MINUSMA" in client.get("/articles/minusma/").content.decode()
    assert "Resolution 2100 created MINUSMA" in client.get("/topics/peacekeeping/").content.decode()
    assert "Mandate of 2013" in client.get("/sources/unsc-res-2100/").content.decode()


def test_article_change_shows_in_lists_and_on_pages_naming_it(
    client, moderator, site, django_capture_on_commit_callbacks
):
    warm(client, *PAGES)
    publish(django_capture_on_commit_callbacks, moderator, site["article"], title="The UN mission")
    for url in ("/", "/articles/minusma/", "/topics/peacekeeping/", "/sources/unsc-res-2100/"):
        assert "The UN mission" in client.get(url).content.decode(), url


def test_new_slug_serves_the_new_address_and_the_old_one_redirects_to_it(
    client, moderator, site, django_capture_on_commit_callbacks
):
    warm(client, "/articles/minusma/")
    publish(django_capture_on_commit_callbacks, moderator, site["article"], slug="un-mission")
    old = client.get("/articles/minusma/")  # not the cached old page
    assert old.status_code == 301 and old["Location"] == "/articles/un-mission/"
    assert client.get("/articles/un-mission/").status_code == 200
    assert 'href="/articles/un-mission/"' in client.get("/").content.decode()


def test_topic_change_shows_in_the_topic_list_its_page_and_articles_tagging_it(
    client, moderator, site, django_capture_on_commit_callbacks
):
    warm(client, *PAGES)
    publish(django_capture_on_commit_callbacks, moderator, site["topic"], name="UN peacekeeping")
    for url in ("/topics/", "/topics/peacekeeping/", "/articles/minusma/"):
        assert "UN peacekeeping" in client.get(url).content.decode(), url


def test_source_change_shows_in_the_source_list_its_page_and_citing_pages(
    client, moderator, site, django_capture_on_commit_callbacks
):
    warm(client, *PAGES)
    publish(django_capture_on_commit_callbacks, moderator, site["source"], title="Security Council resolution 2100")
    for url in ("/sources/", "/sources/unsc-res-2100/", "/articles/minusma/", "/topics/peacekeeping/"):
        assert "Security Council resolution 2100" in client.get(url).content.decode(), url


def test_a_new_article_shows_in_the_list_and_a_deleted_one_leaves_it(
    client, moderator, site, django_capture_on_commit_callbacks
):
    warm(client, "/", "/articles/independence/")
    with django_capture_on_commit_callbacks(execute=True):
        factories.article(moderator, title="Operation Barkhane", slug="barkhane")
        moderation.publish_directly(
            obj=site["other"], moderator=moderator, summary="Remove", action=RevisionAction.DELETE
        )
    home = client.get("/").content.decode()
    assert "Operation Barkhane" in home and "Independence" not in home
    assert client.get("/articles/independence/").status_code == 404


def test_only_the_affected_pages_are_invalidated(client, moderator, site, django_capture_on_commit_callbacks):
    tags = dependencies.appearances(site["section"]).tags
    assert tags == {dependencies.tag(site["section"].article), dependencies.ARTICLES}
    warm(client, *PAGES, "/articles/independence/")
    publish(django_capture_on_commit_callbacks, moderator, site["section"], body="Changed [@unsc-res-2100].")
    assert is_cached(client, "/articles/independence/")
    assert is_cached(client, "/topics/") and is_cached(client, "/sources/")
    assert not is_cached(client, "/articles/minusma/")
    # Lists that show articles' sections miss too.
    assert not is_cached(client, "/topics/peacekeeping/") and not is_cached(client, "/sources/unsc-res-2100/")


def test_pages_a_section_leaves_are_invalidated_too(client, moderator, site, django_capture_on_commit_callbacks):
    other_topic = factories.topic(moderator, name="Independence era", slug="independence-era")
    warm(client, "/topics/peacekeeping/", "/sources/unsc-res-2100/")
    publish(
        django_capture_on_commit_callbacks,
        moderator,
        site["section"],
        topics=[other_topic.pk],
        body="No citation any more.",
    )
    assert "Mandate" not in client.get("/topics/peacekeeping/").content.decode()
    assert "Mandate" not in client.get("/sources/unsc-res-2100/").content.decode()
    assert "Mandate" in client.get("/topics/independence-era/").content.decode()


def test_a_page_whose_dependencies_change_is_cached_and_invalidated_by_the_new_ones(
    client, moderator, site, django_capture_on_commit_callbacks
):
    """Each process remembers which tags a page had, to check them in one round trip: a page that
    starts citing another source is still served from the cache, and that source's change shows."""
    other_source = factories.source(moderator, key="ecowas-2012", title="ECOWAS communiqué")
    warm(client, "/articles/minusma/", "/articles/minusma/")
    publish(django_capture_on_commit_callbacks, moderator, site["section"], body="The region answered [@ecowas-2012].")
    assert "ECOWAS communiqué" in client.get("/articles/minusma/").content.decode()
    assert is_cached(client, "/articles/minusma/")
    publish(django_capture_on_commit_callbacks, moderator, other_source, title="ECOWAS final communiqué")
    assert "ECOWAS final communiqué" in client.get("/articles/minusma/").content.decode()
    assert is_cached(client, "/articles/minusma/")


def served(view):
    """The view behind the page cache middleware, as in settings.MIDDLEWARE."""
    return caching.PublicPageCacheMiddleware(caching.public_page(view))


def test_a_page_rendered_before_a_publish_and_stored_after_it_is_never_served(rf):
    """A render during which a publish committed may show old data: it is not stored."""
    calls = []

    def page(request):
        calls.append(1)
        if len(calls) == 1:
            caching.bump(["anything"])  # A publish commits while this render runs.
            return HttpResponse("old")
        return HttpResponse("new")

    page = served(page)
    assert page(rf.get("/slow/")).content == b"old"
    assert page(rf.get("/slow/")).content == b"new"
    assert page(rf.get("/slow/")).content == b"new" and len(calls) == 2


def test_pages_are_stored_per_host(rf, settings):
    """A page may show its own absolute address (the citation box): one host's never serves another."""
    settings.ALLOWED_HOSTS = ["history.example.org", "www.history.example.org"]
    page = served(lambda request: HttpResponse(request.build_absolute_uri()))
    assert page(rf.get("/", HTTP_HOST="history.example.org")).content == b"http://history.example.org/"
    assert page(rf.get("/", HTTP_HOST="www.history.example.org")).content == b"http://www.history.example.org/"
    assert page(rf.get("/", HTTP_HOST="history.example.org", secure=True)).content == b"https://history.example.org/"


def test_stored_pages_expire_at_midnight(rf, monkeypatch):
    """Pages may show today's date (the citation box's access date)."""
    import datetime

    day = [datetime.date(2026, 1, 1)]
    monkeypatch.setattr(caching.timezone, "localdate", lambda: day[0])
    page = served(lambda request: HttpResponse(f"accessed {caching.timezone.localdate()}"))
    assert page(rf.get("/")).content == b"accessed 2026-01-01"
    day[0] = datetime.date(2026, 1, 2)
    assert page(rf.get("/")).content == b"accessed 2026-01-02"


@pytest.mark.django_db(transaction=True)
def test_publish_is_seen_after_a_real_commit(client, moderator, site):
    warm(client, "/articles/minusma/")
    moderation.publish_directly(
        obj=site["section"],
        moderator=moderator,
        summary="Edit",
        data={**site["section"].snapshot(), "body": "Committed for real [@unsc-res-2100]."},
    )
    assert "Committed for real" in client.get("/articles/minusma/").content.decode()


# --- Never cached for staff, previews and notices ------------------------------------------------


def test_staff_get_fresh_pages_and_their_pages_never_enter_the_cache(client, editor, site):
    warm(client, "/articles/minusma/")
    client.force_login(editor)
    response, queries = queries_for(client, "/articles/minusma/")
    assert response.status_code == 200 and queries > 0
    assert "private" in response["Cache-Control"]
    response, queries = queries_for(client, "/topics/peacekeeping/")
    assert queries > 0
    client.logout()
    assert queries_for(client, "/topics/peacekeeping/")[1] > 0  # The staff render was not stored.


def test_preview_is_never_cached(client, editor, moderator, site):
    revision = moderation.propose(
        obj=site["section"],
        author=editor,
        summary="Draft",
        data={**site["section"].snapshot(), "body": "Pending words."},
    )
    url = f"/articles/minusma/preview/{revision.pk}/"
    client.force_login(editor)
    for _ in range(2):
        response, queries = queries_for(client, url)
        assert response.status_code == 200 and queries > 0 and "Pending words." in response.content.decode()
        assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    client.logout()
    assert client.get(url).status_code == 404
    assert "Pending words." not in client.get("/articles/minusma/").content.decode()
    assert caching.page_cache().get(caching.entry_key(f"http://testserver{url}")) is None


def test_a_visitor_with_a_notice_sees_it_and_it_is_never_stored(client, site):
    warm(client, "/topics/")
    storage = CookieStorage(HttpRequest())
    client.cookies[CookieStorage.cookie_name] = storage._encode([Message(constants.INFO, "Welcome back.")])
    assert "Welcome back." in client.get("/topics/").content.decode()  # Not the stored page.

    client.cookies[CookieStorage.cookie_name] = storage._encode([Message(constants.SUCCESS, "Your change was saved.")])
    assert "Your change was saved." in client.get("/articles/minusma/").content.decode()
    del client.cookies[CookieStorage.cookie_name]
    response, queries = queries_for(client, "/articles/minusma/")
    assert queries > 0 and "Your change was saved." not in response.content.decode()
    assert is_cached(client, "/articles/minusma/")


@pytest.mark.parametrize(
    "personal",
    [
        pytest.param(lambda request: request.session.get("seen"), id="reads the session"),
        pytest.param(get_token, id="uses a CSRF token"),
        pytest.param(lambda request: str(request._csp_nonce), id="uses a CSP nonce"),
        pytest.param(lambda request: messages.success(request, "Saved."), id="shows a notice"),
    ],
)
def test_a_page_that_depends_on_the_visitor_is_not_stored(rf, personal):
    calls = []

    def page(request):
        # What the middleware below the page cache provides.
        request.session = SessionStore()
        request._messages = default_storage(request)
        request._csp_nonce = LazyNonce()
        calls.append(1)
        personal(request)
        return HttpResponse("hello")

    page = served(page)
    for _ in range(2):
        assert page(rf.get("/personal/")).status_code == 200
    assert len(calls) == 2


@pytest.mark.parametrize(
    "decorate",
    [
        pytest.param(lambda response: response.set_cookie("theme", "dark"), id="sets a cookie"),
        pytest.param(lambda response: response.headers.__setitem__("Vary", "Accept-Language"), id="varies"),
        pytest.param(lambda response: setattr(response, "status_code", 404), id="is not found"),
    ],
)
def test_a_response_that_sets_cookies_varies_or_fails_is_not_stored(rf, decorate):
    calls = []

    def page(request):
        calls.append(1)
        response = HttpResponse("hello")
        decorate(response)
        return response

    page = served(page)
    page(rf.get("/personal/"))
    page(rf.get("/personal/"))
    assert len(calls) == 2


def test_a_view_without_the_decorator_is_never_stored(rf):
    calls = []

    def page(request):
        calls.append(1)
        return HttpResponse("hello")

    page = caching.PublicPageCacheMiddleware(page)
    page(rf.get("/plain/"))
    page(rf.get("/plain/"))
    assert len(calls) == 2


def test_the_page_cache_can_be_turned_off(client, settings, site):
    settings.PUBLIC_PAGE_CACHE = False
    warm(client, "/articles/minusma/")
    assert queries_for(client, "/articles/minusma/")[1] > 0


# --- The shared cache -----------------------------------------------------------------------------


def test_with_redis_url_the_shared_cache_is_redis_and_the_page_cache_is_on():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set: this run uses the local-memory cache")
    from mali_history import settings as project_settings

    assert project_settings.CACHES["default"]["BACKEND"] == "mali_history.cache.RedisCache"
    assert project_settings.PUBLIC_PAGE_CACHE is True
    assert isinstance(caching.page_cache(), RedisCache)
    caching.page_cache().set("shared-cache-probe", "seen")
    assert caches.create_connection("default").get("shared-cache-probe") == "seen"


def test_a_publish_in_one_process_is_seen_by_another(
    client, moderator, site, monkeypatch, django_capture_on_commit_callbacks
):
    """Two cache clients, as two gunicorn workers would have: one serves, the other publishes."""
    reader, publisher = caches.create_connection("default"), caches.create_connection("default")
    assert reader is not publisher
    if os.environ.get("REDIS_URL"):
        assert reader._cache is not publisher._cache  # Separate Redis clients and connection pools.

    monkeypatch.setattr(caching, "page_cache", lambda: reader)
    warm(client, "/articles/minusma/")
    assert is_cached(client, "/articles/minusma/")

    monkeypatch.setattr(caching, "page_cache", lambda: publisher)
    publish(django_capture_on_commit_callbacks, moderator, site["section"], body="Seen everywhere [@unsc-res-2100].")

    monkeypatch.setattr(caching, "page_cache", lambda: reader)
    assert "Seen everywhere" in client.get("/articles/minusma/").content.decode()
