"""Background tasks on the database backend, run by `manage.py db_worker` in batch mode."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.tasks import TaskResultStatus, task_backends
from django.tasks.exceptions import InvalidTask
from django.utils import timezone
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from tests import tasks_for_tests as tasks

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_calls():
    tasks.CALLS.clear()
    yield
    tasks.CALLS.clear()


def test_the_default_backend_stores_tasks_in_the_database():
    assert isinstance(task_backends["default"], DatabaseBackend)
    result = tasks.add.enqueue(2, 3)
    assert result.status == TaskResultStatus.READY
    row = DBTaskResult.objects.get(id=result.id)
    assert row.task_path == "tests.tasks_for_tests.add"
    assert row.args_kwargs == {"args": [2, 3], "kwargs": {}}


def test_the_worker_runs_ready_tasks_and_stores_their_results(run_worker):
    result = tasks.add.enqueue(2, 3)
    assert run_worker() == 1
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 5
    assert result.started_at is not None and result.finished_at >= result.started_at
    assert run_worker() == 0


def test_a_higher_priority_task_enqueued_later_runs_first(run_worker):
    tasks.record.enqueue("normal, first in")
    tasks.record.using(priority=-10).enqueue("low")
    tasks.record.using(priority=50).enqueue("urgent, last in")
    tasks.record.enqueue("normal, second in")
    assert run_worker() == 4
    assert tasks.CALLS == ["urgent, last in", "normal, first in", "normal, second in", "low"]


def test_a_failing_task_is_recorded_with_its_traceback_and_not_retried(run_worker):
    result = tasks.fail.enqueue("the archive is unreachable")
    tasks.record.enqueue("after the failure")
    assert run_worker() == 2
    result.refresh()
    assert result.status == TaskResultStatus.FAILED
    [error] = result.errors
    assert error.exception_class is ValueError
    assert "ValueError: the archive is unreachable" in error.traceback
    assert tasks.CALLS == ["after the failure"]
    assert run_worker() == 0


def test_tasks_enqueued_by_a_task_run_in_the_same_batch(run_worker):
    tasks.record_then_enqueue.enqueue("publish", "re-bake")
    assert run_worker() == 2
    assert tasks.CALLS == ["publish", "re-bake"]


def test_a_deferred_task_waits_for_its_time(run_worker):
    later = tasks.record.using(run_after=timezone.now() + timedelta(hours=1)).enqueue("later")
    assert run_worker() == 0
    DBTaskResult.objects.filter(id=later.id).update(run_after=timezone.now() - timedelta(seconds=1))
    assert run_worker() == 1
    assert tasks.CALLS == ["later"]


def test_a_task_enqueued_in_a_transaction_that_rolls_back_is_never_run(run_worker):
    with pytest.raises(RuntimeError), transaction.atomic():
        tasks.record.enqueue("rolled back")
        raise RuntimeError("publish failed")
    assert not DBTaskResult.objects.exists()
    assert run_worker() == 0
    assert tasks.CALLS == []


def test_there_is_one_queue_and_urgency_is_a_priority():
    with pytest.raises(InvalidTask, match="Queue 'urgent' is not valid"):
        tasks.record.using(queue_name="urgent")
