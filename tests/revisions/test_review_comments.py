"""Comments on proposals: passages, threads, resolution, the trail, e-mail, and following amendments and merges."""

import io

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from PIL import Image

from articles.content import anchoring
from articles.models import ModerationEvent, ReviewComment
from articles.revisions import comments, moderation
from tests import factories
from tests.conftest import require_postgres

pytestmark = pytest.mark.django_db

TEXT = "The mission was set up in April 2013. Its mandate was renewed in June 2014. The mission left in 2023."


@pytest.fixture
def proposal(moderator, editor):
    article = factories.article(moderator, title="MINUSMA", slug="minusma")
    section = factories.section(moderator, article, title="Mandate", body="The mission was set up in 2013.")
    return moderation.propose(
        obj=section, author=editor, summary="More dates", data={**section.snapshot(), "body": TEXT}
    )


# --- Finding a passage again (articles.content.anchoring) ----------------------------------------


def test_a_quote_is_found_whatever_its_whitespace():
    found = anchoring.find("one two\n   three four", "two three")
    assert found.quote == "two\n   three"
    assert found.start == 4


def test_the_occurrence_with_the_same_surroundings_wins():
    text = "The mission left. Later, the mission left again."
    second = anchoring.find(text, "the mission left", prefix="Later, ", suffix=" again.")
    assert second.start == text.index("the mission left")
    assert anchoring.find(text, "mission left", near=30).start == text.rindex("mission left")


def test_a_quote_that_is_gone_is_not_found():
    assert anchoring.find("Nothing here.", "mandate") is None
    assert anchoring.find("Anything", "   ") is None


# --- Writing comments ----------------------------------------------------------------------------


def test_a_comment_on_a_passage_keeps_the_words_and_where_they_are(proposal, moderator):
    start = TEXT.index("renewed in June 2014")
    comment = comments.add_comment(
        revision=proposal,
        user=moderator,
        body="Which resolution?",
        field="body",
        quote="renewed in June 2014",
        start=start,
    )
    assert (comment.field, comment.quote, comment.start, comment.outdated) == (
        "body",
        "renewed in June 2014",
        start,
        False,
    )
    assert comment.prefix.endswith("Its mandate was ")
    assert comment.suffix.startswith(". The mission left")
    assert comment.author_name == "moderator"


def test_a_pasted_passage_is_found_without_a_position(proposal, editor):
    comment = comments.add_comment(revision=proposal, user=editor, body="Source?", field="body", quote="  April\n2013 ")
    assert comment.quote == "April 2013"
    assert comment.start == TEXT.index("April 2013")


def test_words_not_in_the_proposal_are_refused_and_nothing_is_saved(proposal, editor):
    with pytest.raises(ValidationError) as error:
        comments.add_comment(revision=proposal, user=editor, body="Hm", field="body", quote="in 1960")
    assert "not in the proposed “Text”" in " ".join(error.value.messages)
    assert not ReviewComment.objects.exists()
    assert not proposal.events.filter(kind=ModerationEvent.Kind.COMMENTED).exists()


def test_an_empty_comment_is_refused(proposal, editor):
    with pytest.raises(ValidationError):
        comments.add_comment(revision=proposal, user=editor, body="   ")
    assert not ReviewComment.objects.exists()


def test_someone_who_may_not_propose_may_not_comment(proposal):
    from django.contrib.auth.models import User

    reader = User.objects.create_user("reader", is_staff=True)
    with pytest.raises(PermissionDenied):
        comments.add_comment(revision=proposal, user=reader, body="Hello")


def test_replies_join_the_thread_of_the_comment_they_answer(proposal, editor, moderator):
    first = comments.add_comment(revision=proposal, user=moderator, body="Which resolution?")
    reply = comments.add_comment(revision=proposal, user=editor, body="2164.", parent=first)
    again = comments.add_comment(revision=proposal, user=moderator, body="Thanks.", parent=reply)
    assert reply.parent == first and again.parent == first
    threads = list(proposal.comments.threads())
    assert threads == [first]
    assert [r.body for r in threads[0].replies.all()] == ["2164.", "Thanks."]


def test_a_comment_is_part_of_the_trail(proposal, moderator, editor):
    comment = comments.add_comment(revision=proposal, user=moderator, body="Which resolution?")
    comments.resolve(comment=comment, user=editor)  # the proposal's author may resolve
    comments.reopen(comment=comment, user=moderator)
    kinds = list(proposal.events.order_by("pk").values_list("kind", "actor_name", "note"))[-3:]
    assert kinds == [
        ("commented", "moderator", "Which resolution?"),
        ("comment_resolved", "editor", "Which resolution?"),
        ("comment_reopened", "moderator", "Which resolution?"),
    ]
    comment.refresh_from_db()
    assert not comment.is_resolved


def test_only_the_writer_the_author_or_a_moderator_resolves(proposal, moderator):
    other = factories.make_user("other", group="Editor")
    comment = comments.add_comment(revision=proposal, user=moderator, body="Which resolution?")
    with pytest.raises(PermissionDenied):
        comments.resolve(comment=comment, user=other)
    comment.refresh_from_db()
    assert not comment.is_resolved


# --- Following the proposal ------------------------------------------------------------------


def test_an_amendment_moves_a_comment_with_its_words_and_outdates_one_whose_words_went(proposal, editor, moderator):
    kept = comments.add_comment(revision=proposal, user=moderator, body="Date?", field="body", quote="June 2014")
    gone = comments.add_comment(revision=proposal, user=moderator, body="When?", field="body", quote="left in 2023")
    moderation.amend(
        revision=proposal,
        user=editor,
        summary="More dates",
        data={**proposal.data, "body": "Founded by resolution 2100. " + TEXT.replace("The mission left in 2023.", "")},
    )
    kept.refresh_from_db()
    gone.refresh_from_db()
    proposal.refresh_from_db()
    assert not kept.outdated
    assert proposal.data["body"][kept.start : kept.start + len(kept.quote)] == "June 2014"
    assert kept.prefix.endswith("renewed in ")
    assert gone.outdated
    # The words come back: so does the comment.
    moderation.amend(revision=proposal, user=editor, summary="Back", data={**proposal.data, "body": TEXT})
    gone.refresh_from_db()
    assert not gone.outdated


def test_a_merge_with_newer_changes_keeps_the_comments_on_their_words(proposal, editor, moderator):
    section = proposal.get_object()
    comment = comments.add_comment(revision=proposal, user=moderator, body="Date?", field="body", quote="June 2014")
    # Someone else's change to the title is published first: the proposal is stale, and merges.
    moderation.publish_directly(
        obj=section, moderator=moderator, summary="Title", data={**section.snapshot(), "title": "The mandate"}
    )
    moderation.approve(revision=proposal, moderator=moderator, merge=True)
    comment.refresh_from_db()
    proposal.refresh_from_db()
    assert proposal.events.filter(kind=ModerationEvent.Kind.MERGED).exists()
    assert not comment.outdated
    assert proposal.data["body"][comment.start :].startswith("June 2014")


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), "navy").save(buffer, "PNG")
    return SimpleUploadedFile("map.png", buffer.getvalue(), "image/png")


@pytest.mark.parametrize(
    "kind,field,text",
    [
        ("article", "dek", "An introduction about the Sahel."),
        ("topic", "body", "A topic about the Sahel."),
        ("source", "title", "A report about the Sahel"),
        ("figure", "caption", "A map of the Sahel."),
        ("timelineevent", "text", "Fighting in the Sahel."),
    ],
)
def test_every_kind_of_content_takes_passage_comments(kind, field, text, moderator, editor):
    make = {
        "article": lambda: factories.article(moderator),
        "topic": lambda: factories.topic(moderator),
        "source": lambda: factories.source(moderator),
        "figure": lambda: factories.figure(moderator, _png()),
        "timelineevent": lambda: factories.timeline_event(moderator),
    }[kind]
    obj = make()
    revision = moderation.propose(obj=obj, author=editor, summary="Sahel", data={**obj.snapshot(), field: text})
    comment = comments.add_comment(
        revision=revision, user=moderator, body="Which part?", field=field, quote="the Sahel"
    )
    assert comment.start == text.index("the Sahel")
    moderation.amend(revision=revision, user=editor, summary="Mali", data={**revision.data, field: "Mali"})
    comment.refresh_from_db()
    assert comment.outdated


# --- E-mail ------------------------------------------------------------------------------------


def test_a_new_thread_tells_the_author_and_the_moderators_a_reply_tells_the_thread(
    proposal, editor, moderator, django_capture_on_commit_callbacks, run_tasks
):
    second = factories.make_user("second", group="Moderator")
    bystander = factories.make_user("bystander", group="Editor")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = comments.add_comment(
            revision=proposal, user=moderator, body="Which resolution?", field="body", quote="June 2014"
        )
    run_tasks()
    assert sorted(m.to[0] for m in mail.outbox) == [editor.email, second.email]
    assert "Which resolution?" in mail.outbox[0].body and "“June 2014”" in mail.outbox[0].body
    assert f"/admin/articles/revision/{proposal.pk}/change/#comment-{first.pk}" in mail.outbox[0].body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        comments.add_comment(revision=proposal, user=editor, body="Resolution 2164.", parent=first)
    run_tasks()
    assert [m.to for m in mail.outbox] == [[moderator.email]]
    assert bystander.email not in str([m.to for m in mail.outbox])


# --- Append-only -------------------------------------------------------------------------------


def _raw(sql, *params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_database_refuses_to_rewrite_what_was_said(proposal, moderator):
    comment = comments.add_comment(revision=proposal, user=moderator, body="Which resolution?")
    with pytest.raises(IntegrityError, match="append-only"):
        _raw("UPDATE articles_reviewcomment SET body = 'Something else' WHERE id = %s", comment.pk)
    # Resolving, and moving with the words, stay possible.
    comments.resolve(comment=comment, user=moderator)
    comment.refresh_from_db()
    assert comment.body == "Which resolution?" and comment.is_resolved


def test_the_database_refuses_to_delete_a_comment(proposal, moderator):
    require_postgres()
    comment = comments.add_comment(revision=proposal, user=moderator, body="Which resolution?")
    with pytest.raises(IntegrityError, match="append-only"):
        _raw("DELETE FROM articles_reviewcomment WHERE id = %s", comment.pk)
    assert ReviewComment.objects.filter(pk=comment.pk).exists()
