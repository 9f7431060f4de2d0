"""Static publishing: the anonymous HTML of public pages, written where nginx can serve it.

With ``STATIC_PUBLISH_ROOT`` set, a publish first removes the baked files of the pages it
affects, so that nginx falls back to Django at once, and the background follow-up
(``articles.publishing.followups``) bakes them again; ``manage.py bake_site`` re-bakes them all.
A page at ``/articles/x/`` is written to ``<root>/articles/x/index.html``; nginx serves that file
to anonymous readers and falls back to Django for anything missing (see
``deploy/nginx.conf.example``). Pages are rendered through the whole Django stack as an anonymous
reader would get them, and each file is replaced atomically, so nginx never serves half a page.
Only directory-style paths (ending in ``/``) are baked; nginx never looks for anything else.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings

if TYPE_CHECKING:
    # Imported when used: the test framework is loaded only by the process that bakes.
    from django.test import Client

logger = logging.getLogger(__name__)

LOCK_NAME = ".bake.lock"  # nginx only ever asks for ".../index.html", so it never serves this.
INDEX = "index.html"


def enabled() -> bool:
    return bool(getattr(settings, "STATIC_PUBLISH_ROOT", ""))


def publish_root() -> Path:
    return Path(settings.STATIC_PUBLISH_ROOT)


def file_for(path: str, root: Path | None = None) -> Path | None:
    """Where the page at ``path`` is baked, or None for paths that are never baked."""
    root = root or publish_root()
    if not path.startswith("/") or not path.endswith("/") or "?" in path or "\\" in path:
        return None
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") or part.startswith(".") for part in parts):
        return None
    return root.joinpath(*parts, INDEX)


def write_atomically(target: Path, content: bytes) -> None:
    """Write to a temporary file beside ``target``, then rename it over ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; nginx runs as another user.
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def _bake_lock(root: Path):
    """One baker at a time, render and write together.

    Two publishes baking the same page could otherwise finish in the wrong order and leave the
    older render on disk. Under the lock, the last render starts after every other publish
    committed, so it shows them all.
    """
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_NAME, "a") as lock:
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


def _bake(client: Client, secure: bool, path: str, root: Path) -> bool:
    target = file_for(path, root)
    if target is None:
        return False
    response = client.get(path, secure=secure)
    if (
        response.status_code == 200
        and not response.streaming
        and response.get("Content-Type", "").startswith("text/html")
    ):
        write_atomically(target, response.content)
        return True
    # Gone, moved or broken: let nginx fall back to Django rather than serve an old copy.
    target.unlink(missing_ok=True)
    if response.status_code >= 500:
        logger.error("Could not bake %s: Django answered %s.", path, response.status_code)
    return False


def bake_pages(paths: Iterable[str]) -> int:
    """Re-bake ``paths``; return how many files were written."""
    root = publish_root()
    client, secure = site_client()
    written = 0
    with _bake_lock(root):
        for path in sorted(set(paths)):
            try:
                written += _bake(client, secure, path, root)
            except Exception:
                logger.exception("Could not bake %s; removing its file so Django serves it.", path)
                target = file_for(path, root)
                if target is not None:
                    target.unlink(missing_ok=True)
    return written


def remove_pages(paths: Iterable[str]) -> int:
    """Remove the baked files of ``paths`` (nginx then asks Django); return how many there were."""
    root = publish_root()
    removed = 0
    for path in set(paths):
        target = file_for(path, root) if path else None
        if target is not None and target.exists():
            target.unlink(missing_ok=True)
            removed += 1
    return removed


def bake_site(*, prune: bool = True, batch_size: int = 200) -> tuple[int, int]:
    """Bake every public page, in batches; remove baked files of pages that no longer exist.

    Returns (files written, files removed).
    """
    from articles.content import languages
    from articles.publishing import dependencies

    root = publish_root()
    written = 0
    wanted = set()
    batch = []
    for path in dependencies.every_page():
        batch.append(path)
        if len(batch) >= batch_size:
            paths = languages.in_every_language(batch)
            written += bake_pages(paths)
            wanted.update(file_for(p, root) for p in paths)
            batch = []
    paths = languages.in_every_language(batch)
    written += bake_pages(paths)
    wanted.update(file_for(p, root) for p in paths)
    removed = 0
    if prune:
        with _bake_lock(root):
            for dirpath, _dirnames, filenames in os.walk(root):
                if INDEX in filenames:
                    candidate = Path(dirpath) / INDEX
                    if candidate not in wanted:
                        candidate.unlink(missing_ok=True)
                        removed += 1
    return written, removed
