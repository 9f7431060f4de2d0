from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class ArticlesConfig(AppConfig):
    default = True  # this module holds the admin's config too
    name = "articles"
    verbose_name = _("Mali History content")
    default_auto_field = "django.db.models.BigAutoField"


class EditorialAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the editorial desk's site (articles/admin_site.py) as ``admin.site``."""

    default = False
    default_site = "articles.admin_site.EditorialAdminSite"
