"""Citable links never break: an article, topic or source whose slug changed answers at its old
address with a permanent redirect to the current one, in both languages, permalinks included."""

import importlib
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import ArticleVersion, RetiredSlug, RevisionAction
from articles.revisions import moderation
from tests import factories
from tests.conftest import bake_into

pytestmark = pytest.mark.django_db


def rename(obj, editor, moderator, **changes):
    """An editor proposes the new slug, a moderator approves it: the path every change takes."""
    proposal = moderation.propose(obj=obj, author=editor, summary="New address", data={**obj.snapshot(), **changes})
    moderation.approve(revision=proposal, moderator=moderator)
    obj.refresh_from_db()
    return obj


def assert_redirects(client, old, new):
    response = client.get(old)
    assert response.status_code == 301, old
    assert response["Location"] == new, old
    assert client.get(new).status_code == 200, new


@pytest.fixture
def renamed(moderator, editor):
    """An article with two versions whose slug then changed; a source and topic it shows."""
    source = factories.source(moderator, key="unsc-res-2100", title="Resolution 2100 (2013)")
    topic = factories.topic(moderator, name="MINUSMA", slug="minusma")
    article = factories.article(moderator, title="Operation Serval", slug="serval")
    factories.section(moderator, article, topics=[topic], title="Mandate", body="In 2013 [@unsc-res-2100].")
    rename(article, editor, moderator, slug="operation-serval")
    return {"article": article, "topic": topic, "source": source}


def test_the_old_article_address_redirects_to_the_current_one_in_both_languages(client, renamed):
    assert renamed["article"].slug == "operation-serval"
    assert_redirects(client, "/articles/serval/", "/articles/operation-serval/")
    assert_redirects(client, "/fr/articles/serval/", "/fr/articles/operation-serval/")
    assert_redirects(client, "/articles/serval/history/", "/articles/operation-serval/history/")
    assert_redirects(
        client, "/fr/articles/serval/history/compare/?a=1&b=2", "/fr/articles/operation-serval/history/compare/?a=1&b=2"
    )


def test_old_permalinks_lead_to_the_same_version(client, renamed):
    article = renamed["article"]
    numbers = list(ArticleVersion.objects.for_article(article).values_list("number", flat=True))
    assert len(numbers) == 2  # the new address is no new version: readers read the same article
    for number in numbers:
        assert_redirects(
            client, f"/articles/serval/revisions/{number}/", f"/articles/operation-serval/revisions/{number}/"
        )
        assert_redirects(
            client, f"/fr/articles/serval/revisions/{number}/", f"/fr/articles/operation-serval/revisions/{number}/"
        )
    # The version frozen before the change is the one shown, as it was.
    html = client.get("/articles/serval/revisions/1/", follow=True).content.decode()
    assert "You are reading version 1 of this article" in html
    assert client.get(f"/articles/serval/revisions/{numbers[0] + 1}/", follow=True).status_code == 404


def test_old_topic_and_source_addresses_redirect(client, editor, moderator, renamed):
    rename(renamed["topic"], editor, moderator, slug="un-mission")
    rename(renamed["source"], editor, moderator, key="s-res-2100")
    assert_redirects(client, "/topics/minusma/", "/topics/un-mission/")
    assert_redirects(client, "/fr/topics/minusma/", "/fr/topics/un-mission/")
    assert_redirects(client, "/sources/unsc-res-2100/", "/sources/s-res-2100/")
    assert_redirects(client, "/fr/sources/unsc-res-2100/", "/fr/sources/s-res-2100/")


def test_every_old_address_leads_straight_to_the_current_one(client, editor, moderator, renamed):
    rename(renamed["article"], editor, moderator, slug="serval-2013")
    assert_redirects(client, "/articles/serval/", "/articles/serval-2013/")
    assert_redirects(client, "/articles/operation-serval/", "/articles/serval-2013/")
    # Taking back an old slug makes it the page again, and the others redirect to it.
    rename(renamed["article"], editor, moderator, slug="serval")
    assert client.get("/articles/serval/").status_code == 200
    assert_redirects(client, "/articles/serval-2013/", "/articles/serval/")
    assert_redirects(client, "/articles/operation-serval/", "/articles/serval/")
    assert list(RetiredSlug.objects.of(renamed["article"]).values_list("slug", flat=True)) == [
        "serval-2013",
        "operation-serval",
    ]


def test_a_slug_taken_by_another_object_serves_that_object(client, editor, moderator, renamed):
    other = factories.article(moderator, title="Serval, the other one", slug="serval")
    response = client.get("/articles/serval/")
    assert response.status_code == 200 and "Serval, the other one" in response.content.decode()
    # While the new holder is not published, nobody's page is there.
    moderation.publish_directly(obj=other, moderator=moderator, summary="Take down", action=RevisionAction.UNPUBLISH)
    assert client.get("/articles/serval/").status_code == 404
    # Once it gives the slug up in turn, the address leads to it, the last to have used it.
    moderation.publish_directly(obj=other, moderator=moderator, summary="Back", action=RevisionAction.RESTORE)
    other.refresh_from_db()
    rename(other, editor, moderator, slug="serval-other")
    assert_redirects(client, "/articles/serval/", "/articles/serval-other/")


def test_unknown_and_unpublished_addresses_stay_not_found(client, moderator, renamed):
    assert client.get("/articles/never-was/").status_code == 404
    assert client.get("/topics/never-was/").status_code == 404
    moderation.publish_directly(
        obj=renamed["article"], moderator=moderator, summary="Take down", action=RevisionAction.UNPUBLISH
    )
    assert client.get("/articles/serval/").status_code == 404
    assert client.get("/articles/serval/revisions/1/").status_code == 404


def test_a_rejected_or_pending_slug_change_keeps_the_address(client, editor, moderator):
    article = factories.article(moderator, slug="serval")
    pending = moderation.propose(
        obj=article, author=editor, summary="Rename", data={**article.snapshot(), "slug": "operation-serval"}
    )
    assert client.get("/articles/serval/").status_code == 200
    moderation.reject(revision=pending, moderator=moderator, reason="Keep it.")
    assert client.get("/articles/serval/").status_code == 200
    assert client.get("/articles/operation-serval/").status_code == 404
    assert not RetiredSlug.objects.exists()


def test_the_article_page_does_not_look_for_old_addresses(client, editor, moderator, renamed):
    """The redirect is looked up on the way to a 404 only: a page found costs the same queries."""
    topic, source = renamed["topic"], renamed["source"]
    plain = factories.article(moderator, slug="plain")
    factories.section(moderator, plain, topics=[topic], body="In 2013 [@unsc-res-2100].")
    counts = {}
    for path in ("/articles/plain/", "/articles/operation-serval/", "/fr/articles/operation-serval/"):
        client.get(path)  # content types and the like are cached after a first request
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        counts[path] = len(queries)
        assert not [q for q in queries if RetiredSlug._meta.db_table in q["sql"]], path
    assert len(set(counts.values())) == 1, counts
    for path in (topic.get_absolute_url(), source.get_absolute_url()):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        assert not [q for q in queries if RetiredSlug._meta.db_table in q["sql"]], path


def test_the_change_form_shows_the_old_addresses_read_only(client, editor, moderator, renamed):
    client.force_login(moderator)
    html = client.get(f"/admin/articles/article/{renamed['article'].pk}/change/").content.decode()
    assert "Old addresses" in html
    assert '<a href="/articles/serval/">/articles/serval/</a>' in html
    assert 'name="old_addresses"' not in html  # shown, not editable
    source = rename(renamed["source"], editor, moderator, key="s-res-2100")
    html = client.get(f"/admin/articles/source/{source.pk}/change/").content.decode()
    assert '<a href="/sources/unsc-res-2100/">/sources/unsc-res-2100/</a>' in html
    # In the French admin, the old address is still the one readers cited.
    html = client.get(
        f"/admin/articles/article/{renamed['article'].pk}/change/", HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert '<a href="/articles/serval/">/articles/serval/</a>' in html and "Anciennes adresses" in html
    # An object that never changed its slug has nothing to show.
    plain = factories.article(moderator, slug="plain")
    assert "old-addresses" not in client.get(f"/admin/articles/article/{plain.pk}/change/").content.decode()


def test_the_baked_page_at_the_old_address_is_removed(
    settings, tmp_path, client, editor, moderator, run_tasks, django_capture_on_commit_callbacks
):
    """nginx serves baked files before asking Django: the old address must not keep the old page."""
    baked = bake_into(settings, tmp_path / "baked")
    article = factories.article(moderator, title="Operation Serval", slug="serval")
    call_command("bake_site", stdout=io.StringIO())
    old_files = [baked / "articles" / "serval" / "index.html", baked / "fr" / "articles" / "serval" / "index.html"]
    assert all(path.exists() for path in old_files)
    with django_capture_on_commit_callbacks(execute=True):
        rename(article, editor, moderator, slug="operation-serval")
    assert not any(path.exists() for path in old_files)
    run_tasks()
    assert not any(path.exists() for path in old_files)  # not baked again: Django answers with a redirect
    assert "Operation Serval" in (baked / "fr" / "articles" / "operation-serval" / "index.html").read_text()
    call_command("bake_site", stdout=io.StringIO())
    assert not any(path.exists() for path in old_files)


def test_slugs_changed_before_old_addresses_were_kept_are_found_in_the_history(client, editor, moderator, renamed):
    rename(renamed["topic"], editor, moderator, slug="un-mission")
    expected = set(RetiredSlug.objects.values_list("content_type", "object_id", "slug"))
    assert len(expected) == 2
    RetiredSlug.objects.all().delete()
    migration = importlib.import_module("articles.migrations.0014_retired_slugs")
    migration.retire_slugs_from_history(apps, None)
    assert set(RetiredSlug.objects.values_list("content_type", "object_id", "slug")) == expected
    assert_redirects(client, "/articles/serval/", "/articles/operation-serval/")
