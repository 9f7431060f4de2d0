"""Tiny background tasks for the tests of the worker and of the task admin.

The worker imports a task by its dotted path (tests.tasks_for_tests.record), so tasks live at a
module's top level. ``run_worker`` runs them in the test's own process: what ``record`` appends
to CALLS is visible to the test.
"""

from django.tasks import task

CALLS = []


@task
def record(label):
    CALLS.append(label)
    return label


@task
def add(a, b):
    return a + b


@task
def fail(message):
    raise ValueError(message)


@task
def record_then_enqueue(label, follow_up):
    CALLS.append(label)
    record.enqueue(follow_up)
