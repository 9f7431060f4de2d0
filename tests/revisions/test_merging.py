"""Three-way merging of stale proposals, conflict resolution, and scheduled publishing."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from articles.models import ModerationEvent, Revision, RevisionStatus, Section
from articles.revisions import merging, moderation
from tests import factories

pytestmark = pytest.mark.django_db

THREE_PARAGRAPHS = "First paragraph about 2013.\n\nSecond paragraph about 2014.\n\nThird paragraph about 2018.\n"


@pytest.fixture
def section(moderator):
    article = factories.article(moderator, title="Merging", slug="merging")
    return factories.section(moderator, article, title="Mandates", body=THREE_PARAGRAPHS)


def propose(section, author, body, summary="Edit"):
    return moderation.propose(obj=section, author=author, summary=summary, data={**section.snapshot(), "body": body})


def test_text_merge_of_different_lines_and_of_different_words_in_one_line():
    merged, conflicts = merging._merge_text("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n")
    assert merged == "A\nb\nC\n" and conflicts == []
    merged, conflicts = merging._merge_text(
        "The force was set up in 2014 by five states.\n",
        "The joint force was set up in 2014 by five states.\n",
        "The force was set up in 2014 by five Sahel states.\n",
    )
    assert merged == "The joint force was set up in 2014 by five Sahel states.\n" and conflicts == []


def test_text_merge_of_the_same_words_is_a_conflict():
    merged, conflicts = merging._merge_text(
        "Deployed in 2013.\n", "Deployed in July 2013.\n", "Deployed in June 2013.\n"
    )
    assert conflicts and conflicts[0].live.strip() == "July" and conflicts[0].proposed.strip() == "June"


def test_stale_proposals_on_different_paragraphs_merge_on_approval(client, editor, moderator, section):
    other = factories.make_user("second-editor", group="Editor")
    first = propose(section, editor, THREE_PARAGRAPHS.replace("First paragraph", "Opening paragraph"))
    second = propose(section, other, THREE_PARAGRAPHS.replace("Third paragraph", "Closing paragraph"))
    moderation.approve(revision=first, moderator=moderator)

    with pytest.raises(merging.StaleRevisionError):
        moderation.approve(revision=second, moderator=moderator)  # never silently
    preview = merging.merge_with_live(second)
    assert preview.is_clean and "Opening paragraph" in preview.data["body"]

    moderation.approve(revision=second, moderator=moderator, merge=True)
    section.refresh_from_db()
    assert "Opening paragraph" in section.body and "Closing paragraph" in section.body
    second.refresh_from_db()
    assert second.original_data["body"].startswith("First paragraph")  # the author's version is kept
    assert second.events.filter(kind=ModerationEvent.Kind.MERGED).exists()
    page = client.get(section.article.get_absolute_url()).content.decode()
    assert "Opening paragraph" in page and "Closing paragraph" in page


def test_overlapping_edits_are_a_conflict_and_nothing_is_published(editor, moderator, section):
    first = propose(section, editor, THREE_PARAGRAPHS.replace("about 2014", "about July 2014"))
    second = propose(section, editor, THREE_PARAGRAPHS.replace("about 2014", "about June 2014"))
    moderation.approve(revision=first, moderator=moderator)
    with pytest.raises(merging.MergeConflictError):
        moderation.approve(revision=second, moderator=moderator, merge=True)
    section.refresh_from_db()
    assert "July 2014" in section.body and "<<<<<<<" not in section.body
    assert Revision.objects.get(pk=second.pk).status == RevisionStatus.PENDING


def test_resolution_with_markers_left_in_is_refused(editor, moderator, section):
    first = propose(section, editor, THREE_PARAGRAPHS.replace("about 2014", "about July 2014"))
    second = propose(section, editor, THREE_PARAGRAPHS.replace("about 2014", "about June 2014"))
    moderation.approve(revision=first, moderator=moderator)
    marked = merging.merge_with_live(second).conflicts[0].marked_text()
    assert "<<<<<<< published" in marked and ">>>>>>> proposal" in marked
    with pytest.raises(ValidationError, match="conflict markers"):
        merging.resolve_conflicts(revision=second, user=editor, resolutions={"body": marked})

    resolved = THREE_PARAGRAPHS.replace("about 2014", "about mid-2014")
    merging.resolve_conflicts(revision=second, user=editor, resolutions={"body": resolved})
    second.refresh_from_db()
    assert not merging.is_stale(second)
    moderation.approve(revision=second, moderator=moderator)
    section.refresh_from_db()
    assert section.body == resolved


def test_conflict_view_and_resolution_through_the_admin(client, editor, moderator, section):
    first = propose(section, editor, THREE_PARAGRAPHS.replace("about 2014", "about July 2014"))
    second = propose(section, editor, THREE_PARAGRAPHS.replace("about 2014", "about June 2014"))
    moderation.approve(revision=first, moderator=moderator)
    client.force_login(moderator)
    page = client.get(f"/admin/articles/revision/{second.pk}/change/").content.decode()
    assert "Conflict" in page and "Published since" in page and "This proposal" in page
    assert "approve-button" not in page  # no approving until it is resolved
    resolved = THREE_PARAGRAPHS.replace("about 2014", "about mid-2014")
    client.post(f"/admin/articles/revision/{second.pk}/resolve/", {"resolve_body": resolved})
    page = client.get(f"/admin/articles/revision/{second.pk}/change/").content.decode()
    assert "approve-button" in page
    client.post(f"/admin/articles/revision/{second.pk}/approve/")
    section.refresh_from_db()
    assert section.body == resolved


def test_clean_merge_is_shown_before_confirming_in_the_admin(client, editor, moderator, section):
    first = propose(section, editor, THREE_PARAGRAPHS.replace("First paragraph", "Opening paragraph"))
    second = propose(section, editor, THREE_PARAGRAPHS.replace("Third paragraph", "Closing paragraph"))
    moderation.approve(revision=first, moderator=moderator)
    client.force_login(moderator)
    page = client.get(f"/admin/articles/revision/{second.pk}/change/").content.decode()
    assert "Merged result" in page and "Approve the merged version" in page
    client.post(f"/admin/articles/revision/{second.pk}/approve/", {"merge": "True"})
    section.refresh_from_db()
    assert "Opening paragraph" in section.body and "Closing paragraph" in section.body


def test_non_text_fields_take_one_sided_changes_and_conflict_on_two():
    base = {"title": "T", "position": 1, "topics": [1]}
    result = merging.merge_snapshots(Section, base, {**base, "position": 2}, {**base, "topics": [1, 2]})
    assert result.is_clean and result.data["position"] == 2 and result.data["topics"] == [1, 2]
    result = merging.merge_snapshots(Section, base, {**base, "position": 2}, {**base, "position": 3})
    assert [f.name for f in result.conflicts] == ["position"]


def test_scheduled_publishing_waits_until_due_and_runs_once(client, editor, moderator, section):
    revision = propose(section, editor, "Scheduled text.")
    later = timezone.now() + datetime.timedelta(hours=2)
    moderation.approve(revision=revision, moderator=moderator, publish_at=later)
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.SCHEDULED and revision.scheduled_for == later

    assert moderation.publish_due() == []  # not yet due
    assert "Scheduled text." not in client.get(section.article.get_absolute_url()).content.decode()
    client.force_login(moderator)
    queue = client.get("/admin/articles/revision/", {"status": "scheduled"}).content.decode()
    assert revision.object_repr in queue
    client.logout()

    import io

    out = io.StringIO()
    call_command("publish_scheduled", stdout=io.StringIO())  # still not due: nothing happens
    moderation_results = moderation.publish_due(now=later + datetime.timedelta(minutes=1))
    assert [outcome for _, outcome in moderation_results] == ["published"]
    assert moderation.publish_due(now=later + datetime.timedelta(minutes=2)) == []  # idempotent
    call_command("publish_scheduled", stdout=out)
    assert "0 published" in out.getvalue()
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.PUBLISHED
    assert "Scheduled text." in client.get(section.article.get_absolute_url()).content.decode()


def test_a_scheduled_proposal_that_conflicts_returns_to_the_queue(editor, moderator, section):
    scheduled = propose(section, editor, THREE_PARAGRAPHS.replace("about 2014", "about June 2014"))
    moderation.approve(revision=scheduled, moderator=moderator, publish_at=timezone.now() + datetime.timedelta(hours=1))
    moderation.publish_directly(
        obj=section,
        moderator=moderator,
        summary="Meanwhile",
        data={**section.snapshot(), "body": THREE_PARAGRAPHS.replace("about 2014", "about July 2014")},
    )
    results = moderation.publish_due(now=timezone.now() + datetime.timedelta(hours=2))
    assert results and results[0][1] != "published"
    scheduled.refresh_from_db()
    assert scheduled.status == RevisionStatus.PENDING
    assert scheduled.events.filter(kind=ModerationEvent.Kind.SCHEDULE_FAILED).exists()
    section.refresh_from_db()
    assert "July 2014" in section.body
