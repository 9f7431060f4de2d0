from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = _("Mali History content")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import task_admin  # noqa: F401  (background tasks in the admin, for superusers only)
