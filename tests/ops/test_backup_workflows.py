"""Workflows, their steps and where each proposal is in its review survive a backup and restore."""

import io

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from articles.models import Revision, RevisionStatus, Section, Workflow
from articles.revisions import moderation, review_steps, step_decisions
from tests import factories
from tests.ops.test_backup import database_contents, empty_the_site

pytestmark = pytest.mark.django_db(transaction=True)


def test_workflows_and_review_steps_round_trip(tmp_path):
    factories.ensure_groups()
    moderator = factories.make_user("moderator", group="Moderator")
    editor = factories.make_user("editor", group="Editor")
    root = factories.make_user("root", superuser=True)
    section = factories.section(moderator, factories.article(moderator, slug="deployments"), body="Text.")
    workflow = Workflow.objects.create(name="Fact-checked")
    workflow.steps.create(position=1, name="Fact-check", group=Group.objects.create(name="Fact-checkers"))
    workflow.steps.create(position=2, name="Copy-edit and publish", group=Group.objects.get(name="Moderator"))
    workflow.assignments.create(content_type=ContentType.objects.get_for_model(Section))
    at_second = moderation.propose(obj=section, author=editor, summary="One", data={**section.snapshot(), "body": "1."})
    moderation.approve(revision=at_second, moderator=root)
    returned = moderation.propose(obj=section, author=editor, summary="Two", data={**section.snapshot(), "body": "2."})
    step_decisions.request_changes(revision=returned, reviewer=root, message="Cite a source.")
    before = database_contents()
    archive = tmp_path / "site.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())

    empty_the_site()
    call_command("restore", str(archive), stdout=io.StringIO())

    after = database_contents()
    for label in ("articles.workflow", "articles.workflowstep", "articles.workflowassignment", "articles.revision"):
        assert after[label] == before[label], label
    assert review_steps.current_step(Revision.objects.get(pk=at_second.pk)).name == "Copy-edit and publish"
    restored = Revision.objects.get(pk=returned.pk)
    assert restored.status == RevisionStatus.RETURNED and restored.decision_note == "Cite a source."
