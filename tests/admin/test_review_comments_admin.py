"""The review page's conversation: comments without JavaScript, threads, resolving, and share links."""

import pytest

from articles.models import ModerationEvent, ReviewComment, ShareLink
from articles.revisions import comments, moderation, sharing
from tests import factories

pytestmark = pytest.mark.django_db

BODY = "The Council set up the mission in April 2013. It was renewed in June 2014."


@pytest.fixture
def proposal(moderator, editor):
    article = factories.article(moderator, title="MINUSMA", slug="minusma")
    section = factories.section(moderator, article, title="Mandate", body="The mission began in 2013.")
    return moderation.propose(obj=section, author=editor, summary="Dates", data={**section.snapshot(), "body": BODY})


def _review(proposal):
    return f"/admin/articles/revision/{proposal.pk}/change/"


def test_a_comment_on_a_pasted_passage_without_javascript(editor_client, proposal):
    response = editor_client.post(
        f"/admin/articles/revision/{proposal.pk}/comments/",
        {"field": "body", "quote": "renewed in\r\nJune 2014", "body": "Which resolution renewed it?"},
    )
    comment = ReviewComment.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#comment-{comment.pk}")
    assert (comment.field, comment.quote, comment.start) == ("body", "renewed in June 2014", BODY.index("renewed"))
    page = editor_client.get(_review(proposal)).content.decode()
    assert "Which resolution renewed it?" in page
    assert "<mark>renewed in June 2014</mark>" in page
    assert "On “Text”:" in page


def test_words_not_in_the_proposal_come_back_with_the_form_as_sent(editor_client, proposal):
    response = editor_client.post(
        f"/admin/articles/revision/{proposal.pk}/comments/",
        {"field": "body", "quote": "founded in 1960", "body": "Which resolution?"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "These words are not in the proposed “Text”" in page
    assert "Which resolution?</textarea>" in page and "founded in 1960</textarea>" in page
    assert not ReviewComment.objects.exists()


def test_a_whole_proposal_comment_a_reply_and_a_resolved_thread_folded(editor_client, proposal, moderator):
    first = comments.add_comment(revision=proposal, user=moderator, body="Add a source, please.")
    response = editor_client.post(
        f"/admin/articles/revision/{proposal.pk}/comments/", {"parent": first.pk, "body": "Done: resolution 2164."}
    )
    assert response.status_code == 302
    assert first.replies.get().body == "Done: resolution 2164."
    page = editor_client.get(_review(proposal)).content.decode()
    assert '<article class="comment-thread" id="comment-' in page
    # The proposal's author resolves it: the thread folds, with who resolved it.
    editor_client.post(f"/admin/articles/revision/{proposal.pk}/comments/{first.pk}/resolve/")
    page = editor_client.get(_review(proposal)).content.decode()
    assert f'<details class="comment-thread is-resolved" id="comment-{first.pk}">' in page
    assert "Resolved by editor" in page
    assert "Reopen" in page


def test_an_outdated_comment_says_so_on_the_review_page(editor_client, proposal, editor, moderator):
    comments.add_comment(revision=proposal, user=moderator, body="Date?", field="body", quote="June 2014")
    moderation.amend(revision=proposal, user=editor, summary="Dates", data={**proposal.data, "body": "Renewed later."})
    page = editor_client.get(_review(proposal)).content.decode()
    assert "Outdated" in page and "These words are no longer in the proposed “Text”" in page


def test_comments_work_on_a_decided_proposal_too(moderator_client, proposal, moderator):
    moderation.approve(revision=proposal, moderator=moderator)
    response = moderator_client.post(f"/admin/articles/revision/{proposal.pk}/comments/", {"body": "Published well."})
    assert response.status_code == 302
    assert proposal.comments.get().body == "Published well."


def test_an_editor_may_not_resolve_someone_elses_thread_on_someone_elses_proposal(client, proposal, moderator):
    other = factories.make_user("other", group="Editor")
    thread = comments.add_comment(revision=proposal, user=moderator, body="Source?")
    client.force_login(other)
    response = client.post(f"/admin/articles/revision/{proposal.pk}/comments/{thread.pk}/resolve/")
    assert response.status_code == 403
    thread.refresh_from_db()
    assert not thread.is_resolved


def test_a_moderator_makes_lists_and_revokes_a_share_link(moderator_client, proposal):
    response = moderator_client.post(
        f"/admin/articles/revision/{proposal.pk}/share/", {"label": "Prof. Diallo", "days": "7"}
    )
    assert response.status_code == 302 and response["Location"].endswith("#share-links")
    link = ShareLink.objects.get()
    assert link.label == "Prof. Diallo"
    page = moderator_client.get(_review(proposal)).content.decode()
    url = "http://testserver" + sharing.path_for(link)
    assert f'value="{url}"' in page
    assert "Prof. Diallo" in page and "Works until" in page
    response = moderator_client.post(
        f"/admin/articles/revision/share-links/{link.pk}/revoke/", {"next": _review(proposal)}
    )
    assert response["Location"] == _review(proposal)
    link.refresh_from_db()
    assert link.is_revoked
    assert proposal.events.filter(kind=ModerationEvent.Kind.SHARE_REVOKED).exists()
    assert "Revoked" in moderator_client.get(_review(proposal)).content.decode()


def test_revoking_never_sends_the_moderator_to_another_site(moderator_client, proposal, moderator):
    link = sharing.share(moderator=moderator, revisions=[proposal])
    response = moderator_client.post(
        f"/admin/articles/revision/share-links/{link.pk}/revoke/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == "/admin/articles/revision/"


def test_an_editor_sees_the_links_but_cannot_make_one(editor_client, proposal, moderator):
    sharing.share(moderator=moderator, revisions=[proposal], label="Prof. Diallo")
    page = editor_client.get(_review(proposal)).content.decode()
    assert "Prof. Diallo" in page
    assert "Make a share link" not in page and "Revoke" not in page
    assert editor_client.post(f"/admin/articles/revision/{proposal.pk}/share/", {"days": "7"}).status_code == 403
    assert ShareLink.objects.count() == 1


def test_the_article_review_page_shares_everything_pending(moderator_client, proposal):
    article = proposal.article
    page = moderator_client.get(f"/admin/articles/article/{article.pk}/review/").content.decode()
    assert "Make a share link" in page
    response = moderator_client.post(f"/admin/articles/revision/share-article/{article.pk}/", {"days": "14"})
    assert response["Location"].endswith(f"/admin/articles/article/{article.pk}/review/#share-links")
    link = ShareLink.objects.get()
    assert link.article == article and list(link.revisions.all()) == [proposal]
    assert (
        sharing.path_for(link) in moderator_client.get(f"/admin/articles/article/{article.pk}/review/").content.decode()
    )


def test_a_pasted_passage_finds_its_field_when_none_is_chosen(editor_client, proposal):
    editor_client.post(
        f"/admin/articles/revision/{proposal.pk}/comments/", {"field": "", "quote": "April 2013", "body": "Day?"}
    )
    comment = ReviewComment.objects.get()
    assert (comment.field, comment.start) == ("body", BODY.index("April 2013"))
