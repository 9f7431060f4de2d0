"""Readers' correction suggestions, as moderators see them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from articles.admin.base import EditorialRecordAdmin
from articles.models import (
    CorrectionStatus,
    CorrectionSuggestion,
)
from articles.revisions import corrections, moderation


@admin.register(CorrectionSuggestion)
class CorrectionSuggestionAdmin(EditorialRecordAdmin):
    """Readers' suggestions, beside the editors' proposals in the moderators' queue."""

    list_display = ("section", "article", "problem_excerpt", "status", "created_at", "has_email")
    list_filter = ("status",)
    list_select_related = ("section__article",)
    search_fields = ("problem", "suggested_text", "section__title")
    readonly_fields = (
        "section",
        "problem",
        "suggested_text",
        "source_reference",
        "email",
        "status",
        "created_at",
        "revision",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    actions = ["accept_selected", "dismiss_selected"]

    def has_moderate_permission(self, request):
        return moderation.can_moderate(request.user)

    @admin.display(description=_("Article"))
    def article(self, obj):
        return obj.section.article

    @admin.display(description=_("What is wrong"))
    def problem_excerpt(self, obj):
        return obj.problem[:120]

    @admin.display(description=_("Reply by e-mail"), boolean=True)
    def has_email(self, obj):
        return bool(obj.email)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        suggestion = get_object_or_404(
            CorrectionSuggestion.objects.select_related("section__article"), pk=unquote(object_id)
        )
        if request.method == "POST":
            if not moderation.can_moderate(request.user):
                raise PermissionDenied
            note = request.POST.get("note", "").strip()
            if suggestion.status not in (CorrectionStatus.OPEN, CorrectionStatus.PROPOSED):
                self.message_user(request, _("This suggestion was already decided."), messages.WARNING)
            elif "accept" in request.POST:
                corrections.accept(suggestion=suggestion, moderator=request.user, note=note)
                self.message_user(request, _("Accepted; the reader is told if they left an address."), messages.SUCCESS)
            elif "dismiss" in request.POST:
                corrections.dismiss(suggestion=suggestion, moderator=request.user, note=note)
                self.message_user(
                    request, _("Dismissed; the reader is told if they left an address."), messages.SUCCESS
                )
            return HttpResponseRedirect(reverse("admin:articles_correctionsuggestion_changelist"))
        extra_context = {
            **(extra_context or {}),
            "suggestion": suggestion,
            "can_moderate": moderation.can_moderate(request.user),
            "proposal_url": reverse("admin:articles_section_change", args=[suggestion.section_id])
            + f"?correction={suggestion.pk}",
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _decide_selected(self, request, queryset, decide, done_message):
        count = 0
        for suggestion in queryset.open():
            decide(suggestion=suggestion, moderator=request.user)
            count += 1
        self.message_user(request, done_message % count, messages.SUCCESS)

    @admin.action(description=_("Accept the selected suggestions"), permissions=["moderate"])
    def accept_selected(self, request, queryset):
        self._decide_selected(request, queryset, corrections.accept, _("%d suggestions accepted."))

    @admin.action(description=_("Dismiss the selected suggestions"), permissions=["moderate"])
    def dismiss_selected(self, request, queryset):
        self._decide_selected(request, queryset, corrections.dismiss, _("%d suggestions dismissed."))
