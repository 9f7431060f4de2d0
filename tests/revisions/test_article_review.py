"""Whole-article review: everything pending for an article, approved or rejected in one go."""

import pytest
from django.core.exceptions import ValidationError

from articles.models import PublicationState, Revision, RevisionStatus, Section, Source
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def article_with_proposals(editor, moderator):
    article = factories.article(moderator, title="Review all", slug="review-all")
    intro = factories.section(moderator, article, title="Intro", body="Intro text.")
    topic = factories.topic(moderator, name="ECOWAS", slug="ecowas")
    moderation.publish_directly(
        obj=intro, moderator=moderator, summary="Tag", data={**intro.snapshot(), "topics": [topic.pk]}
    )
    intro.refresh_from_db()
    source = Source(key="ecowas-66th-summit", title="Communiqué", state=PublicationState.DRAFT)
    source.save()
    new_source = moderation.propose(obj=source, author=editor, summary="New source", action="create")
    changed = moderation.propose(
        obj=intro,
        author=editor,
        summary="Cite it",
        data={**intro.snapshot(), "body": "Intro text [@ecowas-66th-summit]."},
    )
    topic_change = moderation.propose(
        obj=topic, author=editor, summary="Topic", data={**topic.snapshot(), "summary": "West African bloc."}
    )
    unrelated = factories.article(moderator, title="Other", slug="other")
    other = moderation.propose(
        obj=unrelated, author=editor, summary="Elsewhere", data={**unrelated.snapshot(), "title": "Other title"}
    )
    return {"article": article, "intro": intro, "proposals": [new_source, changed, topic_change], "other": other}


def test_the_review_lists_everything_that_changes_how_the_article_reads(client, moderator, article_with_proposals):
    client.force_login(moderator)
    page = client.get(f"/admin/articles/article/{article_with_proposals['article'].pk}/review/").content.decode()
    for summary in ("New source", "Cite it", "Topic"):
        assert summary in page
    assert "Elsewhere" not in page
    assert "<ins>[@ecowas-66th-summit].</ins>" in page or "[@ecowas-66th-summit]" in page


def test_approving_the_set_publishes_all_of_it_in_dependency_order(client, moderator, article_with_proposals):
    client.force_login(moderator)
    ids = [r.pk for r in article_with_proposals["proposals"]]
    client.post(
        f"/admin/articles/article/{article_with_proposals['article'].pk}/review/", {"approve": "1", "revision": ids}
    )
    assert set(Revision.objects.filter(pk__in=ids).values_list("status", flat=True)) == {RevisionStatus.PUBLISHED}
    page = client.get("/articles/review-all/").content.decode()
    assert "Communiqué" in page  # the note for the newly published source
    assert Revision.objects.get(pk=article_with_proposals["other"].pk).status == RevisionStatus.PENDING


def test_a_failure_in_the_middle_publishes_nothing(moderator, article_with_proposals, monkeypatch):
    from articles.publishing import publish

    real_apply = publish.apply_revision
    calls = []

    def failing_apply(revision, obj):
        calls.append(revision.pk)
        if len(calls) == 2:
            raise ValidationError("Simulated failure")
        return real_apply(revision, obj)

    monkeypatch.setattr(publish, "apply_revision", failing_apply)
    with pytest.raises(ValidationError, match="Nothing was published"):
        moderation.approve_many(revisions=article_with_proposals["proposals"], moderator=moderator)
    assert len(calls) == 2
    statuses = Revision.objects.filter(pk__in=[r.pk for r in article_with_proposals["proposals"]])
    assert set(statuses.values_list("status", flat=True)) == {RevisionStatus.PENDING}
    assert Source.objects.get(key="ecowas-66th-summit").state == PublicationState.DRAFT
    assert Section.objects.get(pk=article_with_proposals["intro"].pk).body == "Intro text."


def test_rejecting_part_of_the_set_with_one_reason(client, moderator, article_with_proposals):
    client.force_login(moderator)
    topic_change = article_with_proposals["proposals"][2]
    client.post(
        f"/admin/articles/article/{article_with_proposals['article'].pk}/review/",
        {"reject": "1", "revision": [topic_change.pk], "reason": "Keep the old summary."},
    )
    topic_change.refresh_from_db()
    assert topic_change.status == RevisionStatus.REJECTED and topic_change.decision_note == "Keep the old summary."
    assert Revision.objects.filter(pk=article_with_proposals["proposals"][0].pk, status="pending").exists()


def test_editors_can_look_but_not_approve(client, editor, article_with_proposals):
    client.force_login(editor)
    url = f"/admin/articles/article/{article_with_proposals['article'].pk}/review/"
    assert client.get(url).status_code == 200
    ids = [r.pk for r in article_with_proposals["proposals"]]
    assert client.post(url, {"approve": "1", "revision": ids}).status_code == 403
    assert not Revision.objects.filter(pk__in=ids, status="published").exists()


def test_unpublish_and_restore_from_the_changelist(client, editor, moderator):
    article = factories.article(moderator, title="States", slug="states")
    section = factories.section(moderator, article, title="Temporary", body="Visible text.")
    client.force_login(editor)
    client.post("/admin/articles/section/", {"action": "unpublish_selected", "_selected_action": [section.pk]})
    section.refresh_from_db()
    assert section.state == PublicationState.LIVE  # an editor only proposes it
    proposal = Revision.objects.get(action="unpublish")
    moderation.approve(revision=proposal, moderator=moderator)
    client.logout()
    assert "Visible text." not in client.get("/articles/states/").content.decode()

    client.force_login(moderator)
    client.post("/admin/articles/section/", {"action": "restore_selected", "_selected_action": [section.pk]})
    section.refresh_from_db()
    assert section.state == PublicationState.LIVE
    client.logout()
    assert "Visible text." in client.get("/articles/states/").content.decode()


def test_a_cited_source_cannot_be_unpublished_and_the_error_says_where(client, moderator):
    source = factories.source(moderator, key="sc-13400")
    article = factories.article(moderator, title="Cites", slug="cites")
    factories.section(moderator, article, title="Renewal", body="Extended [@sc-13400].")
    client.force_login(moderator)
    response = client.post(
        "/admin/articles/source/", {"action": "unpublish_selected", "_selected_action": [source.pk]}, follow=True
    )
    assert "still cited" in response.content.decode() and "Renewal" in response.content.decode()
    source.refresh_from_db()
    assert source.state == PublicationState.LIVE
