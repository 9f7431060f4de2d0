"""The editorial desk's admin site: its index leads with what waits for whom; the queue has one name.

Django builds it as ``admin.site`` from ``EditorialAdminConfig.default_site`` (articles/apps.py).
This module is imported while django.contrib.admin sets ``admin.site`` up, before the ModelAdmins
in ``articles.admin`` register on it; importing that package from here at load time would register
them on a second site. What the methods need from it is imported when they run.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class EditorialAdminSite(admin.AdminSite):
    site_header = _("Mali History editorial desk")
    site_title = _("Mali History")
    index_title = _("Content and moderation")
    index_template = "admin/articles/index.html"
    # The index is the menu; a sidebar repeating it would take a quarter of a 1280 px window from the lists.
    enable_nav_sidebar = False

    def has_permission(self, request):
        """Staff, and for those who use two-factor sign-in, signed in with a code (articles.admin.two_factor)."""
        from articles.admin.two_factor import fully_signed_in

        return super().has_permission(request) and fully_signed_in(request.user)

    def login(self, request, extra_context=None):
        from articles.admin import two_factor_views

        return two_factor_views.login(self, request, extra_context)

    def get_urls(self):
        from articles.admin import two_factor_views

        return two_factor_views.urls(self) + super().get_urls()

    def index(self, request, extra_context=None):
        from articles.admin.desk import waiting_work

        return super().index(request, {"work": waiting_work(request.user), **(extra_context or {})})

    def get_app_list(self, request, app_label=None):
        from articles.admin.desk import REVIEW_QUEUE
        from articles.models import Revision

        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            for model in app["models"]:
                if model["model"] is Revision:
                    model["name"] = REVIEW_QUEUE
        return app_list
