import os
import shutil

import pytest
from django.conf import settings
from django.db import connection

from tests import factories


@pytest.fixture(autouse=True)
def _isolated_media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private_media"
    settings.STORAGES = {
        **settings.STORAGES,
        "private_media": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(settings.PRIVATE_MEDIA_ROOT)},
        },
    }
    # Hashing strength is not under test; the default hasher costs a third of a second a user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    from django.core.cache import cache

    # The page cache is invalidated after commit, and most tests run in a transaction whose
    # on_commit callbacks never run: tests/publishing/test_caching.py turns it on where it is under test.
    settings.PUBLIC_PAGE_CACHE = False
    settings.STORAGES = {name: conf for name, conf in settings.STORAGES.items() if name != "baked"}
    cache.clear()
    yield
    cache.clear()


def bake_into(settings, directory):
    """Turn static publishing on, into ``directory`` (the "baked" storage as DJANGO_STATIC_PUBLISH_ROOT sets it)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "baked": {
            "BACKEND": "mali_history.storage.AtomicFileSystemStorage",
            "OPTIONS": {"location": str(directory), "base_url": None},
        },
    }
    return directory


@pytest.fixture(autouse=True)
def _default_language():
    # LocaleMiddleware leaves the language of the last page asked for (/fr/...) active in this
    # thread; a later test's reverse() would then give French addresses.
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def editor(db):
    return factories.make_user("editor", group="Editor")


@pytest.fixture
def moderator(db):
    return factories.make_user("moderator", group="Moderator")


@pytest.fixture
def superuser(db):
    return factories.make_user("root", superuser=True)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def run_worker():
    """Run every ready background task now, in this process, as `manage.py db_worker --batch` does.

    ``run_worker()`` returns how many tasks it ran, failed ones included; tasks that tasks enqueue
    run too, and deferred ones (run_after in the future) wait. The worker commits as it goes, and
    on PostgreSQL it would close the connection of a test run inside a transaction: mark the test
    ``@pytest.mark.django_db(transaction=True)``.
    """
    import logging
    import signal

    from django.core.management import call_command
    from django.db import connection
    from django.utils.crypto import get_random_string
    from django_tasks_db.models import DBTaskResult

    def run(queue_name="*"):
        if connection.in_atomic_block:
            pytest.fail("run_worker needs @pytest.mark.django_db(transaction=True)")
        worker_id = f"pytest-{get_random_string(16)}"
        # db_worker takes over SIGINT/SIGTERM/SIGQUIT and sets its loggers' levels; put them back.
        signals = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGQUIT", None)) if s]
        handlers = {s: signal.getsignal(s) for s in signals}
        loggers = [logging.getLogger(name) for name in ("django.tasks", "django_tasks_db")]
        levels = [logger.level for logger in loggers]
        try:
            call_command(
                "db_worker",
                batch=True,
                interval=0,
                startup_delay=False,
                reload=False,
                queue_name=queue_name,
                worker_id=worker_id,
                verbosity=1,
            )
        finally:
            for s, handler in handlers.items():
                signal.signal(s, handler)
            for logger, level in zip(loggers, levels, strict=False):
                logger.setLevel(level)
        claimed = DBTaskResult.objects.filter(started_at__isnull=False).values_list("worker_ids", flat=True)
        return sum(worker_id in ids for ids in claimed)

    return run


def require_postgres():
    """PostgreSQL-only tests run in the PostgreSQL pass (DATABASE_URL set) and skip in the SQLite one.

    CI runs both passes; there, a DATABASE_URL that does not lead to PostgreSQL is an error rather
    than a reason to skip.
    """
    if connection.vendor != "postgresql":
        if os.environ.get("CI") and os.environ.get("DATABASE_URL"):
            pytest.fail("DATABASE_URL is set but is not PostgreSQL: these tests need PostgreSQL.")
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL (CI's second pass)")


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: install Debian's chromium.")
        pytest.skip("Debian's chromium is not installed")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def run_tasks():
    """Run the queued background tasks that are ready, in this test's transaction; return their results.

    For tests that cannot commit (most of them): the tasks run as the worker would run them,
    without the worker's own claiming, which needs committed rows (see ``run_worker``).
    """
    from django_tasks_db.models import DBTaskResult

    def run():
        results = []
        while True:
            task_result = DBTaskResult.objects.ready().order_by("-priority", "enqueued_at").first()
            if task_result is None:
                return results
            task = task_result.task
            args, kwargs = task_result.args_kwargs["args"], task_result.args_kwargs["kwargs"]
            try:
                value = task.call(*args, **kwargs)
                task_result.set_successful(value)
                results.append(value)
            except Exception as error:
                task_result.set_failed(error)
                results.append(error)

    return run


@pytest.fixture
def shared_redis_cache(settings):
    """The cache as several app processes share it: Redis database 15, under a prefix of this test's own.

    Test runs clear (FLUSHDB) the database they use; database 15 with a fresh prefix keeps another
    run's keys and this one's apart. Returns ``start(script, *args)``: a Python process running
    ``script`` with Django set up on the same cache, as another app process would be.
    """
    import subprocess
    import sys
    import uuid
    from pathlib import Path

    url = "redis://127.0.0.1:6379/15"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:  # noqa: BLE001
        if os.environ.get("CI"):
            pytest.fail("CI must run this test against Redis on 127.0.0.1:6379.")
        pytest.skip("needs Redis on 127.0.0.1:6379")
    prefix = f"shared-cache-test-{uuid.uuid4().hex}"
    settings.CACHES = {"default": {"BACKEND": "mali_history.cache.RedisCache", "LOCATION": url, "KEY_PREFIX": prefix}}
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "REDIS_URL": url,
        "DJANGO_CACHE_PREFIX": prefix,
        "DJANGO_SETTINGS_MODULE": "mali_history.settings",
        "PYTHONPATH": str(root),
    }
    env.pop("DATABASE_URL", None)

    def start(script: str, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", script, *args], env=env, cwd=root, stdout=subprocess.PIPE, text=True
        )

    return start


@pytest.fixture(scope="session", autouse=True)
def _live_server_one_request_at_a_time():
    """On SQLite the live server's threads share the test database's one connection (an in-memory
    database cannot be opened twice): two requests at once, such as a page's script and its
    heartbeat, could read each other's results. There it answers one request at a time, closing
    each connection; PostgreSQL gives each thread a connection of its own and keeps the threads.
    """
    if connection.vendor != "sqlite":
        yield
        return
    from django.core.servers.basehttp import WSGIServer
    from django.test.testcases import LiveServerThread

    class OneRequestAtATime(WSGIServer):
        request_queue_size = 64  # A browser opens several connections at once: let them wait, not fail.

        def __init__(self, *args, connections_override=None, **kwargs):
            super().__init__(*args, **kwargs)

    threaded = LiveServerThread.server_class
    LiveServerThread.server_class = OneRequestAtATime
    yield
    LiveServerThread.server_class = threaded
