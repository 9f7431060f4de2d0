"""Scheduled publishing runs exactly once, however many workers (and cron jobs) reach a revision."""

import datetime
import threading
import time

import pytest
from django.core import mail
from django.db import connections
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from articles.models import ArticleVersion, ModerationEvent, Revision, RevisionStatus
from articles.publishing import publish
from articles.revisions import moderation
from tests import factories
from tests.conftest import require_postgres

pytestmark = pytest.mark.django_db(transaction=True)

SCHEDULED_TASK = "articles.revisions.moderation.publish_scheduled_revision"
NOTIFICATION_TASK = "articles.revisions.notifications.send_proposal_decided"


def due_revisions(count: int) -> list[Revision]:
    """``count`` proposals approved for later, made due; each with its scheduled task and a second one.

    The second task is what a catch-up leaves (``publish_scheduled`` from cron on another node, or a
    task enqueued again by hand): two workers may then reach the same revision at the same moment.
    """
    moderator = factories.make_user("moderator", group="Moderator")
    editor = factories.make_user("editor", group="Editor")
    article = factories.article(moderator, title="Scheduled", slug="scheduled")
    revisions = []
    for n in range(count):
        section = factories.section(moderator, article, title=f"Part {n}", anchor=f"part-{n}", body=f"Draft {n}.")
        revision = moderation.propose(
            obj=section, author=editor, summary=f"Part {n}", data={**section.snapshot(), "body": f"Final {n}."}
        )
        moderation.approve(revision=revision, moderator=moderator, publish_at=timezone.now() + datetime.timedelta(1))
        revisions.append(revision)
    DBTaskResult.objects.exclude(task_path=SCHEDULED_TASK).delete()  # the follow-ups of setting up
    for revision in revisions:
        moderation.publish_scheduled_revision.enqueue(revision.pk)
    now = timezone.now()
    Revision.objects.filter(pk__in=[r.pk for r in revisions]).update(scheduled_for=now - datetime.timedelta(seconds=1))
    # Both tasks of a revision next to each other in the queue, the first revision's first.
    for position, revision in enumerate(revisions):
        DBTaskResult.objects.filter(task_path=SCHEDULED_TASK, args_kwargs__args=[revision.pk]).update(
            run_after=now - datetime.timedelta(seconds=count - position)
        )
    mail.outbox.clear()
    return revisions


def assert_published_exactly_once(revisions: list[Revision]) -> None:
    for revision in revisions:
        revision.refresh_from_db()
        assert revision.status == RevisionStatus.PUBLISHED
        assert revision.events.filter(kind=ModerationEvent.Kind.APPROVED).count() == 1
        assert ArticleVersion.objects.filter(revision=revision).count() == 1
    assert DBTaskResult.objects.filter(task_path=NOTIFICATION_TASK).count() == len(revisions)
    assert sorted(m.to[0] for m in mail.outbox) == ["editor@example.org"] * len(revisions)


def run_batch_worker(worker_id: str) -> None:
    """``db_worker --batch`` under a node's id: runs what is queued, then stops."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    ).run()


def test_two_workers_and_a_cron_catch_up_publish_each_due_revision_once(monkeypatch):
    """Two db_worker loops and `manage.py publish_scheduled` at the same moment, on PostgreSQL row locks."""
    require_postgres()
    revisions = due_revisions(6)

    real_apply = publish.apply_revision

    def slow_apply(revision, obj):  # hold the revision's lock while the other worker arrives
        result = real_apply(revision, obj)
        time.sleep(0.2)
        return result

    monkeypatch.setattr(publish, "apply_revision", slow_apply)
    start = threading.Barrier(3)
    caught_up, errors = [], []

    def worker(worker_id):
        try:
            start.wait()
            run_batch_worker(worker_id)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    def cron():
        try:
            start.wait()
            caught_up.extend(outcome for _, outcome in moderation.publish_due())
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(f"node-{n}",)) for n in "ab"]
    threads.append(threading.Thread(target=cron))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []

    tasks = DBTaskResult.objects.filter(task_path=SCHEDULED_TASK)
    assert {t.status for t in tasks} == {"SUCCESSFUL"}
    outcomes = [t.return_value for t in tasks] + caught_up
    assert outcomes.count("published") == len(revisions)
    assert set(outcomes) == {"published", "taken"}
    # Both workers took tasks: the two really ran side by side.
    assert {t.worker_ids[-1] for t in tasks} == {"node-a", "node-b"}
    # The cron's own publishes enqueue their e-mails after commit: one may arrive after both workers
    # found the queue empty and stopped; the next worker run sends it.
    run_batch_worker("node-c")
    assert_published_exactly_once(revisions)


def test_a_revision_reached_twice_in_turn_is_published_once(run_worker):
    """Without concurrency (and on SQLite): the second task and the catch-up find it already published."""
    revisions = due_revisions(2)
    run_worker()
    assert moderation.publish_due() == []
    tasks = DBTaskResult.objects.filter(task_path=SCHEDULED_TASK).order_by("run_after", "enqueued_at")
    assert [t.return_value for t in tasks] == ["published", "taken"] * len(revisions)
    assert_published_exactly_once(revisions)
