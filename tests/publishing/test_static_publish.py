"""Static publishing: publishing writes the anonymous HTML of the pages it affects, atomically,
for nginx to serve; bake_site re-bakes everything."""

import io
import os
import shutil
import stat
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from articles.models import RevisionAction
from articles.publishing import baking
from articles.revisions import moderation
from mali_history import storage as storage_module
from tests import factories
from tests.conftest import bake_into

pytestmark = pytest.mark.django_db


@pytest.fixture
def baked(settings, tmp_path):
    settings.PUBLIC_PAGE_CACHE = True
    return bake_into(settings, tmp_path / "baked")


@pytest.fixture
def site(moderator):
    return factories.mandate_site(moderator)


def read(root, path):
    return (root / path.strip("/") / "index.html").read_text() if path != "/" else (root / "index.html").read_text()


def test_publishing_rewrites_the_baked_pages_it_affects(
    client, baked, moderator, site, run_tasks, django_capture_on_commit_callbacks
):
    call_command("bake_site", stdout=io.StringIO())
    assert "April 2013" in read(baked, "/articles/minusma/")
    with django_capture_on_commit_callbacks(execute=True):
        moderation.publish_directly(
            obj=site["section"],
            moderator=moderator,
            summary="Edit",
            data={
                **site["section"].snapshot(),
                "title": "Mandate of 2013",
                "body": "Resolution 2100 created MINUSMA [@unsc-res-2100].",
            },
        )
    # Once the publish commits, the stale files are gone (nginx asks Django), in every language...
    for path in (
        "/articles/minusma/",
        "/fr/articles/minusma/",
        "/topics/peacekeeping/",
        "/sources/unsc-res-2100/",
        "/",
    ):
        assert not (baked / path.strip("/") / "index.html").exists(), path
    assert (baked / "topics" / "index.html").exists()  # ...and only those.
    # ...and the worker bakes them again.
    run_tasks()
    assert "Resolution 2100 created MINUSMA" in read(baked, "/articles/minusma/")
    assert "Resolution 2100 created MINUSMA" in read(baked, "/topics/peacekeeping/")
    assert "Mandate of 2013" in read(baked, "/sources/unsc-res-2100/")
    # The baked file is exactly what an anonymous reader gets from Django.
    site_host = urlsplit(settings.SITE_URL).netloc
    assert (
        read(baked, "/articles/minusma/")
        == client.get("/articles/minusma/", headers={"host": site_host}).content.decode()
    )


def test_a_new_page_is_baked_and_a_deleted_one_removed(
    baked, moderator, site, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        article = factories.article(moderator, title="Operation Barkhane", slug="barkhane")
    run_tasks()
    assert "Operation Barkhane" in read(baked, "/articles/barkhane/")
    assert "Operation Barkhane" in read(baked, "/")
    with django_capture_on_commit_callbacks(execute=True):
        moderation.publish_directly(obj=article, moderator=moderator, summary="Remove", action=RevisionAction.DELETE)
    assert not (baked / "articles" / "barkhane" / "index.html").exists()
    run_tasks()
    assert not (baked / "articles" / "barkhane" / "index.html").exists()
    assert "Operation Barkhane" not in read(baked, "/")


def test_nothing_is_baked_when_static_publishing_is_off(
    settings, tmp_path, moderator, site, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        factories.article(moderator, title="Operation Barkhane", slug="barkhane")
    assert not any(tmp_path.glob("**/index.html"))


def test_files_are_written_to_a_temporary_file_then_renamed(baked, monkeypatch):
    target = baked / "articles" / "x" / "index.html"
    target.parent.mkdir(parents=True)
    target.write_text("old page")
    renames = []
    real_replace = os.replace

    def spy(src, dst):
        renames.append((src, dst))
        assert target.read_text() == "old page"  # Readers see the old page until the rename.
        real_replace(src, dst)

    monkeypatch.setattr(storage_module.os, "replace", spy)
    baking.storage().save("articles/x/index.html", ContentFile(b"new page"))
    [(src, dst)] = renames
    assert os.path.dirname(src) == str(target.parent) and Path(dst) == target  # Same filesystem: atomic.
    assert target.read_text() == "new page"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # nginx runs as another user.
    assert sorted(p.name for p in target.parent.iterdir()) == ["index.html"]


def test_a_failed_write_leaves_the_old_page_and_no_temporary_file(baked, monkeypatch):
    target = baked / "index.html"
    baked.mkdir()
    target.write_text("old page")

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(storage_module.os, "replace", broken)
    with pytest.raises(OSError):
        baking.storage().save("index.html", ContentFile(b"new page"))
    assert target.read_text() == "old page"
    assert [p.name for p in baked.iterdir()] == ["index.html"]


def test_bake_site_writes_every_public_page_and_prunes_stale_ones(baked, site):
    stale = baked / "articles" / "gone" / "index.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("an article that no longer exists")
    out = io.StringIO()
    call_command("bake_site", stdout=out)
    pages = {str(p.relative_to(baked)) for p in baked.glob("**/index.html")}
    assert pages >= {
        "articles/minusma/index.html",
        "index.html",
        "sources/index.html",
        "sources/unsc-res-2100/index.html",
        "topics/index.html",
        "topics/peacekeeping/index.html",
    }
    assert "articles/gone/index.html" not in pages
    assert "MINUSMA" in read(baked, "/")


def test_bake_site_refuses_when_static_publishing_is_off(settings):
    with pytest.raises(CommandError, match="DJANGO_STATIC_PUBLISH_ROOT"):
        call_command("bake_site")


@pytest.mark.parametrize("path", ["/../etc/", "/articles/../../x/", "/.hidden/", "/feed.xml", "/a?b=1/", "relative/"])
def test_paths_outside_the_root_or_not_pages_are_never_baked(path):
    assert baking.name_for(path) is None


def test_directory_paths_map_to_index_files():
    assert baking.name_for("/") == "index.html"
    assert baking.name_for("/articles/minusma/") == "articles/minusma/index.html"


@pytest.mark.parametrize("example_name", ["nginx.conf.example", "nginx-object-store.conf.example"])
def test_the_nginx_example_is_a_valid_configuration(tmp_path, example_name):
    """deploy/'s nginx examples, with their paths and certificate pointed at temporary files."""
    if not (shutil.which("nginx") and shutil.which("openssl")):
        if os.environ.get("CI"):
            pytest.fail("CI must check the nginx examples: install nginx-light and openssl (.ci/run does).")
        pytest.skip("nginx or openssl is not installed")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=test",
            "-days",
            "1",
            "-keyout",
            tmp_path / "key.pem",
            "-out",
            tmp_path / "cert.pem",
        ],
        check=True,
        capture_output=True,
    )
    example = (Path(__file__).resolve().parents[2] / "deploy" / example_name).read_text()
    site = (
        example.replace("/srv/mali-history", str(tmp_path))
        .replace("/etc/letsencrypt/live/history.example.org/fullchain.pem", str(tmp_path / "cert.pem"))
        .replace("/etc/letsencrypt/live/history.example.org/privkey.pem", str(tmp_path / "key.pem"))
        .replace("objects.internal", "127.0.0.1")
        .replace("10.0.0.11", "127.0.0.1")
        .replace("10.0.0.12", "127.0.0.2")
    )
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ include /etc/nginx/mime.types; include {tmp_path}/site.conf; }}\n"
    )
    result = subprocess.run(
        ["nginx", "-t", "-p", tmp_path, "-c", tmp_path / "nginx.conf"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr
