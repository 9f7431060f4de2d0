"""The timeline: dated, moderated events on /timeline/, on topic pages and embedded in sections."""

import re
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from articles.content import markup
from articles.models import PublicationState, Revision, RevisionAction, Section, TimelineEvent
from articles.publishing import dependencies
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db

TIMELINE = "/timeline/"


def page(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def titles_in_order(html: str) -> list[str]:
    return re.findall(r'class="timeline-title">([^<]+)<', html)


@pytest.fixture
def minusma(moderator):
    factories.source(moderator, key="unsc-res-2100", title="Resolution 2100 (2013)")
    return factories.topic(moderator, name="MINUSMA", slug="minusma")


# --- Dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "date, shown, iso",
    [
        ((2013, None, None), "2013", "2013"),
        ((2013, 4, None), "April 2013", "2013-04"),
        ((2013, 4, 25), "April 25, 2013", "2013-04-25"),
        ((1960, 9, 22), "September 22, 1960", "1960-09-22"),
    ],
)
def test_dates_show_only_the_precision_known(date, shown, iso):
    event = TimelineEvent(title="x", date_year=date[0], date_month=date[1], date_day=date[2])
    assert event.date_display == shown
    assert event.date_iso == iso


def test_year_only_dates_sort_before_the_dated_events_of_their_year(client, moderator):
    for title, (year, month, day) in {
        "July 2013, 1st": (2013, 7, 1),
        "Some time in 2013": (2013, None, None),
        "April 2013": (2013, 4, None),
        "End of 2012": (2012, 12, 31),
        "25 April 2013": (2013, 4, 25),
        "2014": (2014, None, None),
    }.items():
        factories.timeline_event(moderator, title=title, date_year=year, date_month=month, date_day=day)
    expected = ["End of 2012", "Some time in 2013", "April 2013", "25 April 2013", "July 2013, 1st", "2014"]
    assert [e.title for e in TimelineEvent.objects.published()] == expected
    assert titles_in_order(page(client.get(TIMELINE))) == expected


def test_a_day_needs_a_month_and_must_exist(moderator):
    with pytest.raises(ValidationError, match="day needs a month"):
        TimelineEvent(title="x", date_year=2013, date_day=4).full_clean()
    with pytest.raises(ValidationError, match="does not exist"):
        TimelineEvent(title="x", date_year=2013, date_month=2, date_day=30).full_clean()
    with pytest.raises(ValidationError):
        TimelineEvent(title="x", date_year=2013, date_month=13).full_clean()


@pytest.mark.parametrize("fields", [{"date_day": 4}, {"date_month": 13}, {"date_month": 2, "date_day": 32}])
def test_the_database_refuses_impossible_dates(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        TimelineEvent.objects.create(title="x", date_year=2013, **fields)


# --- The timeline page ------------------------------------------------------------------------


def test_timeline_page_is_an_ordered_list_with_time_elements_and_year_markers(client, moderator, minusma):
    factories.timeline_event(
        moderator,
        topics=[minusma],
        title="MINUSMA created",
        date_year=2013,
        date_month=4,
        date_day=25,
        text="The Security Council creates the mission.[@unsc-res-2100]",
    )
    factories.timeline_event(moderator, title="Deployment", date_year=2013, date_month=7)
    factories.timeline_event(moderator, title="Independence", date_year=1960)
    html = page(client.get(reverse("articles:timeline")))
    assert '<ol class="timeline">' in html
    assert '<time class="timeline-date" datetime="2013-04-25">April 25, 2013</time>' in html
    assert '<time class="timeline-date" datetime="2013-07">July 2013</time>' in html
    assert '<time class="timeline-date" datetime="1960">1960</time>' in html
    assert re.findall(r'<h2 class="timeline-year-label">(\d+)</h2>', html) == ["1960", "2013"]
    assert html.index("Independence") < html.index("MINUSMA created") < html.index("Deployment")
    # Topics link to their pages; citations link to the source and are listed under the text.
    assert f'href="{minusma.get_absolute_url()}">MINUSMA</a>' in html
    assert 'href="/sources/unsc-res-2100/" class="citation-ref"' in html
    assert '<ol class="timeline-sources"' in html and "Resolution 2100 (2013)</a>" in html
    assert 'style="' not in html  # the CSP forbids inline styles
    assert 'aria-current="page">Timeline</a>' in html


def test_timeline_page_with_no_events(client, db):
    assert "No events have been published yet" in page(client.get(TIMELINE))


def test_timeline_page_queries_do_not_grow_with_events(client, moderator, minusma, django_assert_max_num_queries):
    for year in range(2000, 2012):
        factories.timeline_event(moderator, topics=[minusma], date_year=year)
    with django_assert_max_num_queries(4):
        page(client.get(TIMELINE))


def test_the_public_pages_do_no_markdown_work(client, moderator, minusma, monkeypatch):
    factories.timeline_event(moderator, topics=[minusma], title="Created", text="With *emphasis*.[@unsc-res-2100]")

    def refuse(*args, **kwargs):
        raise AssertionError("Markdown rendered on a public request")

    monkeypatch.setattr(markup, "render_markdown", refuse)
    assert "<em>emphasis</em>" in page(client.get(TIMELINE))
    assert "<em>emphasis</em>" in page(client.get(minusma.get_absolute_url()))


# --- Moderated like everything else -----------------------------------------------------------


def test_an_editors_new_event_is_not_shown_until_approved(editor_client, client, moderator, minusma, editor):
    response = editor_client.post(
        reverse("admin:articles_timelineevent_add"),
        {
            "title": "Mandate extended",
            "text": "Resolution 2164 extends the mandate.",
            "topics": [minusma.pk],
            "date_year": "2014",
            "date_month": "6",
            "date_day": "25",
            "edit_summary": "Add the 2014 extension",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = TimelineEvent.objects.get(title="Mandate extended")
    assert event.state == PublicationState.DRAFT
    revision = Revision.objects.for_object(event).pending().get()
    assert revision.action == RevisionAction.CREATE and revision.author == editor
    assert revision.data["topics"] == [minusma.pk]

    client.logout()
    assert "Mandate extended" not in page(client.get(TIMELINE))
    assert "Mandate extended" not in page(client.get(minusma.get_absolute_url()))

    moderation.approve(revision=revision, moderator=moderator)
    assert "Mandate extended" in page(client.get(TIMELINE))
    assert "Mandate extended" in page(client.get(minusma.get_absolute_url()))


def test_editors_and_moderators_may_propose_events(editor, moderator):
    for user in (editor, moderator):
        assert all(user.has_perm(f"articles.{action}_timelineevent") for action in ("add", "change", "delete", "view"))


def test_the_permissions_migration_reverses(db):
    migration = import_module("articles.migrations.0008_timeline_event_permissions")
    factories.ensure_groups()
    editors = Group.objects.get(name="Editor")
    migration.revoke(apps, None)
    assert not editors.permissions.filter(codename__endswith="_timelineevent").exists()
    assert editors.permissions.filter(codename="change_section").exists(), "other permissions are kept"
    migration.grant(apps, None)
    assert set(editors.permissions.filter(codename__endswith="_timelineevent").values_list("codename", flat=True)) == {
        p.codename for p in Permission.objects.filter(codename__endswith="_timelineevent")
    }


def test_unknown_citation_key_is_refused(moderator):
    event = TimelineEvent(title="x", date_year=2013, text="Claimed.[@no-such-source]")
    event.save()
    with pytest.raises(ValidationError, match="no-such-source"):
        moderation.publish_directly(obj=event, moderator=moderator, summary="Add", action="create")


def test_event_text_is_rendered_and_its_sources_recorded_at_publish(moderator, minusma):
    event = factories.timeline_event(moderator, text="Created.[@unsc-res-2100, para. 7]")
    assert list(event.cited_sources.values_list("key", flat=True)) == ["unsc-res-2100"]
    assert 'href="/sources/unsc-res-2100/" class="citation-ref"' in event.text_html
    assert 'href="#note-' not in event.text_html, "no links to notes the page does not have"
    assert "Resolution 2100 (2013)</a>, para. 7</li>" in event.text_html


def test_a_source_cited_by_an_event_cannot_be_deleted(moderator, minusma):
    factories.timeline_event(moderator, title="Created", text="Created.[@unsc-res-2100]")
    source = factories.Source.objects.get(key="unsc-res-2100")
    with pytest.raises(ValidationError, match="timeline events"):
        moderation.publish_directly(obj=source, moderator=moderator, summary="Remove", action="delete")


def test_a_renamed_source_is_shown_renamed_on_the_timeline(client, moderator, minusma):
    factories.timeline_event(moderator, title="Created", text="Created.[@unsc-res-2100]")
    source = factories.Source.objects.get(key="unsc-res-2100")
    moderation.publish_directly(
        obj=source,
        moderator=moderator,
        summary="Full title",
        data={**source.snapshot(), "title": "Security Council resolution 2100"},
    )
    assert "Security Council resolution 2100</a>" in page(client.get(TIMELINE))


def test_admin_changelist_search_and_add_open(moderator_client, moderator, minusma):
    factories.timeline_event(moderator, topics=[minusma], title="MINUSMA created", date_year=2013)
    changelist = moderator_client.get(reverse("admin:articles_timelineevent_changelist"), {"q": "MINUSMA"})
    assert changelist.status_code == 200 and changelist.context["cl"].result_count == 1
    assert (
        moderator_client.get(
            reverse("admin:articles_timelineevent_changelist"), {"topics__id__exact": minusma.pk, "state": "live"}
        ).status_code
        == 200
    )
    assert moderator_client.get(reverse("admin:articles_timelineevent_add")).status_code == 200
    queue = moderator_client.get(
        reverse("admin:articles_revision_changelist"), {"kind": "timelineevent", "status": "all"}
    )
    assert queue.status_code == 200 and queue.context["cl"].result_count == 1


# --- Topic pages ------------------------------------------------------------------------------


def test_topic_page_shows_its_events_only(client, moderator, minusma):
    other = factories.topic(moderator, name="G5 Sahel", slug="g5-sahel")
    factories.timeline_event(moderator, topics=[minusma], title="MINUSMA created", date_year=2013, date_month=4)
    factories.timeline_event(moderator, topics=[other], title="G5 Sahel founded", date_year=2014)
    html = page(client.get(minusma.get_absolute_url()))
    assert 'id="timeline-title">Timeline</h2>' in html
    assert '<time class="timeline-date" datetime="2013-04">April 2013</time>' in html
    assert "G5 Sahel founded" not in html
    assert "MINUSMA created" not in page(client.get(other.get_absolute_url()))


# --- Embedding a topic's timeline in a section ------------------------------------------------


@pytest.fixture
def embedded(moderator, minusma):
    factories.timeline_event(
        moderator, topics=[minusma], title="MINUSMA created", date_year=2013, date_month=4, date_day=25
    )
    article = factories.article(moderator, title="Deployments", slug="deployments")
    section = factories.section(
        moderator,
        article,
        title="The mission",
        anchor="mission",
        body="Its life in dates:\n\n{{timeline:minusma}}\n\nAnd then it closed.",
    )
    return article, section


def test_the_directive_embeds_the_topic_timeline_in_the_section(client, embedded):
    article, section = embedded
    html = page(client.get(article.get_absolute_url()))
    assert "{{timeline" not in html
    assert '<figure class="timeline-embed">' in html
    assert 'Timeline: <a href="/topics/minusma/">MINUSMA</a>' in html
    assert '<time class="timeline-date" datetime="2013-04-25">April 25, 2013</time>' in html
    body = html[html.index('id="mission"') :]
    assert body.index("Its life in dates") < body.index("timeline-embed") < body.index("And then it closed")
    assert '<p class="timeline-title">MINUSMA created</p>' in html, "no headings inside the article's outline"


def test_publishing_an_event_of_the_topic_updates_the_article(client, moderator, minusma, embedded):
    article, section = embedded
    unrelated = factories.article(moderator, title="Elsewhere", slug="elsewhere")
    factories.section(moderator, unrelated, body="Nothing embedded.")
    before = Section.objects.get(pk=section.pk).body_html
    event = factories.timeline_event(
        moderator, topics=[minusma], title="Mandate ends", date_year=2023, date_month=6, date_day=30
    )
    assert "Mandate ends" in page(client.get(article.get_absolute_url()))
    # The article page puts the timeline in when it is read: publishing the event touched no section.
    assert Section.objects.get(pk=section.pk).body_html == before
    found = dependencies.appearances(event)
    assert {"/timeline/", "/topics/minusma/"} <= found.paths
    assert list(found.article_queryset()) == [article]

    # Taken off the topic: it leaves the embedded timeline too.
    moderation.publish_directly(
        obj=event, moderator=moderator, summary="Not this topic", data={**event.snapshot(), "topics": []}
    )
    assert "Mandate ends" not in page(client.get(article.get_absolute_url()))


def test_a_pending_event_does_not_reach_the_embedded_timeline(client, editor, moderator, minusma, embedded):
    article, _ = embedded
    event = TimelineEvent(title="Not yet", date_year=2015, state=PublicationState.DRAFT)
    event.save()
    event.topics.set([minusma])
    moderation.propose(obj=event, author=editor, summary="Add", action="create")
    factories.section(moderator, article, body="A later section.")  # re-renders the article
    assert "Not yet" not in page(client.get(article.get_absolute_url()))


def test_a_directive_naming_no_published_topic_is_refused(moderator):
    article = factories.article(moderator)
    section = Section(
        article=article, title="S", anchor="s", body="{{timeline:no-such-topic}}", state=PublicationState.DRAFT
    )
    section.save()
    with pytest.raises(ValidationError, match="no-such-topic"):
        moderation.publish_directly(obj=section, moderator=moderator, summary="Add", action="create")


def test_the_section_form_names_an_unknown_timeline(moderator_client, moderator):
    article = factories.article(moderator)
    response = moderator_client.post(
        reverse("admin:articles_section_add"),
        {
            "article": article.pk,
            "title": "S",
            "anchor": "s",
            "position": 1,
            "body": "{{timeline:no-such-topic}}",
            "edit_summary": "Add",
        },
    )
    assert response.status_code == 200
    assert "no-such-topic" in response.content.decode()


# --- Demo content -----------------------------------------------------------------------------


def test_the_demo_publishes_its_timeline_events(client, db):
    from django.core.management import call_command

    from articles.models import Article
    from articles.ops import demo

    call_command("load_demo", stdout=__import__("io").StringIO())
    events = list(TimelineEvent.objects.all())
    assert len(events) == len(demo.TIMELINE_EVENTS) >= 10
    for event in events:
        assert event.state == PublicationState.LIVE and event.live_revision.decided_by.username == "moderator"
        assert event.cited_sources.exists(), event
    html = page(client.get(TIMELINE))
    assert len(titles_in_order(html)) == len(events)
    assert html.index("G5 Sahel founded") < html.index("Mandate extended to June 2015") < html.index("2017")
    assert "Timeline</h2>" in page(client.get("/topics/minusma/"))
    # Published before the article: loading them recorded no extra article versions.
    assert not Article.objects.get().versions.filter(revision__content_type__model="timelineevent").exists()


def test_a_moderator_reviews_a_proposed_event_with_its_text_compared(moderator_client, editor, moderator, minusma):
    event = factories.timeline_event(moderator, title="Created", text="The Council acts.")
    revision = moderation.propose(
        obj=event,
        author=editor,
        summary="Say which resolution",
        data={**event.snapshot(), "text": "Resolution 2100 *creates* it."},
    )
    html = page(moderator_client.get(reverse("admin:articles_revision_change", args=[revision.pk])))
    assert "Say which resolution" in html
    # Rendered, as for sections, with the new words marked.
    assert re.search(
        r'<em><ins class="rendered-change"><span class="mh-sr-only">added: </span>creates</ins></em>', html
    )
