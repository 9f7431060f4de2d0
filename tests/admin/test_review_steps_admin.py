"""Review steps in the admin: the review page, the queue's step column and filter, bulk approval, setting up."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType

from articles.models import Revision, RevisionStatus, Section, Workflow
from articles.revisions import moderation, step_decisions
from tests import factories

pytestmark = pytest.mark.django_db

QUEUE = "/admin/articles/revision/"


@pytest.fixture
def live_section(moderator):
    article = factories.article(moderator, title="Deployments", slug="deployments")
    return factories.section(moderator, article, title="Early years", anchor="early-years", body="Original text.")


@pytest.fixture
def checker(db):
    """A fact-checker who neither proposes nor moderates: the group is all they have."""
    user = factories.make_user("checker")
    user.groups.add(Group.objects.create(name="Fact-checkers"))
    return user


@pytest.fixture
def two_steps(checker, moderator):
    return factories.two_step_workflow()


def propose(section, author, body="Proposed text."):
    return moderation.propose(
        obj=section, author=author, summary="Fix the date", data={**section.snapshot(), "body": body}
    )


def test_the_review_page_names_the_step_and_approving_it_passes_it_on(client, editor, checker, live_section, two_steps):
    fact_check, publish = two_steps
    revision = propose(live_section, editor)
    client.force_login(checker)
    page = client.get(revision.get_admin_url()).content.decode()
    assert "Fact-check — step 1 of 2, decided by Fact-checkers" in page
    assert "Approve “Fact-check”" in page and "Approve and publish" not in page
    response = client.post(
        f"/admin/articles/revision/{revision.pk}/approve/", {"seen_step": fact_check.pk}, follow=True
    )
    assert "Step approved. It now waits for “Copy-edit and publish”." in response.content.decode()
    revision.refresh_from_db()
    assert revision.review_step == publish and revision.status == RevisionStatus.PENDING
    assert Section.objects.get(pk=live_section.pk).body == "Original text."
    # The step is the moderators' now: the fact-checker sees no decision buttons, and a POST is refused.
    page = client.get(revision.get_admin_url()).content.decode()
    assert 'id="approve-button"' not in page and 'id="request-changes-button"' not in page
    assert client.post(f"/admin/articles/revision/{revision.pk}/approve/").status_code == 403


def test_the_queue_shows_each_step_and_filters_to_mine(client, editor, checker, superuser, live_section, two_steps):
    at_fact_check = propose(live_section, editor, "First.")
    at_publish = propose(live_section, editor, "Second.")
    moderation.approve(revision=at_publish, moderator=superuser)
    client.force_login(checker)
    page = client.get(QUEUE).content.decode()
    assert "Fact-check (Fact-checkers)" in page and "Copy-edit and publish (Moderator)" in page
    mine = client.get(QUEUE + "?step=mine")
    assert [r.pk for r in mine.context["cl"].result_list] == [at_fact_check.pk]
    assert "Waiting for my step" in mine.content.decode()


def test_without_a_workflow_the_queue_has_no_step_column(moderator_client, editor, live_section):
    propose(live_section, editor)
    page = moderator_client.get(QUEUE).content.decode()
    assert "Waiting for my step" not in page and "column-step_display" not in page


def test_requesting_changes_needs_a_message_and_the_author_sees_it(client, editor, moderator, live_section):
    revision = propose(live_section, editor)
    client.force_login(moderator)
    url = f"/admin/articles/revision/{revision.pk}/request-changes/"
    response = client.post(url, {"message": "  "}, follow=True)
    assert "Say what should change" in response.content.decode()
    assert Revision.objects.get(pk=revision.pk).status == RevisionStatus.PENDING
    client.post(url, {"message": "Cite the resolution for the date.", "seen_step": ""})
    assert Revision.objects.get(pk=revision.pk).status == RevisionStatus.RETURNED

    client.force_login(editor)
    index = client.get("/admin/").content.decode()
    assert "Sent back to you for changes" in index and "Cite the resolution for the date." in index
    page = client.get(revision.get_admin_url()).content.decode()
    assert "Cite the resolution for the date." in page and "Resubmit for review" in page
    # Amending through the change form keeps it with the author until resubmitted.
    form = client.get(f"/admin/articles/section/{live_section.pk}/change/?revision={revision.pk}")
    assert form.status_code == 200
    client.post(f"/admin/articles/revision/{revision.pk}/resubmit/")
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.PENDING and revision.decision_note == ""


def test_bulk_approval_in_the_queue_passes_one_step(client, editor, superuser, live_section, two_steps):
    revision = propose(live_section, editor)
    client.force_login(superuser)
    response = client.post(
        QUEUE, {"action": "approve_selected", ACTION_CHECKBOX_NAME: [revision.pk], "index": 0}, follow=True
    )
    assert "1 proposal passed on to its next step." in response.content.decode()
    assert Section.objects.get(pk=live_section.pk).body == "Original text."


def test_bulk_rejection_by_an_outsider_rejects_nothing(client, editor, moderator, live_section, two_steps):
    revision = propose(live_section, editor)
    client.force_login(moderator)
    response = client.post(
        QUEUE,
        {"action": "reject_selected", ACTION_CHECKBOX_NAME: [revision.pk], "index": 0, "reason": "No."},
        follow=True,
    )
    assert "Nothing was rejected" in response.content.decode()
    assert Revision.objects.get(pk=revision.pk).status == RevisionStatus.PENDING


def test_publish_now_is_offered_only_to_who_takes_every_step(moderator_client, live_section, two_steps):
    form = moderator_client.get(f"/admin/articles/section/{live_section.pk}/change/").content.decode()
    assert 'name="publish_now"' not in form
    article_form = moderator_client.get(f"/admin/articles/article/{live_section.article_id}/change/").content.decode()
    assert 'name="publish_now"' in article_form  # articles have no workflow


def test_a_superuser_sets_up_a_workflow_in_the_admin(client, superuser, moderator):
    client.force_login(superuser)
    form = client.get("/admin/articles/workflow/add/").content.decode()
    assert ">Section<" in form and "articles | section" not in form
    fact_checkers = Group.objects.create(name="Fact-checkers")
    response = client.post(
        "/admin/articles/workflow/add/",
        {
            "name": "Fact-checked",
            "description": "",
            "steps-TOTAL_FORMS": 2,
            "steps-INITIAL_FORMS": 0,
            "steps-0-position": 1,
            "steps-0-name": "Fact-check",
            "steps-0-group": fact_checkers.pk,
            "steps-1-position": 2,
            "steps-1-name": "Copy-edit and publish",
            "steps-1-group": Group.objects.get(name="Moderator").pk,
            "assignments-TOTAL_FORMS": 1,
            "assignments-INITIAL_FORMS": 0,
            "assignments-0-content_type": ContentType.objects.get_for_model(Section).pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    workflow = Workflow.objects.get(name="Fact-checked")
    assert [s.name for s in workflow.steps.order_by("position")] == ["Fact-check", "Copy-edit and publish"]
    listing = client.get("/admin/articles/workflow/").content.decode()
    assert "Fact-check (Fact-checkers) → Copy-edit and publish (Moderator)" in listing


def test_two_steps_at_the_same_position_are_a_form_error(client, superuser):
    client.force_login(superuser)
    group = Group.objects.create(name="Fact-checkers")
    response = client.post(
        "/admin/articles/workflow/add/",
        {
            "name": "Twice",
            "steps-TOTAL_FORMS": 2,
            "steps-INITIAL_FORMS": 0,
            "steps-0-position": 1,
            "steps-0-name": "A",
            "steps-0-group": group.pk,
            "steps-1-position": 1,
            "steps-1-name": "B",
            "steps-1-group": group.pk,
            "assignments-TOTAL_FORMS": 0,
            "assignments-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert not Workflow.objects.exists()


def test_a_returned_proposal_is_not_in_the_queue_nor_approvable_in_bulk(client, editor, moderator, live_section):
    revision = propose(live_section, editor)
    step_decisions.request_changes(revision=revision, reviewer=moderator, message="Cite it.")
    client.force_login(moderator)
    assert revision.pk not in [r.pk for r in client.get(QUEUE).context["cl"].result_list]
    client.post(QUEUE + "?status=all", {"action": "approve_selected", ACTION_CHECKBOX_NAME: [revision.pk], "index": 0})
    assert Revision.objects.get(pk=revision.pk).status == RevisionStatus.RETURNED


def test_the_review_page_at_a_step_is_in_french_for_a_french_browser(client, editor, checker, live_section, two_steps):
    revision = propose(live_section, editor)
    client.force_login(checker)
    page = client.get(revision.get_admin_url(), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Fact-check — étape 1 sur 2, décidée par Fact-checkers" in page
    assert "Approuver « Fact-check »" in page and "Demander des modifications" in page


def test_the_queue_with_steps_costs_the_same_queries_for_more_proposals(
    client, editor, checker, superuser, live_section, two_steps
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(checker)

    def queries_for_queue():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(QUEUE).status_code == 200
        return len(queries)

    for n in range(2):
        moderation.approve(revision=propose(live_section, editor, f"Text {n}."), moderator=superuser)
        propose(live_section, editor, f"Other {n}.")
    few = queries_for_queue()
    for n in range(10):
        moderation.approve(revision=propose(live_section, editor, f"More {n}."), moderator=superuser)
        propose(live_section, editor, f"And {n}.")
    assert queries_for_queue() == few
