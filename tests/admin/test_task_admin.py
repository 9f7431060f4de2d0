"""Background tasks in the admin: superusers only, read-only, failures with their traceback."""

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from tests import tasks_for_tests as tasks

pytestmark = pytest.mark.django_db(transaction=True)


def _url(name, *args):
    return reverse(f"admin:django_tasks_database_dbtaskresult_{name}", args=args)


@pytest.fixture
def failed_and_queued(run_worker):
    """A task that failed in the worker, then one still waiting for it."""
    failed = tasks.fail.enqueue("the archive is unreachable")
    assert run_worker() == 1
    queued = tasks.record.using(priority=20).enqueue("re-bake the timeline")
    return DBTaskResult.objects.get(id=failed.id), DBTaskResult.objects.get(id=queued.id)


def _rows(html):
    """The changelist's rows as {column: text}."""
    body = html.split('<table id="result_list">', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        {
            name: re.sub(r"<[^>]+>", "", cell).strip()
            for name, cell in re.findall(r'<t[hd] class="field-(\w+)[^"]*">(.*?)</t[hd]>', row)
        }
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_a_superuser_sees_queued_and_failed_tasks(client, superuser, failed_and_queued):
    client.force_login(superuser)
    response = client.get(_url("changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    queued, failed = _rows(html)  # the newest first
    assert queued == {
        "task_name": "record",
        "status": "Ready",
        "queue_name": "default",
        "priority": "20",
        "enqueued_at": queued["enqueued_at"],
        "started_at": "-",
        "finished_at": "-",
        "display_run_after": "-",
        "attempts": "0",
        "exception_class": "-",
    }
    assert queued["enqueued_at"] != "-"
    assert (failed["task_name"], failed["status"], failed["attempts"], failed["exception_class"]) == (
        "fail",
        "Failed",
        "1",
        "ValueError",
    )
    assert failed["started_at"] != "-" and failed["finished_at"] != "-"
    # Filters by status; no bulk actions (the only one would be delete).
    assert "?status__exact=FAILED" in html and "?status__exact=READY" in html
    assert 'name="action"' not in html
    only_failed = _rows(client.get(_url("changelist"), {"status__exact": "FAILED"}).content.decode())
    assert [row["task_name"] for row in only_failed] == ["fail"]


def test_a_failed_task_shows_its_traceback(client, superuser, failed_and_queued):
    failed, _queued = failed_and_queued
    client.force_login(superuser)
    response = client.get(_url("change", failed.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<pre>Traceback (most recent call last):" in html
    assert "ValueError: the archive is unreachable" in html
    assert "tests.tasks_for_tests.fail" in html
    # Read-only: no form to save.
    assert 'name="_save"' not in html


def test_the_admin_index_lists_tasks_for_superusers_only(client, superuser, moderator, failed_and_queued):
    client.force_login(superuser)
    assert _url("changelist") in client.get(reverse("admin:index")).content.decode()
    client.force_login(moderator)
    assert _url("changelist") not in client.get(reverse("admin:index")).content.decode()


@pytest.mark.parametrize("role", ["editor", "moderator"])
def test_editors_and_moderators_cannot_see_tasks(role, request, failed_and_queued):
    client = request.getfixturevalue(f"{role}_client")
    failed, _queued = failed_and_queued
    assert client.get(_url("changelist")).status_code == 403
    assert client.get(_url("change", failed.pk)).status_code == 403
    # Not even when their group is given the model's permissions.
    group = Group.objects.get(name=role.capitalize())
    group.permissions.add(*Permission.objects.filter(content_type__app_label="django_tasks_database"))
    assert client.get(_url("changelist")).status_code == 403
    assert client.get(_url("change", failed.pk)).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, failed_and_queued):
    response = client.get(_url("changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_nobody_can_add_change_or_delete_tasks_in_the_admin(client, superuser, failed_and_queued):
    failed, queued = failed_and_queued
    client.force_login(superuser)
    assert client.get(_url("change", queued.pk)).status_code == 200  # to read
    assert client.get(_url("add")).status_code == 403
    assert client.post(_url("add"), {"task_path": "tests.tasks_for_tests.record"}).status_code == 403
    assert client.post(_url("change", queued.pk), {"status": "SUCCESSFUL", "priority": "0"}).status_code == 403
    assert client.get(_url("delete", failed.pk)).status_code == 403
    assert client.post(_url("delete", failed.pk), {"post": "yes"}).status_code == 403
    response = client.post(
        _url("changelist"), {"action": "delete_selected", "_selected_action": [failed.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    assert DBTaskResult.objects.count() == 2
    queued.refresh_from_db()
    assert queued.status == "READY"
