"""Review steps: a workflow's steps in order, each decided by its group; request changes, amend, resubmit."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from articles.models import ModerationEvent, Revision, RevisionStatus, Section, Workflow
from articles.revisions import moderation, review_steps, step_decisions
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_section(moderator):
    article = factories.article(moderator, title="Deployments", slug="deployments")
    return factories.section(moderator, article, title="Early years", anchor="early-years", body="Original text.")


@pytest.fixture
def checker(db):
    user = factories.make_user("checker", group="Editor")
    user.groups.add(Group.objects.get_or_create(name="Fact-checkers")[0])
    return user


@pytest.fixture
def two_steps(checker, moderator):
    """Sections are fact-checked by Fact-checkers, then copy-edited and published by Moderators."""
    return factories.two_step_workflow()


def propose(section, author, body="Proposed text."):
    return moderation.propose(
        obj=section, author=author, summary="Fix the date", data={**section.snapshot(), "body": body}
    )


def live_body(section):
    return Section.objects.get(pk=section.pk).body


def kinds_and_steps(revision):
    return list(revision.events.order_by("at", "pk").values_list("kind", "step_name"))


# --- The default: one step, moderators approve and publish ------------------------------------------------


def test_without_a_workflow_a_moderator_approves_and_publishes_in_one_step(editor, moderator, live_section):
    revision = propose(live_section, editor)
    step = review_steps.current_step(revision)
    assert step.is_default and step.is_last
    moderation.approve(revision=revision, moderator=moderator)
    assert live_body(live_section) == "Proposed text."
    assert kinds_and_steps(revision) == [("proposed", ""), ("approved", "")]


def test_a_workflow_for_another_kind_leaves_sections_alone(editor, moderator, live_section, checker):
    workflow = Workflow.objects.create(name="Sources only")
    workflow.steps.create(position=1, name="Fact-check", group=Group.objects.get(name="Fact-checkers"))
    workflow.assignments.create(content_type=ContentType.objects.get(app_label="articles", model="source"))
    revision = propose(live_section, editor)
    with pytest.raises(PermissionDenied):
        moderation.approve(revision=revision, moderator=checker)
    moderation.approve(revision=revision, moderator=moderator)
    assert live_body(live_section) == "Proposed text."


# --- Steps in order, each by its group --------------------------------------------------------------------


def test_steps_are_taken_in_order_and_only_the_last_publishes(editor, checker, moderator, live_section, two_steps):
    fact_check, publish = two_steps
    revision = propose(live_section, editor)
    assert review_steps.current_step(revision).step == fact_check

    moderation.approve(revision=revision, moderator=checker)
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.PENDING
    assert revision.review_step == publish
    assert live_body(live_section) == "Original text."

    moderation.approve(revision=revision, moderator=moderator)
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.PUBLISHED
    assert live_body(live_section) == "Proposed text."
    assert kinds_and_steps(revision) == [
        ("proposed", ""),
        ("step_approved", "Fact-check"),
        ("approved", "Copy-edit and publish"),
    ]


def test_only_the_steps_group_may_decide_it(editor, checker, moderator, superuser, live_section, two_steps):
    revision = propose(live_section, editor)
    # A moderator is not a fact-checker; an editor is neither.
    for outsider in (moderator, editor):
        for decide in (
            lambda u: moderation.approve(revision=revision, moderator=u),
            lambda u: moderation.reject(revision=revision, moderator=u, reason="No."),
            lambda u: step_decisions.request_changes(revision=revision, reviewer=u, message="Fix it."),
        ):
            with pytest.raises(PermissionDenied):
                decide(outsider)
    assert Revision.objects.get(pk=revision.pk).review_step_id is None
    moderation.approve(revision=revision, moderator=checker)
    # The fact-checker cannot take the moderators' step, which publishes.
    with pytest.raises(PermissionDenied, match="Moderator"):
        moderation.approve(revision=revision, moderator=checker)
    assert live_body(live_section) == "Original text."
    # A superuser may decide any step.
    moderation.approve(revision=revision, moderator=superuser)
    assert live_body(live_section) == "Proposed text."


def test_a_decision_on_a_page_showing_an_earlier_step_is_refused(editor, superuser, live_section, two_steps):
    fact_check, _publish = two_steps
    revision = propose(live_section, editor)
    moderation.approve(revision=revision, moderator=superuser, seen_step=str(fact_check.pk))
    with pytest.raises(ValidationError, match="moved on"):
        moderation.approve(revision=revision, moderator=superuser, seen_step=str(fact_check.pk))
    assert live_body(live_section) == "Original text."


def test_a_publishing_time_is_chosen_only_at_the_last_step(editor, checker, live_section, two_steps):
    from django.utils import timezone

    revision = propose(live_section, editor)
    with pytest.raises(ValidationError, match="last step"):
        moderation.approve(revision=revision, moderator=checker, publish_at=timezone.now() + timezone.timedelta(days=1))
    assert Revision.objects.get(pk=revision.pk).review_step_id is None


def test_rejecting_at_a_step_ends_the_proposal_and_records_the_step(editor, checker, live_section, two_steps):
    revision = propose(live_section, editor)
    moderation.reject(revision=revision, moderator=checker, reason="The date is wrong.")
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.REJECTED
    assert kinds_and_steps(revision)[-1] == ("rejected", "Fact-check")


def test_a_moderator_publishes_directly_only_when_taking_every_step(
    moderator, superuser, checker, live_section, two_steps
):
    section_type = ContentType.objects.get_for_model(Section).pk
    assert not review_steps.may_publish_directly(moderator, section_type)
    with pytest.raises(PermissionDenied, match="every step"):
        moderation.publish_directly(
            obj=live_section, moderator=moderator, summary="Mine", data={**live_section.snapshot(), "body": "Mine."}
        )
    assert live_body(live_section) == "Original text."
    moderator.groups.add(Group.objects.get(name="Fact-checkers"))
    moderator = type(moderator).objects.get(pk=moderator.pk)  # permissions and groups are cached per object
    assert review_steps.may_publish_directly(moderator, section_type)
    moderation.publish_directly(
        obj=live_section, moderator=moderator, summary="Mine", data={**live_section.snapshot(), "body": "Mine."}
    )
    assert live_body(live_section) == "Mine."


def test_deleting_a_step_sends_waiting_proposals_back_to_the_start(editor, superuser, live_section, two_steps):
    fact_check, publish = two_steps
    revision = propose(live_section, editor)
    moderation.approve(revision=revision, moderator=superuser)
    publish.delete()
    revision.refresh_from_db()
    assert revision.review_step_id is None
    step = review_steps.current_step(revision)
    assert step.step == fact_check and step.is_last


# --- Request changes, amend, resubmit --------------------------------------------------------------------


def test_request_changes_then_amend_and_resubmit_returns_to_that_step(
    editor, checker, moderator, live_section, two_steps
):
    _fact_check, publish = two_steps
    revision = propose(live_section, editor, "Mali joined in 2012.")
    moderation.approve(revision=revision, moderator=checker)
    with pytest.raises(ValidationError):
        step_decisions.request_changes(revision=revision, reviewer=moderator, message="   ")
    step_decisions.request_changes(revision=revision, reviewer=moderator, message="The year is 2013: see S/RES/2100.")
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.RETURNED
    assert revision.decision_note == "The year is 2013: see S/RES/2100."
    assert revision not in Revision.objects.pending()
    # Back with its author: nobody can approve it now.
    with pytest.raises(ValidationError):
        moderation.approve(revision=revision, moderator=moderator)
    with pytest.raises(PermissionDenied):
        step_decisions.resubmit(revision=revision, user=checker)

    moderation.amend(
        revision=revision, user=editor, data={**live_section.snapshot(), "body": "Mali joined in 2013."}, summary="2013"
    )
    step_decisions.resubmit(revision=revision, user=editor)
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.PENDING
    assert revision.review_step == publish
    assert revision.decision_note == ""
    moderation.approve(revision=revision, moderator=moderator)
    assert live_body(live_section) == "Mali joined in 2013."
    assert kinds_and_steps(revision) == [
        ("proposed", ""),
        ("step_approved", "Fact-check"),
        ("changes_requested", "Copy-edit and publish"),
        ("amended", ""),
        ("resubmitted", "Copy-edit and publish"),
        ("approved", "Copy-edit and publish"),
    ]
    message = revision.events.get(kind=ModerationEvent.Kind.CHANGES_REQUESTED).note
    assert message == "The year is 2013: see S/RES/2100."


def test_changes_can_be_requested_without_a_workflow(editor, moderator, live_section):
    revision = propose(live_section, editor)
    step_decisions.request_changes(revision=revision, reviewer=moderator, message="Cite a source.")
    with pytest.raises(PermissionDenied):
        step_decisions.request_changes(revision=propose(live_section, editor), reviewer=editor, message="No.")
    step_decisions.resubmit(revision=revision, user=editor)
    moderation.approve(revision=revision, moderator=moderator)
    assert live_body(live_section) == "Proposed text."


def test_a_returned_proposal_can_be_withdrawn_by_its_author(editor, moderator, live_section):
    revision = propose(live_section, editor)
    step_decisions.request_changes(revision=revision, reviewer=moderator, message="Cite a source.")
    moderation.withdraw(revision=revision, user=editor)
    assert Revision.objects.get(pk=revision.pk).status == RevisionStatus.WITHDRAWN


# --- The audit trail stays append-only --------------------------------------------------------------------


def test_step_records_cannot_be_rewritten_even_in_sql(editor, checker, live_section, two_steps):
    revision = propose(live_section, editor)
    moderation.approve(revision=revision, moderator=checker)
    event = revision.events.get(kind=ModerationEvent.Kind.STEP_APPROVED)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE articles_moderationevent SET step_name = 'Nothing' WHERE id = %s", [event.pk])
    moderation.reject(revision=revision, moderator=type(checker).objects.get(username="moderator"), reason="No.")
    with pytest.raises(IntegrityError, match="decided revision"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE articles_revision SET decision_note = 'Fine' WHERE id = %s", [revision.pk])


# --- E-mail -------------------------------------------------------------------------------------------


def test_each_step_tells_the_next_group_and_changes_tell_the_author(
    django_capture_on_commit_callbacks, run_tasks, editor, checker, moderator, live_section, two_steps
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        revision = propose(live_section, editor)
    run_tasks()
    # Waiting for the fact-check: fact-checkers are told, not the moderators.
    assert [m.to for m in mail.outbox] == [[checker.email]]
    assert "Fact-check" in mail.outbox[0].body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        moderation.approve(revision=revision, moderator=checker)
    run_tasks()
    assert [m.to for m in mail.outbox] == [[moderator.email]]
    assert "Copy-edit and publish" in mail.outbox[0].subject

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        step_decisions.request_changes(revision=revision, reviewer=moderator, message="Name the resolution.")
    run_tasks()
    assert [m.to for m in mail.outbox] == [[editor.email]]
    assert "Name the resolution." in mail.outbox[0].body
    assert revision.get_admin_url() in mail.outbox[0].body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        step_decisions.resubmit(revision=revision, user=editor)
    run_tasks()
    assert [m.to for m in mail.outbox] == [[moderator.email]]
    assert "Resubmitted" in mail.outbox[0].subject


# --- Bulk approval respects steps ----------------------------------------------------------------------


def test_bulk_approval_passes_each_proposal_one_step_only(editor, superuser, moderator, live_section, two_steps):
    other = factories.section(superuser, live_section.article, body="Other text.")
    first, second = propose(live_section, editor), propose(other, editor, "Other, amended.")
    moderation.approve_many(revisions=[first, second], moderator=superuser)
    assert live_body(live_section) == "Original text." and live_body(other) == "Other text."
    assert set(Revision.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {"pending"}
    moderation.approve_many(revisions=Revision.objects.filter(pk__in=[first.pk, second.pk]), moderator=superuser)
    assert live_body(live_section) == "Proposed text." and live_body(other) == "Other, amended."


def test_bulk_approval_by_someone_outside_a_step_changes_nothing(editor, moderator, checker, live_section, two_steps):
    first = propose(live_section, editor)
    moderation.approve(revision=first, moderator=checker)  # now at the moderators' step
    second = propose(live_section, editor, "Second proposal.")  # at the fact-check
    with pytest.raises(ValidationError, match="Nothing was published"):
        moderation.approve_many(revisions=[first, second], moderator=moderator)
    assert live_body(live_section) == "Original text."
    assert Revision.objects.get(pk=second.pk).review_step_id is None


def test_the_workflow_migration_has_a_real_reverse(editor, moderator, live_section):
    """0018's reverse puts back 0015's rules (a returned revision frozen again); applying it opens it again."""
    from importlib import import_module

    from django.apps import apps

    from tests.conftest import require_postgres

    require_postgres()
    migration = import_module("articles.migrations.0018_workflows")
    revision = propose(live_section, editor)
    step_decisions.request_changes(revision=revision, reviewer=moderator, message="Cite a source.")
    with connection.schema_editor() as editor_:
        migration.restore_0015_triggers(apps, editor_)
    with pytest.raises(IntegrityError, match="decided revision"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE articles_revision SET summary = 'x' WHERE id = %s", [revision.pk])
    with connection.schema_editor() as editor_:
        migration.create_triggers(apps, editor_)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE articles_revision SET summary = 'x' WHERE id = %s", [revision.pk])
        assert cursor.rowcount == 1
