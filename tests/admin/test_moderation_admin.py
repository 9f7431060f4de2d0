"""The editor → moderator → reader flow through the admin, as the test client sees it."""

import pytest
from django.utils.html import strip_tags

from articles.models import Revision, RevisionStatus
from articles.revisions import moderation
from tests import factories
from tests.adminforms import admin_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_section(moderator):
    article = factories.article(moderator, title="Deployments", slug="deployments")
    return factories.section(moderator, article, title="Early years", anchor="early-years", body="Original text.")


def section_url(section):
    return f"/admin/articles/section/{section.pk}/change/"


def edit_section_in_admin(client, section, body, summary="Fix a typo", **extra):
    form = client.get(section_url(section))
    assert form.status_code == 200
    data = admin_form_data(form, body=body, edit_summary=summary, **extra)
    return client.post(section_url(section), data, follow=True)


def test_editor_proposes_moderator_approves_reader_sees(client, editor, moderator, live_section):
    client.force_login(editor)
    response = edit_section_in_admin(client, live_section, "Corrected text.")
    assert "Submitted for review" in response.content.decode()

    client.logout()
    assert "Original text." in client.get("/articles/deployments/").content.decode()

    client.force_login(moderator)
    queue = client.get("/admin/articles/revision/").content.decode()
    revision = Revision.objects.get(status=RevisionStatus.PENDING)
    assert "Fix a typo" in queue and revision.object_repr in queue
    review = client.get(f"/admin/articles/revision/{revision.pk}/change/").content.decode()
    assert "<del>Original</del>" in review or "<del>Original text.</del>" in review
    assert "<ins>Corrected</ins>" in review or "<ins>Corrected text.</ins>" in review
    assert "Approve and publish" in review and "Reject" in review

    response = client.post(f"/admin/articles/revision/{revision.pk}/approve/", follow=True)
    assert "Approved and published" in response.content.decode()
    client.logout()
    page = client.get("/articles/deployments/").content.decode()
    assert "Corrected text." in page and "Original text." not in page


def test_reject_through_the_review_page_needs_a_reason(client, editor, moderator, live_section):
    revision = moderation.propose(
        obj=live_section, author=editor, summary="Wrong", data={**live_section.snapshot(), "body": "Wrong text."}
    )
    client.force_login(moderator)
    response = client.post(f"/admin/articles/revision/{revision.pk}/reject/", {"reason": ""}, follow=True)
    assert "Give a reason" in response.content.decode()
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.PENDING

    client.post(f"/admin/articles/revision/{revision.pk}/reject/", {"reason": "Unsourced claim."})
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.REJECTED and revision.decision_note == "Unsourced claim."
    client.force_login(editor)
    history = client.get(f"/admin/articles/section/{live_section.pk}/history/").content.decode()
    assert "Unsourced claim." in history and "Rejected" in history


def test_editor_amends_then_withdraws_own_proposal(client, editor, live_section):
    revision = moderation.propose(
        obj=live_section, author=editor, summary="First", data={**live_section.snapshot(), "body": "First try."}
    )
    client.force_login(editor)
    amend_form = client.get(section_url(live_section) + f"?revision={revision.pk}")
    assert "First try." in amend_form.content.decode()
    data = admin_form_data(amend_form, body="Second try.", edit_summary="Second")
    client.post(section_url(live_section) + f"?revision={revision.pk}", data)
    revision.refresh_from_db()
    assert revision.data["body"] == "Second try." and revision.status == RevisionStatus.PENDING
    assert Revision.objects.filter(status=RevisionStatus.PENDING).count() == 1

    client.post(f"/admin/articles/revision/{revision.pk}/withdraw/")
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.WITHDRAWN


def test_stale_edit_from_an_old_form_is_refused_not_applied(client, editor, moderator, live_section):
    client.force_login(editor)
    old_form = client.get(section_url(live_section))  # the editor starts from revision 1 …
    moderation.publish_directly(
        obj=live_section,
        moderator=moderator,
        summary="Meanwhile",
        data={**live_section.snapshot(), "body": "Newer text."},
    )
    data = admin_form_data(old_form, body="Edit of the old text.", edit_summary="Late edit")
    client.post(section_url(live_section), data)  # … and saves after a newer publish.
    revision = Revision.objects.get(summary="Late edit")

    client.force_login(moderator)
    review = client.get(f"/admin/articles/revision/{revision.pk}/change/").content.decode()
    # The newer text is shown with what changed marked in it.
    assert "This proposal is stale" in review and "Newer text." in strip_tags(review)
    response = client.post(f"/admin/articles/revision/{revision.pk}/approve/", follow=True)
    assert "changed since this proposal was written" in response.content.decode()
    live_section.refresh_from_db()
    assert live_section.body == "Newer text."


def test_moderator_edit_can_publish_in_one_step(client, moderator, live_section):
    client.force_login(moderator)
    response = edit_section_in_admin(client, live_section, "Moderator text.", publish_now="on")
    assert "Published" in response.content.decode()
    live_section.refresh_from_db()
    assert live_section.body == "Moderator text."
    assert live_section.live_revision.author == moderator


def test_history_compare_and_revert_in_the_admin(client, editor, moderator, live_section):
    first = live_section.live_revision
    moderation.publish_directly(
        obj=live_section,
        moderator=moderator,
        summary="Second",
        data={**live_section.snapshot(), "body": "Second text."},
    )
    live_section.refresh_from_db()
    client.force_login(moderator)
    history = client.get(f"/admin/articles/section/{live_section.pk}/history/").content.decode()
    assert "Second" in history and "Revert to #%d" % first.pk in history
    compare = client.get(
        f"/admin/articles/section/{live_section.pk}/history/compare/",
        {"a": first.pk, "b": live_section.live_revision_id},
    ).content.decode()
    assert "<ins>Second</ins>" in compare and "<del>Original</del>" in compare

    client.post(f"/admin/articles/section/{live_section.pk}/revert/{first.pk}/")
    live_section.refresh_from_db()
    assert live_section.body == "Original text."
    assert Revision.objects.for_object(live_section).count() == 3


def test_editor_adds_a_section_that_stays_hidden_until_approved(client, editor, moderator, live_section):
    client.force_login(editor)
    form = client.get("/admin/articles/section/add/")
    data = admin_form_data(
        form,
        article=live_section.article_id,
        title="New part",
        anchor="new-part",
        position=50,
        body="Brand new text.",
        edit_summary="Add a section",
    )
    client.post("/admin/articles/section/add/", data)
    revision = Revision.objects.get(summary="Add a section")
    assert revision.action == "create"
    client.logout()
    assert "Brand new text." not in client.get("/articles/deployments/").content.decode()
    moderation.approve(revision=revision, moderator=moderator)
    assert "Brand new text." in client.get("/articles/deployments/").content.decode()


def test_deleting_in_the_admin_is_a_proposal(client, editor, moderator, live_section):
    client.force_login(editor)
    client.post(f"/admin/articles/section/{live_section.pk}/delete/", {"post": "yes", "edit_summary": "Duplicate"})
    live_section.refresh_from_db()
    assert live_section.state == "live"
    revision = Revision.objects.get(summary="Duplicate")
    assert revision.action == "delete"
    moderation.approve(revision=revision, moderator=moderator)
    client.logout()
    assert "Original text." not in client.get("/articles/deployments/").content.decode()


def test_preview_shows_the_proposal_to_staff_only_and_is_never_cached(client, editor, live_section):
    revision = moderation.propose(
        obj=live_section,
        author=editor,
        summary="Preview me",
        data={**live_section.snapshot(), "body": "Previewed text."},
    )
    url = f"/articles/deployments/preview/{revision.pk}/"
    assert client.get(url).status_code == 404
    client.force_login(editor)
    response = client.get(url)
    assert response.status_code == 200 and "Previewed text." in response.content.decode()
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    client.logout()
    assert "Previewed text." not in client.get("/articles/deployments/").content.decode()


def test_edit_link_beside_each_section_leads_signed_in_editors_to_its_form(client, editor, live_section):
    link = f"/admin/articles/section/{live_section.pk}/change/"
    page = client.get("/articles/deployments/").content.decode()
    assert link not in page and "Suggest a correction" in page  # readers get no Edit link
    response = client.get(link)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]  # readers cannot edit
    client.force_login(editor)
    assert (
        f'{link}?next=%2Farticles%2Fdeployments%2F%23early-years"'
        in client.get("/articles/deployments/").content.decode()
    )
    assert client.get(link).status_code == 200


def test_bulk_approve_publishes_all_or_nothing(client, editor, moderator, live_section):
    topic = factories.topic(moderator, name="MINUSMA", slug="minusma")
    good = moderation.propose(obj=topic, author=editor, summary="Good", data={**topic.snapshot(), "summary": "New."})
    stale = moderation.propose(
        obj=live_section, author=editor, summary="Stale", data={**live_section.snapshot(), "body": "Old base."}
    )
    moderation.publish_directly(
        obj=live_section, moderator=moderator, summary="Newer", data={**live_section.snapshot(), "body": "Newer text."}
    )
    client.force_login(moderator)
    response = client.post(
        "/admin/articles/revision/",
        {"action": "approve_selected", "_selected_action": [good.pk, stale.pk]},
        follow=True,
    )
    assert "Nothing was published" in response.content.decode()
    good.refresh_from_db(), stale.refresh_from_db()
    assert good.status == stale.status == RevisionStatus.PENDING


def test_bulk_approve_and_bulk_reject_from_the_queue(client, editor, moderator, live_section):
    topic = factories.topic(moderator, name="MINUSMA", slug="minusma")
    one = moderation.propose(
        obj=live_section, author=editor, summary="One", data={**live_section.snapshot(), "body": "Bulk text."}
    )
    two = moderation.propose(obj=topic, author=editor, summary="Two", data={**topic.snapshot(), "summary": "New."})
    three = moderation.propose(obj=topic, author=editor, summary="Three", data={**topic.snapshot(), "body": "x"})
    client.force_login(moderator)
    client.post("/admin/articles/revision/", {"action": "approve_selected", "_selected_action": [one.pk, two.pk]})
    one.refresh_from_db(), two.refresh_from_db()
    assert one.status == two.status == RevisionStatus.PUBLISHED
    live_section.refresh_from_db()
    assert live_section.body == "Bulk text."

    confirm = client.post("/admin/articles/revision/", {"action": "reject_selected", "_selected_action": [three.pk]})
    assert "Reason" in confirm.content.decode()
    three.refresh_from_db()
    assert three.status == RevisionStatus.PENDING  # nothing happens before a reason is given
    client.post(
        "/admin/articles/revision/",
        {"action": "reject_selected", "_selected_action": [three.pk], "reason": "Out of scope."},
    )
    three.refresh_from_db()
    assert three.status == RevisionStatus.REJECTED and three.decision_note == "Out of scope."


def test_editors_are_not_offered_bulk_moderation(client, editor, live_section):
    client.force_login(editor)
    page = client.get("/admin/articles/revision/").content.decode()
    assert "approve_selected" not in page and "reject_selected" not in page


def test_queue_lists_pending_oldest_first_with_filters(client, editor, moderator, live_section):
    other = factories.make_user("second-editor", group="Editor")
    first = moderation.propose(
        obj=live_section, author=editor, summary="Older one", data={**live_section.snapshot(), "body": "A."}
    )
    moderation.propose(
        obj=live_section, author=other, summary="Newer one", data={**live_section.snapshot(), "body": "B."}
    )
    decided = moderation.propose(
        obj=live_section, author=other, summary="Decided one", data={**live_section.snapshot(), "body": "C."}
    )
    moderation.reject(revision=decided, moderator=moderator, reason="No.")
    client.force_login(moderator)
    page = client.get("/admin/articles/revision/").content.decode()
    assert page.index("Older one") < page.index("Newer one")
    assert "Decided one" not in page
    mine = client.get("/admin/articles/revision/", {"author__id__exact": editor.pk}).content.decode()
    assert "Older one" in mine and "Newer one" not in mine
    by_kind = client.get("/admin/articles/revision/", {"kind": "topic"}).content.decode()
    assert "Older one" not in by_kind
    by_article = client.get(
        "/admin/articles/revision/", {"article__id__exact": live_section.article_id}
    ).content.decode()
    assert "Older one" in by_article
    assert first.pk


def test_no_public_page_shows_unapproved_text(client, editor, moderator, live_section):
    """Propose a change to every kind of content; no public page may show any of it."""
    source = factories.source(moderator, key="unsc-res-2100", title="Resolution 2100")
    topic = factories.topic(moderator, name="MINUSMA", slug="minusma", summary="The mission.")
    article = live_section.article
    moderation.publish_directly(
        obj=live_section,
        moderator=moderator,
        summary="Tag and cite",
        data={**live_section.snapshot(), "topics": [topic.pk], "body": "Original text [@unsc-res-2100]."},
    )
    live_section.refresh_from_db()
    secret = "UNAPPROVED-TEXT"
    moderation.propose(
        obj=live_section, author=editor, summary="s", data={**live_section.snapshot(), "title": secret, "body": secret}
    )
    moderation.propose(
        obj=article, author=editor, summary="a", data={**article.snapshot(), "title": secret, "dek": secret}
    )
    moderation.propose(
        obj=topic,
        author=editor,
        summary="t",
        data={**topic.snapshot(), "name": secret, "summary": secret, "body": secret},
    )
    moderation.propose(obj=source, author=editor, summary="src", data={**source.snapshot(), "title": secret})
    from articles.models import Section

    draft = Section(article=article, title=secret, anchor="secret", body=secret, state="draft")
    draft.save()
    moderation.propose(obj=draft, author=editor, summary="new", action="create")

    urls = ["/", article.get_absolute_url(), "/topics/", "/topics/minusma/", "/sources/", "/sources/unsc-res-2100/"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert secret not in response.content.decode(), url
