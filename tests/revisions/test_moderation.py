"""Moderation services: propose, amend, withdraw, approve, reject, revert, stale proposals, e-mail."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from articles.models import ModerationEvent, PublicationState, Revision, RevisionStatus, Section
from articles.revisions import merging, moderation
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_section(moderator):
    article = factories.article(moderator, title="Deployments", slug="deployments")
    return factories.section(moderator, article, title="Early years", anchor="early-years", body="Original text.")


def propose_body(section, author, body, summary="Fix a typo"):
    return moderation.propose(obj=section, author=author, summary=summary, data={**section.snapshot(), "body": body})


def public_text(client, section):
    return client.get(section.article.get_absolute_url()).content.decode()


def test_proposal_leaves_live_content_alone(client, editor, live_section):
    revision = propose_body(live_section, editor, "Proposed text.")

    assert revision.status == RevisionStatus.PENDING
    assert revision.base_id == live_section.live_revision_id
    live_section.refresh_from_db()
    assert live_section.body == "Original text."
    page = public_text(client, live_section)
    assert "Original text." in page and "Proposed text." not in page


def test_approval_publishes_and_moves_the_live_pointer(client, editor, moderator, live_section):
    revision = propose_body(live_section, editor, "Proposed text.")
    moderation.approve(revision=revision, moderator=moderator)

    live_section.refresh_from_db()
    revision.refresh_from_db()
    assert live_section.body == "Proposed text."
    assert live_section.live_revision_id == revision.pk
    assert revision.status == RevisionStatus.PUBLISHED and revision.decided_by == moderator
    assert "Proposed text." in public_text(client, live_section)


def test_editors_cannot_approve_and_anonymous_cannot_propose(editor, live_section):
    from django.contrib.auth.models import AnonymousUser

    revision = propose_body(live_section, editor, "Mine.")
    with pytest.raises(PermissionDenied):
        moderation.approve(revision=revision, moderator=editor)
    with pytest.raises(PermissionDenied):
        propose_body(live_section, AnonymousUser(), "Anonymous.")


def test_an_edit_summary_is_required(editor, live_section):
    with pytest.raises(ValidationError, match="edit summary"):
        propose_body(live_section, editor, "Text", summary="   ")
    assert not Revision.objects.filter(author=editor).exists()


def test_unknown_citation_key_is_refused_with_the_key_named(editor, live_section):
    with pytest.raises(ValidationError) as error:
        propose_body(live_section, editor, "Claim [@no-such-source].")
    assert "no-such-source" in str(error.value)


def test_rejection_needs_a_reason_and_tells_the_author(
    client, django_capture_on_commit_callbacks, run_tasks, editor, moderator, live_section
):
    revision = propose_body(live_section, editor, "Dubious text.")
    with pytest.raises(ValidationError):
        moderation.reject(revision=revision, moderator=moderator, reason="")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        moderation.reject(revision=revision, moderator=moderator, reason="Needs a source.")
    run_tasks()  # e-mail goes out in the background

    revision.refresh_from_db()
    assert revision.status == RevisionStatus.REJECTED
    assert revision.decision_note == "Needs a source."
    assert "Dubious text." not in public_text(client, live_section)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [editor.email]
    assert "Needs a source." in mail.outbox[0].body


def test_moderators_are_emailed_when_a_proposal_arrives(
    django_capture_on_commit_callbacks, run_tasks, editor, moderator, live_section
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        propose_body(live_section, editor, "New text.")
    run_tasks()
    assert [m.to for m in mail.outbox] == [[moderator.email]]
    assert "Fix a typo" in mail.outbox[0].body


def test_author_is_emailed_on_approval(django_capture_on_commit_callbacks, run_tasks, editor, moderator, live_section):
    revision = propose_body(live_section, editor, "New text.")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        moderation.approve(revision=revision, moderator=moderator)
    run_tasks()
    assert [m.to for m in mail.outbox] == [[editor.email]]
    assert "approved" in mail.outbox[0].body


def test_no_email_when_the_transaction_rolls_back(django_capture_on_commit_callbacks, editor, live_section):
    from django.db import transaction

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                propose_body(live_section, editor, "Rolled back.")
                raise RuntimeError
        except RuntimeError:
            pass
    assert mail.outbox == []
    assert not Revision.objects.filter(summary="Fix a typo").exists()


def test_withdraw_by_author_only(editor, moderator, live_section):
    other = factories.make_user("other-editor", group="Editor")
    revision = propose_body(live_section, editor, "Mine.")
    with pytest.raises(PermissionDenied):
        moderation.withdraw(revision=revision, user=other)
    moderation.withdraw(revision=revision, user=editor)
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.WITHDRAWN
    with pytest.raises(ValidationError):
        moderation.approve(revision=revision, moderator=moderator)


def test_amend_replaces_content_and_keeps_base(editor, moderator, live_section):
    revision = propose_body(live_section, editor, "First try.")
    base = revision.base_id
    moderation.amend(
        revision=revision,
        user=editor,
        data={**live_section.snapshot(), "body": "Second try."},
        summary="Better wording",
    )
    revision.refresh_from_db()
    assert revision.data["body"] == "Second try." and revision.base_id == base
    assert revision.summary == "Better wording"
    moderation.approve(revision=revision, moderator=moderator)
    live_section.refresh_from_db()
    assert live_section.body == "Second try."
    kinds = list(revision.events.order_by("at", "pk").values_list("kind", flat=True))
    assert kinds == ["proposed", "amended", "approved"]


def test_several_pending_proposals_and_a_stale_one_is_refused(editor, moderator, live_section):
    first = propose_body(live_section, editor, "First change.")
    second = propose_body(live_section, editor, "Second change.")
    moderation.approve(revision=first, moderator=moderator)

    assert merging.is_stale(second)
    with pytest.raises(merging.StaleRevisionError):
        moderation.approve(revision=second, moderator=moderator)
    live_section.refresh_from_db()
    assert live_section.body == "First change."
    second.refresh_from_db()
    assert second.status == RevisionStatus.PENDING


def test_stale_override_is_explicit(editor, moderator, live_section):
    first = propose_body(live_section, editor, "First change.")
    second = propose_body(live_section, editor, "Second change.")
    moderation.approve(revision=first, moderator=moderator)
    moderation.approve(revision=second, moderator=moderator, override_stale=True)
    live_section.refresh_from_db()
    assert live_section.body == "Second change."


def test_moderator_direct_publish_records_a_revision(moderator, live_section):
    before = Revision.objects.count()
    moderation.publish_directly(
        obj=live_section,
        moderator=moderator,
        summary="Direct",
        data={**live_section.snapshot(), "body": "Direct text."},
    )
    live_section.refresh_from_db()
    assert live_section.body == "Direct text."
    assert Revision.objects.count() == before + 1
    assert live_section.live_revision.events.filter(kind=ModerationEvent.Kind.PUBLISHED_DIRECTLY).exists()


def test_revert_publishes_a_new_revision_with_old_content(client, editor, moderator, live_section):
    original = live_section.live_revision
    revision = propose_body(live_section, editor, "Vandalised.")
    moderation.approve(revision=revision, moderator=moderator)

    reverted = moderation.revert(obj=live_section, to_revision=original, moderator=moderator)

    live_section.refresh_from_db()
    assert live_section.body == "Original text."
    assert reverted.pk not in (original.pk, revision.pk)
    assert reverted.reverted_from_id == original.pk
    assert Revision.objects.for_object(live_section).count() == 3  # nothing rewritten
    assert "Original text." in public_text(client, live_section)


def test_delete_is_a_proposal_and_restore_brings_it_back(client, editor, moderator, live_section):
    url = live_section.article.get_absolute_url()
    before_delete = live_section.live_revision
    revision = moderation.propose(obj=live_section, author=editor, summary="Remove", action="delete")
    assert "Original text." in client.get(url).content.decode()

    moderation.approve(revision=revision, moderator=moderator)
    live_section.refresh_from_db()
    assert live_section.state == PublicationState.DELETED
    assert "Original text." not in client.get(url).content.decode()
    assert Section.objects.filter(pk=live_section.pk).exists()  # nothing is lost

    moderation.revert(obj=live_section, to_revision=before_delete, moderator=moderator)
    live_section.refresh_from_db()
    assert live_section.state == PublicationState.LIVE
    assert "Original text." in client.get(url).content.decode()


def test_a_cited_source_cannot_be_deleted(editor, moderator):
    source = factories.source(moderator, key="unsc-res-2100")
    article = factories.article(moderator, title="Cited", slug="cited")
    factories.section(moderator, article, title="Uses it", body="Fact [@unsc-res-2100].")
    with pytest.raises(ValidationError) as error:
        moderation.propose(obj=source, author=editor, summary="Remove", action="delete")
    assert "Uses it" in str(error.value)


def test_decided_revisions_cannot_be_decided_again(editor, moderator, live_section):
    revision = propose_body(live_section, editor, "Text.")
    moderation.reject(revision=revision, moderator=moderator, reason="No.")
    for attempt in (
        lambda: moderation.approve(revision=revision, moderator=moderator),
        lambda: moderation.amend(revision=revision, user=editor, data={}, summary="x"),
        lambda: moderation.withdraw(revision=revision, user=editor),
    ):
        with pytest.raises(ValidationError):
            attempt()


def test_publishing_a_source_change_updates_the_notes_of_articles_citing_it(client, editor, moderator):
    source = factories.source(moderator, key="sc-11453", title="Old title")
    article = factories.article(moderator, title="Notes", slug="notes")
    factories.section(moderator, article, body="Fact [@sc-11453].")
    assert "Old title" in client.get(article.get_absolute_url()).content.decode()

    revision = moderation.propose(
        obj=source, author=editor, summary="Title", data={**source.snapshot(), "title": "New title"}
    )
    assert "New title" not in client.get(article.get_absolute_url()).content.decode()
    moderation.approve(revision=revision, moderator=moderator)
    page = client.get(article.get_absolute_url()).content.decode()
    assert "New title" in page and "Old title" not in page


def test_a_section_citing_an_unpublished_source_cannot_be_published_before_it(editor, moderator):
    from articles.models import Source

    draft = Source(key="pending-source", title="Pending", state=PublicationState.DRAFT)
    draft.save()
    moderation.propose(obj=draft, author=editor, summary="New source", action="create")
    article = factories.article(moderator, title="Early", slug="early")
    section = factories.section(moderator, article, body="Plain.")
    revision = propose_body(section, editor, "Fact [@pending-source].")
    with pytest.raises(ValidationError, match="pending-source"):
        moderation.approve(revision=revision, moderator=moderator)
    section.refresh_from_db()
    assert section.body == "Plain."


def test_revisions_cannot_be_deleted(editor, live_section):
    revision = propose_body(live_section, editor, "Text.")
    with pytest.raises(PermissionDenied):
        revision.delete()
    assert Revision.objects.filter(pk=revision.pk).exists()
