"""Static publishing: the anonymous HTML of public pages, written where nginx can serve it.

With a "baked" storage configured (``STORAGES``; ``DJANGO_STATIC_PUBLISH_ROOT`` gives a local
directory, ``DJANGO_BAKED_STORAGE`` any backend such as an S3 bucket shared by several machines),
a publish first removes the baked files of the pages it affects, so that nginx falls back to
Django at once, and the background follow-up (``articles.publishing.followups``) bakes them
again; ``manage.py bake_site`` re-bakes them all. A page at ``/articles/x/`` is stored as
``articles/x/index.html``; nginx serves that file to anonymous readers and falls back to Django
for anything missing (see ``deploy/nginx.conf.example``). Pages are rendered through the whole
Django stack as an anonymous reader would get them, and each file is replaced whole
(mali_history.storage), so nginx never serves half a page. Only directory-style paths (ending
in ``/``) are baked; nginx never looks for anything else.
"""

from __future__ import annotations

import fcntl
import logging
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import connection

if TYPE_CHECKING:
    # Imported when used: the test framework is loaded only by the process that bakes.
    from django.test import Client

logger = logging.getLogger(__name__)

BAKED = "baked"  # the storage's name in STORAGES
INDEX = "index.html"
# Any fixed number, the same in every process: the PostgreSQL advisory lock bakers share.
BAKE_LOCK_ID = 0x6D616C69


def enabled() -> bool:
    return BAKED in settings.STORAGES


def storage() -> Storage:
    return storages[BAKED]


def name_for(path: str) -> str | None:
    """The stored name of the page at ``path``, or None for paths that are never baked."""
    if not path.startswith("/") or not path.endswith("/") or "?" in path or "\\" in path:
        return None
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") or part.startswith(".") for part in parts):
        return None
    return "/".join([*parts, INDEX])


@contextmanager
def _bake_lock() -> Iterator[None]:
    """One baker at a time across every machine, render and write together.

    Two publishes baking the same page could otherwise finish in the wrong order and leave the
    older render behind. Under the lock, the last render starts after every other publish
    committed, so it shows them all. PostgreSQL's advisory lock is shared by every node; SQLite
    means one machine, where a lock file does.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [BAKE_LOCK_ID])
            try:
                yield
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [BAKE_LOCK_ID])
        return
    with open(Path(tempfile.gettempdir()) / f"mali-history-bake-{BAKE_LOCK_ID}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def site_client() -> tuple[Client, bool]:
    """A client that asks for pages as an anonymous reader at SITE_URL does; and whether over HTTPS.

    The test client runs the whole request through the middleware and URLconf, as a reader's
    request would; it needs nothing from the test framework, and leaves the database connection
    and any open transaction be.
    """
    from django.test import Client

    site = urlsplit(settings.SITE_URL)
    secure = site.scheme == "https" or getattr(settings, "SECURE_SSL_REDIRECT", False)
    client = Client(raise_request_exception=False, HTTP_HOST=site.netloc or "localhost")
    return client, secure


def _bake(client: Client, secure: bool, path: str, files: Storage) -> bool:
    name = name_for(path)
    if name is None:
        return False
    response = client.get(path, secure=secure)
    if (
        response.status_code == 200
        and not response.streaming
        and response.get("Content-Type", "").startswith("text/html")
    ):
        files.save(name, ContentFile(response.content))
        return True
    # Gone, moved or broken: let nginx fall back to Django rather than serve an old copy.
    files.delete(name)
    if response.status_code >= 500:
        logger.error("Could not bake %s: Django answered %s.", path, response.status_code)
    return False


def bake_pages(paths: Iterable[str]) -> int:
    """Re-bake ``paths``; return how many files were written."""
    files = storage()
    client, secure = site_client()
    written = 0
    with _bake_lock():
        for path in sorted(set(paths)):
            try:
                written += _bake(client, secure, path, files)
            except Exception:
                logger.exception("Could not bake %s; removing its file so Django serves it.", path)
                name = name_for(path)
                if name is not None:
                    files.delete(name)
    return written


def remove_pages(paths: Iterable[str]) -> int:
    """Remove the baked files of ``paths`` (nginx then asks Django); return how many there were."""
    files = storage()
    removed = 0
    for path in set(paths):
        name = name_for(path) if path else None
        if name is not None and files.exists(name):
            files.delete(name)
            removed += 1
    return removed


def _stored_pages(files: Storage, directory: str = "") -> Iterator[str]:
    """Every baked page's stored name, directory by directory (a listing, never the whole tree)."""
    try:
        directories, names = files.listdir(directory)
    except FileNotFoundError:
        return
    if INDEX in names:
        yield f"{directory}/{INDEX}" if directory else INDEX
    for sub in directories:
        yield from _stored_pages(files, f"{directory}/{sub}" if directory else sub)


def bake_site(*, prune: bool = True, batch_size: int = 200) -> tuple[int, int]:
    """Bake every public page, in batches; remove baked files of pages that no longer exist.

    Returns (files written, files removed).
    """
    from articles.content import languages
    from articles.publishing import dependencies

    written = 0
    wanted = set()
    batch = []
    for path in dependencies.every_page():
        batch.append(path)
        if len(batch) >= batch_size:
            paths = languages.in_every_language(batch)
            written += bake_pages(paths)
            wanted.update(name_for(p) for p in paths)
            batch = []
    paths = languages.in_every_language(batch)
    written += bake_pages(paths)
    wanted.update(name_for(p) for p in paths)
    removed = 0
    if prune:
        files = storage()
        with _bake_lock():
            for name in list(_stored_pages(files)):
                if name not in wanted:
                    files.delete(name)
                    removed += 1
    return written, removed
