"""Background tasks in the admin: superusers see queued, running and failed tasks, read-only.

django_tasks_db registers an admin for its DBTaskResult rows that refuses adding, changing and
deleting, but shows them to any staff member given the "view task result" permission. Task rows
hold arguments, return values and tracebacks, so here only superusers see them, whatever
permissions a group is given. A failed task's traceback is on its change page. Rows are only
removed by `manage.py prune_db_task_results`.

The labels are in English only: the package has no French catalogue, and only superusers see
these pages.
"""

from django.contrib import admin
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult


def _is_superuser(request):
    return request.user.is_active and request.user.is_superuser


class TaskResultAdmin(DBTaskResultAdmin):
    list_display = (
        "task_name",
        "status",
        "queue_name",
        "priority",
        "enqueued_at",
        "started_at",
        "finished_at",
        "display_run_after",
        "attempts",
        "exception_class",
    )
    list_display_links = ("task_name",)
    list_filter = ("status", "task_path", "queue_name", "priority")
    search_fields = ("task_path", "exception_class_path")
    ordering = ["-enqueued_at"]

    @admin.display(description="task")
    def task_name(self, obj):
        return obj.task_name

    @admin.display(description="attempts")
    def attempts(self, obj):
        # Each worker that claimed the task adds its id. django_tasks_db never retries a task on
        # its own, so this is 0 (waiting) or 1.
        return len(obj.worker_ids or [])

    @admin.display(description="exception", ordering="exception_class_path")
    def exception_class(self, obj):
        return obj.exception_class_path.rsplit(".", 1)[-1] if obj.exception_class_path else ""

    def has_module_permission(self, request):
        return _is_superuser(request)

    def has_view_permission(self, request, obj=None):
        return _is_superuser(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)
admin.site.register(DBTaskResult, TaskResultAdmin)
