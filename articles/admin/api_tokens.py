"""API tokens in the admin: editors make and revoke their own; a superuser anyone's.

A token is shown once, on the page that answers its creation (never through a message, which
would keep it in the session); only its digest is stored. Tokens are revoked, not deleted, so
the list keeps when each was made and last used.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from articles.models import ApiToken
from articles.revisions.permissions import can_propose


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "hint", "user", "created_at", "last_used_at", "is_active_display")
    list_select_related = ("user",)
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "hint")
    actions = ["revoke_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    # Anyone who may propose may have tokens; each sees only their own (get_queryset).
    def has_module_permission(self, request):
        return can_propose(request.user)

    def has_view_permission(self, request, obj=None):
        return can_propose(request.user)

    def has_add_permission(self, request):
        return can_propose(request.user)

    def has_change_permission(self, request, obj=None):
        return can_propose(request.user)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        fields = ["name"]
        if request.user.is_superuser and obj is None:
            fields.append("user")
        if obj is not None:
            fields += ["user", "hint", "created_at", "last_used_at", "revoked_at"]
        return fields

    def get_readonly_fields(self, request, obj=None):
        return ("user", "hint", "created_at", "last_used_at", "revoked_at") if obj is not None else ()

    def get_changeform_initial_data(self, request):
        return {"user": request.user.pk}

    @admin.display(description=_("active"), boolean=True)
    def is_active_display(self, obj):
        return obj.is_active

    def save_model(self, request, obj, form, change):
        if not change:
            if not request.user.is_superuser or not obj.user_id:
                obj.user = request.user
            request.issued_token = obj.issue()
        obj.save()

    def response_add(self, request, obj, post_url_continue=None):
        """The one page that shows the token itself."""
        context = {
            **self.admin_site.each_context(request),
            "title": _("Your new API token"),
            "opts": self.opts,
            "token": obj,
            "raw_token": request.issued_token,
            "api_url": request.build_absolute_uri(reverse("api:article_list")).rsplit("/articles", 1)[0],
            "docs_url": reverse("api:openapi-view"),
        }
        response = TemplateResponse(request, "admin/articles/apitoken/created.html", context)
        # Never kept by a browser's or a proxy's cache: it holds a secret.
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke_selected(self, request, queryset):
        tokens = list(queryset.active())
        for token in tokens:
            token.revoke()
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", len(tokens)) % {"count": len(tokens)},
            messages.SUCCESS,
        )
