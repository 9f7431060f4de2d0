"""The review queue and screens: revisions, their diffs and decisions, and the audit trail."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from articles.admin import comments as conversation
from articles.admin import conflicts as conflict_forms
from articles.admin import figure_review
from articles.admin import workflows as workflow_admin
from articles.admin.base import EditorialRecordAdmin
from articles.admin.desk import REVIEW_QUEUE
from articles.admin.filters import AuthorFilter, RecentArticleFilter
from articles.admin.forms import (
    ApproveForm,
    RejectForm,
    RequestChangesForm,
)
from articles.models import (
    MODERATED_MODELS,
    Article,
    CorrectionStatus,
    CorrectionSuggestion,
    ModerationEvent,
    Revision,
    RevisionAction,
    RevisionStatus,
)
from articles.revisions import diffing, figure_proposals, merging, moderation, review_steps, step_decisions


class RevisionStatusFilter(admin.SimpleListFilter):
    """Pending first: the queue is what a moderator opens this page for."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*RevisionStatus.choices, ("all", _("All"))]

    def choices(self, changelist):
        value = self.value() or RevisionStatus.PENDING
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or RevisionStatus.PENDING
        return queryset if value == "all" else queryset.filter(status=value)


class ContentTypeFilter(admin.SimpleListFilter):
    title = _("kind of content")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(m._meta.model_name, m._meta.verbose_name.capitalize()) for m in MODERATED_MODELS]

    def queryset(self, request, queryset):
        return queryset.filter(content_type__model=self.value()) if self.value() else queryset


@admin.register(Revision)
class RevisionAdmin(conversation.ReviewConversationViews, EditorialRecordAdmin):
    # Few, narrow columns: summary, size and status stay in a 1280 px window beside the filters.
    list_display = (
        "object_link",
        "article",
        "author_name",
        "age",
        "summary",
        "size_of_change",
        "status_display",
    )
    list_display_links = None
    list_filter = (RevisionStatusFilter, ContentTypeFilter, ("author", AuthorFilter), RecentArticleFilter)
    list_select_related = ("content_type", "article", "base", "author")
    search_fields = ("object_repr", "summary", "author_name", "article__title")
    ordering = ("created_at", "pk")
    actions = ["approve_selected", "reject_selected"]
    list_per_page = 50
    show_full_result_count = False

    def has_moderate_permission(self, request):
        return review_steps.may_review(request.user)

    # With a workflow in use, each row says which step it waits at, and reviewers filter to theirs.
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if getattr(request, "workflows_in_use", False):
            queryset = workflow_admin.with_step_names(queryset)
        return queryset

    def get_list_display(self, request):
        request.workflows_in_use = review_steps.workflows_in_use()
        if request.workflows_in_use:
            return (*self.list_display[:-1], workflow_admin.step_display, self.list_display[-1])
        return self.list_display

    def get_list_filter(self, request):
        if getattr(request, "workflows_in_use", False):
            return (workflow_admin.WaitingForMyStepFilter, *self.list_filter)
        return self.list_filter

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "open_corrections": CorrectionSuggestion.objects.filter(status=CorrectionStatus.OPEN).count(),
            "title": REVIEW_QUEUE,
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("Object"), ordering="object_repr")
    def object_link(self, obj):
        return format_html(
            '<a href="{}">{}</a><span class="revision-kind">{}</span>',
            reverse("admin:articles_revision_change", args=[obj.pk]),
            obj.object_repr or "—",
            self.kind(obj),
        )

    def kind(self, obj):
        return obj.action_phrase

    @admin.display(description=_("Age"), ordering="created_at")
    def age(self, obj):
        return timesince(obj.created_at, timezone.now())

    @admin.display(description=_("Size of change"))
    def size_of_change(self, obj):
        base = obj.base.data if obj.base else {}
        added = removed = 0
        for name in ("body", "dek", "summary", "title", "name", "caption"):
            if name in obj.data or name in base:
                a, r = diffing.change_size(str(base.get(name) or ""), str(obj.data.get(name) or ""))
                added, removed = added + a, removed + r
        return format_html('<span class="size-added">+{}</span> <span class="size-removed">−{}</span>', added, removed)

    @admin.display(description=_("Status"), ordering="status")
    def status_display(self, obj):
        if obj.scheduled_for:
            return _("%(status)s, for %(when)s") % {
                "status": obj.get_status_display(),
                "when": date_format(timezone.localtime(obj.scheduled_for), "SHORT_DATETIME_FORMAT"),
            }
        return obj.get_status_display()

    # --- The review page -------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<int:revision_id>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name="articles_revision_approve",
            ),
            path(
                "<int:revision_id>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name="articles_revision_reject",
            ),
            path(
                "<int:revision_id>/request-changes/",
                self.admin_site.admin_view(self.request_changes_view),
                name="articles_revision_request_changes",
            ),
            path(
                "<int:revision_id>/resubmit/",
                self.admin_site.admin_view(self.resubmit_view),
                name="articles_revision_resubmit",
            ),
            path(
                "<int:revision_id>/withdraw/",
                self.admin_site.admin_view(self.withdraw_view),
                name="articles_revision_withdraw",
            ),
            path(
                "<int:revision_id>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="articles_revision_resolve",
            ),
            *self.conversation_urls(),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        object_id = unquote(object_id)
        if not object_id.isdigit():
            raise Http404(_("No revision has the number “%(id)s”.") % {"id": object_id})
        revision = get_object_or_404(
            Revision.objects.select_related("content_type", "author", "decided_by", "base", "article"),
            pk=object_id,
        )
        model = revision.model_class
        obj = revision.get_object()
        live = obj.snapshot() if obj is not None and obj.live_revision_id else {}
        stale = merging.is_stale(revision, obj)
        if revision.is_pending:
            changes = diffing.compare(model, live, revision.data if revision.action != RevisionAction.DELETE else {})
        else:
            changes = diffing.compare(model, revision.base.data if revision.base else {}, revision.data)
        since_base = diffing.compare(model, revision.base.data if revision.base else {}, live) if stale else []
        merged = merging.merge_with_live(revision, obj) if stale and revision.action == RevisionAction.CHANGE else None
        merged_changes = diffing.compare(model, live, merged.data) if merged and merged.is_clean else []
        conflicts = conflict_forms.conflict_context(model, merged) if merged else []
        article = revision.article or (obj if isinstance(obj, Article) else None)
        step = review_steps.current_step(revision)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Review: %s") % revision,
            "opts": self.opts,
            "revision": revision,
            "object": obj,
            "object_admin_url": reverse(f"admin:articles_{model._meta.model_name}_change", args=[revision.object_id]),
            "history_url": reverse(f"admin:articles_{model._meta.model_name}_history", args=[revision.object_id]),
            "changes": changes,
            "stale": stale,
            "since_base": since_base,
            "merged": merged,
            "merged_changes": merged_changes,
            "conflicts": conflicts,
            "can_resolve": moderation.can_moderate(request.user) or revision.author_id == request.user.pk,
            "preview_url": reverse("articles:article_preview", args=[article.slug, revision.pk]) if article else "",
            "can_moderate": review_steps.may_decide(request.user, step),
            "step": step,
            "show_step": not step.is_default,
            "seen_step": step.step.pk if step.step else "",
            "is_author": revision.author_id == request.user.pk,
            "reject_form": RejectForm(),
            "request_changes_form": RequestChangesForm(),
            "approve_form": ApproveForm(initial={"merge": bool(merged and merged.is_clean)}),
            "events": revision.events.select_related("actor").order_by("at", "pk"),
            # Figures its text shows that wait for approval: offered to approve with it.
            "pending_figures": figure_proposals.figure_proposals_shown_by(revision) if revision.is_pending else [],
            "figure": figure_review.figure_proposal(revision),
            "together": figure_review.proposed_together(revision),
            # The conversation: comments, replies, share links (articles.admin.comments).
            **conversation.conversation_context(request, revision, **(extra_context or {})),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/articles/revision_review.html", context)

    def _decide(self, request, revision_id, decide):
        if request.method != "POST":
            raise PermissionDenied
        revision = get_object_or_404(Revision, pk=revision_id)
        try:
            decide(revision)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:articles_revision_change", args=[revision.pk]))
        return None

    def _next_in_queue(self, request):
        """After a decision, the oldest proposal still waiting for this reviewer; the queue itself once none is left."""
        following = (
            Revision.objects.filter(review_steps.waiting_for(request.user))
            .order_by("created_at", "pk")
            .values_list("pk", "object_repr")
            .first()
        )
        if following is None:
            self.message_user(request, _("Nothing else is waiting in the review queue."), messages.INFO)
            return HttpResponseRedirect(reverse("admin:articles_revision_changelist"))
        self.message_user(
            request, _("Next in the review queue: “%(object)s”.") % {"object": following[1]}, messages.INFO
        )
        return HttpResponseRedirect(reverse("admin:articles_revision_change", args=[following[0]]))

    def approve_view(self, request, revision_id):
        if not review_steps.may_review(request.user):
            raise PermissionDenied
        form = ApproveForm(request.POST)
        if not form.is_valid():
            self.message_user(request, " ".join(m for errors in form.errors.values() for m in errors), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:articles_revision_change", args=[revision_id]))
        publish_at = form.cleaned_data.get("publish_at")
        failed = self._decide(
            request,
            revision_id,
            lambda r: moderation.approve(
                revision=r,
                moderator=request.user,
                override_stale=form.cleaned_data["override_stale"],
                merge=form.cleaned_data["merge"],
                publish_at=publish_at,
                with_figures=form.cleaned_data["with_figures"],
                seen_step=request.POST.get("seen_step"),
            ),
        )
        if failed:
            return failed
        revision = Revision.objects.select_related("review_step").get(pk=revision_id)
        if revision.status == RevisionStatus.PENDING:
            self.message_user(
                request,
                _("Step approved. It now waits for “%(step)s”.") % {"step": review_steps.current_step(revision).name},
                messages.SUCCESS,
            )
        elif publish_at and publish_at > timezone.now():
            self.message_user(
                request,
                _("Approved. It will be published at %(when)s (UTC).")
                % {"when": publish_at.strftime("%Y-%m-%d %H:%M")},
                messages.SUCCESS,
            )
        else:
            self.message_user(request, _("Approved and published. Readers see it now."), messages.SUCCESS)
        return self._next_in_queue(request)

    def resolve_view(self, request, revision_id):
        if request.method != "POST" or not moderation.can_propose(request.user):
            raise PermissionDenied
        revision = get_object_or_404(Revision.objects.select_related("content_type", "base"), pk=revision_id)
        obj = revision.get_object()
        if obj is None:
            raise Http404(_("The content this proposal changes no longer exists."))
        try:
            # The choices were made against one published version: if another was published since,
            # they may no longer fit the text.
            if request.POST.get("live_revision", str(obj.live_revision_id)) != str(obj.live_revision_id):
                raise ValidationError(
                    _("The published version changed while you were choosing. Look at the conflicts again.")
                )
            merged = merging.merge_with_live(revision, obj)
            resolutions = conflict_forms.resolutions_from_post(revision.model_class, merged, request.POST)
            merging.resolve_conflicts(revision=revision, user=request.user, resolutions=resolutions)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(
                request,
                _("Conflicts resolved. The proposal now applies to the published version and can be approved."),
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:articles_revision_change", args=[revision.pk]))

    def request_changes_view(self, request, revision_id):
        """Send the proposal back to its author with the reviewer's message."""
        if not review_steps.may_review(request.user):
            raise PermissionDenied
        form = RequestChangesForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _("Say what should change: the author will see it."), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:articles_revision_change", args=[revision_id]))
        failed = self._decide(
            request,
            revision_id,
            lambda r: step_decisions.request_changes(
                revision=r,
                reviewer=request.user,
                message=form.cleaned_data["message"],
                seen_step=request.POST.get("seen_step"),
            ),
        )
        if failed:
            return failed
        self.message_user(request, _("Sent back to the author with your message."), messages.SUCCESS)
        return self._next_in_queue(request)

    def resubmit_view(self, request, revision_id):
        if not moderation.can_propose(request.user):
            raise PermissionDenied
        failed = self._decide(request, revision_id, lambda r: step_decisions.resubmit(revision=r, user=request.user))
        if failed:
            return failed
        self.message_user(request, _("Resubmitted. It is back in review."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:articles_revision_change", args=[revision_id]))

    def reject_view(self, request, revision_id):
        if not review_steps.may_review(request.user):
            raise PermissionDenied
        form = RejectForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _("Give a reason for rejecting: the author will see it."), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:articles_revision_change", args=[revision_id]))
        failed = self._decide(
            request,
            revision_id,
            lambda r: moderation.reject(
                revision=r,
                moderator=request.user,
                reason=form.cleaned_data["reason"],
                seen_step=request.POST.get("seen_step"),
            ),
        )
        if failed:
            return failed
        self.message_user(request, _("Rejected. The author has been told why."), messages.SUCCESS)
        return self._next_in_queue(request)

    def withdraw_view(self, request, revision_id):
        if not moderation.can_propose(request.user):
            raise PermissionDenied
        try:
            failed = self._decide(request, revision_id, lambda r: moderation.withdraw(revision=r, user=request.user))
        except PermissionDenied:
            raise
        if failed:
            return failed
        self.message_user(request, _("Withdrawn. It stays in the history."), messages.SUCCESS)
        return HttpResponseRedirect(
            reverse("admin:articles_revision_changelist") + f"?author__id__exact={request.user.pk}"
        )

    # --- Bulk moderation -------------------------------------------------------------------

    @admin.action(description=_("Approve the selected proposals (the last step publishes)"), permissions=["moderate"])
    def approve_selected(self, request, queryset):
        """All or nothing, like the service: one proposal that cannot be approved approves none.
        Each passes the step it is at, and no other: a proposal at its last step is published."""
        chosen = list(queryset.pending().select_related("content_type"))
        try:
            published = moderation.approve_many(revisions=chosen, moderator=request.user, merge=False)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return
        self.message_user(request, workflow_admin.decisions_message(published), messages.SUCCESS)

    @admin.action(description=_("Reject the selected proposals…"), permissions=["moderate"])
    def reject_selected(self, request, queryset):
        pending = queryset.pending()
        if "reason" in request.POST:
            form = RejectForm(request.POST)
            if form.is_valid():
                count = 0
                try:
                    with transaction.atomic():  # all or nothing: a step this reviewer may not decide rejects none
                        for revision in pending:
                            moderation.reject(
                                revision=revision, moderator=request.user, reason=form.cleaned_data["reason"]
                            )
                            count += 1
                except (PermissionDenied, ValidationError) as error:
                    self.message_user(
                        request,
                        _("Nothing was rejected: %(reason)s")
                        % {"reason": " ".join(getattr(error, "messages", [str(error)]))},
                        messages.ERROR,
                    )
                    return None
                self.message_user(
                    request,
                    ngettext("%d proposal rejected.", "%d proposals rejected.", count) % count,
                    messages.SUCCESS,
                )
                return None
        else:
            form = RejectForm()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject proposals"),
            "opts": self.opts,
            "revisions": pending,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/articles/reject_selected.html", context)


@admin.register(ModerationEvent)
class ModerationEventAdmin(EditorialRecordAdmin):
    list_display = ("at", "kind", "revision", "actor_name", "note")
    list_filter = ("kind",)
    list_select_related = ("revision__content_type",)
    search_fields = ("revision__object_repr", "actor_name", "note")
    date_hierarchy = "at"
