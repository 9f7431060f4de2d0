"""The editor → moderator → reader flow through the admin, as the test client sees it."""
import pytest

from articles import moderation
from articles.models import Revision, RevisionStatus

from . import factories
from .adminforms import admin_form_data

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
    revision = moderation.propose(obj=live_section, author=editor, summary="Wrong",
                                  data={**live_section.snapshot(), "body": "Wrong text."})
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
    revision = moderation.propose(obj=live_section, author=editor, summary="First",
                                  data={**live_section.snapshot(), "body": "First try."})
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
    moderation.publish_directly(obj=live_section, moderator=moderator, summary="Meanwhile",
                                data={**live_section.snapshot(), "body": "Newer text."})
    data = admin_form_data(old_form, body="Edit of the old text.", edit_summary="Late edit")
    client.post(section_url(live_section), data)  # … and saves after a newer publish.
    revision = Revision.objects.get(summary="Late edit")

    client.force_login(moderator)
    review = client.get(f"/admin/articles/revision/{revision.pk}/change/").content.decode()
    assert "This proposal is stale" in review and "Newer text." in review
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
    moderation.publish_directly(obj=live_section, moderator=moderator, summary="Second",
                                data={**live_section.snapshot(), "body": "Second text."})
    live_section.refresh_from_db()
    client.force_login(moderator)
    history = client.get(f"/admin/articles/section/{live_section.pk}/history/").content.decode()
    assert "Second" in history and "Revert to #%d" % first.pk in history
    compare = client.get(f"/admin/articles/section/{live_section.pk}/history/compare/",
                         {"a": first.pk, "b": live_section.live_revision_id}).content.decode()
    assert "<ins>Second</ins>" in compare and "<del>Original</del>" in compare

    client.post(f"/admin/articles/section/{live_section.pk}/revert/{first.pk}/")
    live_section.refresh_from_db()
    assert live_section.body == "Original text."
    assert Revision.objects.for_object(live_section).count() == 3


def test_editor_adds_a_section_that_stays_hidden_until_approved(client, editor, moderator, live_section):
    client.force_login(editor)
    form = client.get("/admin/articles/section/add/")
    data = admin_form_data(form, article=live_section.article_id, title="New part", anchor="new-part",
                           position=50, body="Brand new text.", edit_summary="Add a section")
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
    revision = moderation.propose(obj=live_section, author=editor, summary="Preview me",
                                  data={**live_section.snapshot(), "body": "Previewed text."})
    url = f"/articles/deployments/preview/{revision.pk}/"
    assert client.get(url).status_code == 404
    client.force_login(editor)
    response = client.get(url)
    assert response.status_code == 200 and "Previewed text." in response.content.decode()
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    client.logout()
    assert "Previewed text." not in client.get("/articles/deployments/").content.decode()


def test_edit_link_beside_each_section_leads_editors_to_its_form(client, editor, live_section):
    link = f'/admin/articles/section/{live_section.pk}/change/'
    assert link in client.get("/articles/deployments/").content.decode()
    response = client.get(link)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]  # readers cannot edit
    client.force_login(editor)
    assert client.get(link).status_code == 200
