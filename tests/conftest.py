import os
import shutil

import pytest
from django.conf import settings
from django.db import connection

from . import factories


@pytest.fixture(autouse=True)
def _isolated_media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Hashing strength is not under test; the default hasher costs a third of a second a user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    from django.core.cache import cache

    # The page cache is invalidated after commit, and most tests run in a transaction whose
    # on_commit callbacks never run: tests/test_caching.py turns it on where it is under test.
    settings.PUBLIC_PAGE_CACHE = False
    settings.STATIC_PUBLISH_ROOT = ""
    cache.clear()
    yield
    cache.clear()


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
