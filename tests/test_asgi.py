"""What gunicorn serves (mali_history/asgi.py): cached pages answered on the event loop from Redis,
and Django's WSGI handler on a pool of threads for everything else."""
import asyncio
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import redis.asyncio
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections

from articles import caching
from articles.front import PublicPagesFront
from mali_history.wsgi_threads import STREAM_THRESHOLD, WSGIOnThreads, wsgi_environ

from . import factories
from .conftest import require_postgres

ARTICLE = "/articles/minusma/"


def scope_for(path, method="GET", headers=(), query=b"", scheme="http"):
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": scheme,
        "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "",
        "headers": [(b"host", b"testserver"), *headers], "client": ("203.0.113.7", 50000),
        "server": ("127.0.0.1", 8000),
    }


def run_async(coroutine, loop=None):
    """Run ``coroutine`` on ``loop`` (running in its own thread), or on a new loop in a new thread:
    the browser tests' Playwright keeps an event loop running in the main thread."""
    if loop is not None:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=30)
    with ThreadPoolExecutor(max_workers=1) as runner:
        return runner.submit(asyncio.run, coroutine).result(timeout=30)


def call(app, scope, body=b"", loop=None):
    """Run one request through an ASGI app; (status, headers, body, number of body messages)."""
    async def run():
        sent = []
        requests = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive():
            return requests.pop(0) if requests else {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        await app(scope, receive, send)
        return sent

    sent = run_async(run(), loop)
    start = sent[0]
    bodies = [m for m in sent[1:] if m["type"] == "http.response.body"]
    headers = {name.decode(): value.decode() for name, value in start["headers"]}
    return start["status"], headers, b"".join(m.get("body", b"") for m in bodies), len(bodies)


# --- Django's WSGI handler on threads ------------------------------------------------------------


def test_the_environ_is_what_a_wsgi_server_builds():
    scope = scope_for(
        "/articles/ségou/", query=b"a=1&b=%C3%A9", scheme="https",
        headers=[(b"cookie", b"a=1"), (b"cookie", b"b=2"), (b"accept", b"text/html"), (b"accept", b"*/*"),
                 (b"content-type", b"text/plain"), (b"content-length", b"3"), (b"x_forwarded_proto", b"http")],
    )
    environ = wsgi_environ(scope, body=None)
    assert environ["PATH_INFO"] == "/articles/ségou/".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "a=1&b=%C3%A9"
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["HTTP_ACCEPT"] == "text/html,*/*"
    assert environ["CONTENT_TYPE"] == "text/plain" and environ["CONTENT_LENGTH"] == "3"
    assert environ["REMOTE_ADDR"] == "203.0.113.7"
    # A name with "_" would pass for the proxy's X-Forwarded-Proto: dropped, as gunicorn does.
    assert "HTTP_X_FORWARDED_PROTO" not in environ


def echo_app(environ, start_response):
    body = environ["wsgi.input"].read()
    start_response("201 Created", [("Content-Type", "text/plain"), ("X-Method", environ["REQUEST_METHOD"])])
    return [b"got:", body]


def test_a_request_body_reaches_the_application_and_the_answer_comes_back_whole():
    status, headers, body, messages = call(WSGIOnThreads(echo_app), scope_for("/echo/", method="POST"), body=b"hello")
    assert (status, headers["x-method"], body, messages) == (201, "POST", b"got:hello", 1)


def test_a_head_request_gets_headers_and_no_body():
    status, headers, body, _ = call(WSGIOnThreads(echo_app), scope_for("/echo/", method="HEAD"))
    assert status == 201 and headers["x-method"] == "HEAD" and body == b""


def test_a_large_response_is_streamed_in_chunks():
    chunk = b"x" * (STREAM_THRESHOLD // 2)

    def big_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return iter([chunk] * 7)

    status, _, body, messages = call(WSGIOnThreads(big_app), scope_for("/big/"))
    assert status == 200 and body == chunk * 7
    assert messages >= 3


def test_an_oversized_request_body_is_refused_without_running_the_application():
    seen = []

    def app(environ, start_response):
        seen.append(environ)
        return echo_app(environ, start_response)

    status, _, body, _ = call(WSGIOnThreads(app, max_body_size=10), scope_for("/echo/", method="POST"), body=b"x" * 11)
    assert status == 413 and b"413" in body and seen == []


def test_the_application_keeps_its_threads_between_requests():
    names = set()

    def app(environ, start_response):
        names.add(threading.current_thread().name)
        start_response("200 OK", [])
        return [b""]

    served = WSGIOnThreads(app, threads=2)
    for _ in range(20):
        call(served, scope_for("/"))
    assert 1 <= len(names) <= 2


def test_lifespan_startup_and_shutdown_are_acknowledged():
    async def run():
        messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
        sent = []

        async def receive():
            return messages.pop(0)

        async def send(message):
            sent.append(message["type"])

        await WSGIOnThreads(echo_app)({"type": "lifespan"}, receive, send)
        return sent

    assert run_async(run()) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


# --- Cached pages on the event loop (articles.PublicPagesFront) -------------------------


@pytest.fixture
def redis_page_cache(settings):
    """The page cache in the machine's Redis (as in production), under a key prefix of its own."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"No Redis at {url}")
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {"default": {"BACKEND": "mali_history.cache.RedisCache", "LOCATION": url, "KEY_PREFIX": prefix}}
    settings.PUBLIC_PAGE_CACHE = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # As in production.
    yield
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


class Recorder:
    """The inner application: records what reaches Django and answers 299."""

    def __init__(self):
        self.paths = []

    async def __call__(self, scope, receive, send):
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"from django"})


@pytest.fixture
def site(moderator):
    article = factories.article(moderator, title="MINUSMA", slug="minusma")
    factories.section(moderator, article, title="Mandate", anchor="mandate", body="The mission began in 2013.")
    return article


@pytest.mark.django_db
def test_a_stored_page_is_answered_before_django_with_every_header(client, redis_page_cache, site):
    stored = client.get(ARTICLE)  # Django renders the page and the middleware stores it.
    assert stored.status_code == 200
    front = PublicPagesFront(inner := Recorder())
    status, headers, body, _ = call(front, scope_for(ARTICLE))
    assert inner.paths == [] and status == 200 and body == stored.content
    for header in ("Content-Type", "Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
                   "Referrer-Policy", "ETag", "Last-Modified", "Cache-Control"):
        assert headers[header.lower()] == stored[header], header

    etag = headers["etag"].encode()
    assert call(front, scope_for(ARTICLE, headers=[(b"if-none-match", etag)]))[::2] == (304, b"")
    since = headers["last-modified"].encode()
    assert call(front, scope_for(ARTICLE, headers=[(b"if-modified-since", since)]))[0] == 304
    assert call(front, scope_for(ARTICLE, method="HEAD"))[::2] == (200, b"")
    assert inner.paths == []


@pytest.mark.django_db
@pytest.mark.parametrize("variation", [
    pytest.param({"headers": [(b"cookie", b"sessionid=abc")]}, id="a session"),
    pytest.param({"headers": [(b"cookie", b"messages=abc")]}, id="a notice"),
    pytest.param({"headers": [(b"x-forwarded-proto", b"https")]}, id="another scheme"),
    pytest.param({"query": b"page=2"}, id="a query string"),
    pytest.param({"method": "POST"}, id="a post"),
])
def test_other_requests_go_to_django(client, redis_page_cache, site, variation):
    client.get(ARTICLE)
    front = PublicPagesFront(inner := Recorder())
    assert call(front, scope_for(ARTICLE))[0] == 200
    assert call(front, scope_for(ARTICLE, **variation))[0] == 299
    assert inner.paths == [ARTICLE]


@pytest.mark.django_db
def test_another_host_goes_to_django(client, redis_page_cache, site):
    client.get(ARTICLE)
    front = PublicPagesFront(inner := Recorder())
    scope = scope_for(ARTICLE)
    scope["headers"] = [(b"host", b"evil.example")]
    assert call(front, scope)[0] == 299
    assert inner.paths == [ARTICLE]


@pytest.mark.django_db
def test_an_invalidated_page_goes_to_django(client, redis_page_cache, site):
    client.get(ARTICLE)
    front = PublicPagesFront(inner := Recorder())
    assert call(front, scope_for(ARTICLE))[0] == 200
    caching.invalidate_pages([ARTICLE])
    assert call(front, scope_for(ARTICLE))[0] == 299
    client.get(ARTICLE)  # Rendered and stored again.
    caching.invalidate_all()
    assert call(front, scope_for(ARTICLE))[0] == 299
    assert inner.paths == [ARTICLE, ARTICLE]


@pytest.mark.django_db
def test_without_redis_everything_goes_to_django(client, settings, site, event_loop_front):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.PUBLIC_PAGE_CACHE = True  # In the local-memory cache: the middleware answers hits.
    client.get(ARTICLE)
    front, inner, loop = event_loop_front  # On PostgreSQL the front looks for a stored page, then closes.
    assert call(front, scope_for(ARTICLE), loop=loop)[0] == 299
    assert inner.paths == [ARTICLE]


@pytest.mark.django_db(transaction=True)
def test_the_site_application_serves_django_then_the_stored_page(redis_page_cache, moderator):
    """The whole stack as gunicorn runs it: the first request renders, the second never reaches Django."""
    site_article = factories.article(moderator, title="MINUSMA", slug="minusma")
    factories.section(moderator, site_article, title="Mandate", anchor="mandate", body="The mission began in 2013.")
    django_app, seen = WSGIHandler(), []

    def counting(environ, start_response):
        seen.append(environ["PATH_INFO"])
        return django_app(environ, start_response)

    django_on_threads = WSGIOnThreads(counting, threads=1)
    application = PublicPagesFront(django_on_threads)
    first = call(application, scope_for(ARTICLE))
    second = call(application, scope_for(ARTICLE))
    django_on_threads.executor.submit(connections.close_all).result()  # The thread's own connection.
    assert first[0] == second[0] == 200
    assert b"The mission began in 2013." in first[2] and second[2] == first[2]
    assert seen == [ARTICLE]


def test_the_site_asgi_application_is_the_cache_front_over_django_on_threads():
    from mali_history.asgi import application

    assert isinstance(application, PublicPagesFront)
    assert isinstance(application.app, WSGIOnThreads)


# --- Article pages stored at publish time, read from PostgreSQL on the event loop -----------------


@pytest.fixture
def event_loop_front():
    """The front on one event loop for the whole test, its connections closed at the end."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    front = PublicPagesFront(inner := Recorder())
    yield front, inner, loop
    run_async(front.aclose(), loop)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


@pytest.mark.django_db(transaction=True)
def test_a_stored_article_page_is_answered_from_postgresql_as_django_sends_it(settings, moderator, client,
                                                                              event_loop_front):
    require_postgres()
    settings.SITE_URL = "http://testserver"  # Pages are stored for the site's address.
    front, inner, loop = event_loop_front
    article = factories.article(moderator, title="MINUSMA", slug="minusma")
    section = factories.section(moderator, article, title="Mandate", anchor="mandate", body="The mission began in 2013.")

    for path in (ARTICLE, "/fr" + ARTICLE):
        status, headers, body, _ = call(front, scope_for(path), loop=loop)
        assert status == 200 and inner.paths == []
        django = client.get(path)
        assert body == django.content
        for name in ("Content-Type", "Content-Security-Policy", "X-Frame-Options", "Referrer-Policy",
                     "Content-Language", "Content-Length"):
            assert headers[name.lower()] == django[name], name
    assert call(front, scope_for(ARTICLE, method="HEAD"), loop=loop)[::2] == (200, b"")

    moderation_publish(moderator, section, body="The mission was set up in 2013.")
    assert b"set up in 2013" in call(front, scope_for(ARTICLE), loop=loop)[2]

    for variation in ({"headers": [(b"cookie", b"sessionid=abc")]}, {"query": b"ref=feed"}, {"method": "POST"}):
        assert call(front, scope_for(ARTICLE, **variation), loop=loop)[0] == 299
    assert call(front, scope_for("/topics/"), loop=loop)[0] == 299  # Only article pages are stored.

    from articles import moderation
    from articles.models import RevisionAction

    moderation.publish_directly(obj=article, moderator=moderator, summary="Withdraw", action=RevisionAction.UNPUBLISH)
    assert call(front, scope_for(ARTICLE), loop=loop)[0] == 299


def moderation_publish(moderator, obj, **changes):
    from articles import moderation

    moderation.publish_directly(obj=obj, moderator=moderator, summary="Edit", data={**obj.snapshot(), **changes})


def test_with_redis_down_django_answers_and_the_failure_is_logged_once(redis_page_cache, monkeypatch, caplog):
    front = PublicPagesFront(inner := Recorder())
    # The front's own Redis client pointed at a port nobody listens on: Redis is down for it.
    monkeypatch.setattr(front, "_redis_client", lambda config: redis.asyncio.Redis.from_url("redis://127.0.0.1:1/0"))
    with caplog.at_level("WARNING", logger="articles.front"):
        statuses = [call(front, scope_for(ARTICLE))[0] for _ in range(3)]
    assert statuses == [299, 299, 299] and inner.paths == [ARTICLE] * 3
    assert [record.getMessage() for record in caplog.records] == ["The front could not answer; Django does."]
