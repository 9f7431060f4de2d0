"""Source and topic pages count an article's citations and tagged sections when it is published.

The counts (``Mention`` rows) must always be what the published sections say: after a section is
published, moved to another article, unpublished; after an article is retitled or withdrawn; and
the migration that counts an existing site and ``refresh_fragments`` must agree with publishing.
"""

import importlib
import io
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from articles.models import Mention, RevisionAction
from articles.publishing import mentions
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db


def counted():
    rows = Mention.objects.values_list(
        "article__slug", "article_title", "source__key", "topic__slug", "sections", "citations"
    )
    return sorted(rows, key=lambda row: tuple(value or "" if i in (2, 3) else value for i, value in enumerate(row)))


@pytest.fixture
def site(moderator):
    topic = factories.topic(moderator, name="Peacekeeping", slug="peacekeeping")
    source = factories.source(moderator, key="unsc-res-2100", title="Resolution 2100 (2013)")
    other = factories.source(moderator, key="au-communique", title="Communiqué")
    first = factories.article(moderator, title="Deployment", slug="deployment")
    second = factories.article(moderator, title="Withdrawal", slug="withdrawal")
    sections = [
        factories.section(
            moderator,
            first,
            title="Arrival",
            anchor="arrival",
            topics=[topic],
            body="In [@unsc-res-2100] twice [@unsc-res-2100].",
        ),
        factories.section(moderator, first, title="Bases", anchor="bases", position=1, body="See [@au-communique]."),
        factories.section(
            moderator, second, title="Exit", anchor="exit", topics=[topic], body="Cited [@unsc-res-2100]."
        ),
    ]
    return {"topic": topic, "source": source, "other": other, "articles": [first, second], "sections": sections}


def publish(moderator, obj, **changes):
    moderation.publish_directly(obj=obj, moderator=moderator, summary="Changed", data={**obj.snapshot(), **changes})


def test_publishing_counts_each_articles_citations_and_tagged_sections(site):
    assert counted() == [
        ("deployment", "Deployment", None, "peacekeeping", 1, 0),
        ("deployment", "Deployment", "au-communique", None, 1, 1),
        ("deployment", "Deployment", "unsc-res-2100", None, 1, 2),
        ("withdrawal", "Withdrawal", None, "peacekeeping", 1, 0),
        ("withdrawal", "Withdrawal", "unsc-res-2100", None, 1, 1),
    ]


def test_a_section_moved_to_another_article_leaves_the_first_and_counts_in_the_second(moderator, site):
    first, second = site["articles"]
    publish(moderator, site["sections"][0], article=second.pk, anchor="arrival", position=5)
    assert counted() == [
        ("deployment", "Deployment", "au-communique", None, 1, 1),
        ("withdrawal", "Withdrawal", None, "peacekeeping", 2, 0),
        ("withdrawal", "Withdrawal", "unsc-res-2100", None, 2, 3),
    ]


def test_unpublished_sections_and_withdrawn_articles_count_nothing(moderator, site):
    withdraw = {"moderator": moderator, "summary": "Withdrawn", "action": RevisionAction.UNPUBLISH}
    moderation.publish_directly(obj=site["sections"][1], **withdraw)
    moderation.publish_directly(obj=site["articles"][1], **withdraw)
    assert counted() == [
        ("deployment", "Deployment", None, "peacekeeping", 1, 0),
        ("deployment", "Deployment", "unsc-res-2100", None, 1, 2),
    ]


def test_a_retitled_article_is_listed_under_its_new_title(moderator, site):
    publish(moderator, site["articles"][0], title="Arrival of the mission")
    assert {row[1] for row in counted()} == {"Arrival of the mission", "Withdrawal"}
    assert [m.article.title for m in Mention.objects.of_source(site["source"]).in_title_order()] == [
        "Arrival of the mission",
        "Withdrawal",
    ]


def test_the_migration_and_refresh_fragments_count_what_publishing_counted(moderator, site):
    publish(moderator, site["sections"][2], body="Now [@au-communique] and [@unsc-res-2100].")
    expected = counted()
    migration = importlib.import_module("articles.migrations.0017_counted_mentions_and_list_indexes")
    Mention.objects.all().delete()
    with connection.cursor() as cursor:
        # The statement the migration runs, through the cursor (SQLite's schema editor cannot open
        # inside a test's transaction).
        migration.count_mentions(apps, SimpleNamespace(execute=cursor.execute))
    assert counted() == expected
    Mention.objects.all().delete()
    call_command("refresh_fragments", stdout=io.StringIO())
    assert counted() == expected


def test_a_refresh_costs_two_statements_whatever_the_article(moderator, site, django_assert_num_queries):
    with django_assert_num_queries(2):
        mentions.refresh([a.pk for a in site["articles"]])
    assert len(counted()) == 5
