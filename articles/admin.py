"""The editors' and moderators' admin.

Every save, add and delete of content goes through ``ModeratedAdmin``, which turns it into a
proposal (or, for a moderator who ticks "Publish now", a revision published at once) through
``articles.moderation``. Live rows are never written by the admin itself.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _, ngettext

from . import corrections, diffing, merging, moderation
from .forms import (
    ApproveForm,
    FigureForm,
    InlineModelForm,
    MarkdownEditorWidget,
    ModeratedModelForm,
    RejectForm,
    SourceForm,
)
from .login_throttle import ThrottledAdminAuthenticationForm
from .models import (
    MODERATED_MODELS,
    Article,
    CorrectionStatus,
    CorrectionSuggestion,
    Figure,
    ModerationEvent,
    PublicationState,
    Revision,
    RevisionAction,
    RevisionStatus,
    Section,
    Source,
    TimelineEvent,
    Topic,
)

admin.site.site_header = _("Mali History editorial desk")
admin.site.site_title = _("Mali History")
admin.site.index_title = _("Content and moderation")
# Repeated failed sign-ins lock the username out from that address for a while (shared cache).
admin.site.login_form = ThrottledAdminAuthenticationForm
# The stock bulk delete removes rows outright, around moderation.
admin.site.disable_action("delete_selected")

MARKDOWN_WIDGETS = {"widget": MarkdownEditorWidget}


def snapshot_from_form(obj, form) -> dict:
    """The proposed content: concrete fields from the (unsaved) instance, many-to-many from the form."""
    for name in obj.REVISION_FIELDS:
        field = obj._meta.get_field(name)
        value = getattr(obj, name)
        if hasattr(value, "_committed") and value and not value._committed:
            # A new upload is stored now, under its own name: nothing is overwritten or lost.
            value.save(value.name, value.file, save=False)
    data = obj.snapshot()
    for name in obj.REVISION_FIELDS:
        field = obj._meta.get_field(name)
        if field.many_to_many and name in form.cleaned_data:
            data[name] = sorted(item.pk for item in form.cleaned_data[name])
    return data


class ModeratedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose writes become revisions."""

    form = ModeratedModelForm
    change_form_template = "admin/articles/change_form.html"
    object_history_template = "admin/articles/object_history.html"
    delete_confirmation_template = "admin/articles/delete_confirmation.html"
    readonly_fields = ("state_display",)

    # --- Forms -----------------------------------------------------------------------------

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in diffing.MARKDOWN_FIELDS:
            kwargs.update(MARKDOWN_WIDGETS)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        amending = getattr(request, "amending_revision", None)
        if amending is None:
            return form_class

        class AmendForm(form_class):
            """The change form prefilled with the pending proposal being amended."""

            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                self.initial["edit_summary"] = amending.summary
                for name in obj.REVISION_FIELDS:
                    if obj._meta.get_field(name).many_to_many and name in self.fields:
                        self.initial[name] = amending.data.get(name, [])

        return AmendForm

    def get_fieldsets(self, request, obj=None):
        own = ("edit_summary", "publish_now", "base_revision")
        fieldsets = [
            (title, {**opts, "fields": [f for f in opts["fields"] if f not in own]})
            for title, opts in super().get_fieldsets(request, obj)
        ]
        change_fields = ["edit_summary", "base_revision"]
        if moderation.can_moderate(request.user) and getattr(request, "amending_revision", None) is None:
            change_fields.append("publish_now")
        return fieldsets + [(_("Your change"), {"fields": change_fields, "classes": ("moderation-fields",)})]

    @admin.display(description=_("State"))
    def state_display(self, obj):
        if obj is None or obj.pk is None:
            return _("New: not published until approved")
        return obj.get_state_display()

    # --- Reading ---------------------------------------------------------------------------

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        revision_id = request.GET.get("revision")
        if obj is not None and revision_id:
            revision = None
            if revision_id.isdigit():
                revision = Revision.objects.for_object(obj).pending().filter(pk=revision_id).first()
            if revision is None:
                raise Http404(_("That proposal is not pending for this object."))
            if revision.author_id != request.user.pk and not moderation.can_moderate(request.user):
                raise PermissionDenied
            obj = revision.as_object()  # the form edits a copy: the live row stays as it is
            request.amending_revision = revision
        return obj

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            extra_context["pending_revisions"] = list(
                Revision.objects.for_object(obj).pending().select_related("author").order_by("created_at")
            )
            extra_context["amending_revision"] = getattr(request, "amending_revision", None)
            extra_context["correction"] = self._correction_for(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def _correction_for(self, request, obj):
        """The reader correction this edit starts from (``?correction=N``), if any."""
        correction_id = request.GET.get("correction")
        if not correction_id or not isinstance(obj, Section) or not str(correction_id).isdigit():
            return None
        return CorrectionSuggestion.objects.open().filter(pk=correction_id, section=obj).first()

    # --- Writing: every path goes through articles.moderation ------------------------------

    def _submit(self, request, obj, data, action, summary, publish, base_id=None):
        if publish:
            revision = moderation.publish_directly(obj=obj, moderator=request.user, summary=summary,
                                                   data=data, action=action, base_id=base_id)
        else:
            revision = moderation.propose(obj=obj, author=request.user, summary=summary, data=data, action=action,
                                          base_id=base_id)
        request.moderation_results = getattr(request, "moderation_results", []) + [(revision, publish)]
        return revision

    def _publish_requested(self, request, form):
        return moderation.can_moderate(request.user) and form.cleaned_data.get("publish_now", False)

    def save_model(self, request, obj, form, change):
        if not change:
            # A new object is stored as a draft so that it has an id; readers never see drafts.
            obj.state = PublicationState.DRAFT
            obj.save()

    def save_related(self, request, form, formsets, change):
        obj = form.instance
        summary = form.cleaned_data["edit_summary"]
        publish = self._publish_requested(request, form)
        amending = getattr(request, "amending_revision", None)
        if not change:
            form.save_m2m()
        data = snapshot_from_form(obj, form)
        request.moderation_results = []
        try:
            with transaction.atomic():
                if amending is not None:
                    moderation.amend(revision=amending, user=request.user, data=data, summary=summary)
                    request.moderation_results = [(amending, False)]
                    request.moderation_amended = True
                elif not change:
                    self._submit(request, obj, data, RevisionAction.CREATE, summary, publish)
                else:
                    live = type(obj)._default_manager.get(pk=obj.pk).snapshot()
                    if data != live:
                        self._submit(request, obj, data, RevisionAction.CHANGE, summary, publish,
                                     base_id=form.cleaned_data.get("base_revision"))
                for formset in formsets:
                    self.save_inline_formset(request, formset, summary, publish)
                correction = self._correction_for(request, obj) if change else None
                if correction is not None and request.moderation_results:
                    corrections.link_to_proposal(suggestion=correction, revision=request.moderation_results[0][0])
        except ValidationError as error:
            # Services re-check what forms checked; a race (e.g. a source deleted meanwhile) lands here.
            raise PermissionDenied(" ".join(error.messages)) from error

    def save_inline_formset(self, request, formset, summary, publish):
        deleted = {id(f) for f in formset.deleted_forms}
        # The admin's change message reads these; formset.save(), which would set them, is never called.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            instance = inline_form.instance
            if id(inline_form) in deleted:
                if instance.pk:
                    self._submit(request, instance, None, RevisionAction.DELETE, summary, publish)
                    formset.deleted_objects.append(instance)
                continue
            if not inline_form.has_changed():
                continue
            if instance.pk is None:
                instance.state = PublicationState.DRAFT
                inline_form.save()  # the draft row and its many-to-many (save_m2m exists only after commit=False)
                self._submit(request, instance, snapshot_from_form(instance, inline_form),
                             RevisionAction.CREATE, summary, publish)
                formset.new_objects.append(instance)
            else:
                self._submit(request, instance, snapshot_from_form(instance, inline_form),
                             RevisionAction.CHANGE, summary, publish,
                             base_id=inline_form.cleaned_data.get("base_revision"))
                formset.changed_objects.append((instance, inline_form.changed_data))

    actions = ["unpublish_selected", "restore_selected"]

    def _bulk_state_change(self, request, queryset, action, states, verb):
        publish = moderation.can_moderate(request.user)
        done, failures = 0, []
        for obj in queryset.filter(state__in=states):
            try:
                self._submit(request, obj, obj.snapshot(), action, _("%(verb)s “%(object)s”") % {
                    "verb": verb, "object": obj}, publish)
                done += 1
            except ValidationError as error:
                failures.append(f"“{obj}”: {' '.join(error.messages)}")
        if not done and not failures:
            self.message_user(request, _("None of the selected items can be changed that way."), messages.WARNING)
        for failure in failures:
            self.message_user(request, failure, messages.ERROR)
        if done:
            self.message_user(request, _("Done."), messages.SUCCESS)

    @admin.action(description=_("Unpublish the selected items (moderators: at once; editors: proposed)"))
    def unpublish_selected(self, request, queryset):
        self._bulk_state_change(request, queryset, RevisionAction.UNPUBLISH, [PublicationState.LIVE],
                                _("Unpublish"))

    @admin.action(description=_("Restore the selected deleted or unpublished items"))
    def restore_selected(self, request, queryset):
        self._bulk_state_change(request, queryset, RevisionAction.RESTORE,
                                [PublicationState.DELETED, PublicationState.UNPUBLISHED], _("Restore"))

    def delete_model(self, request, obj):
        summary = request.POST.get("edit_summary", "").strip() or _("Delete “%(object)s”") % {"object": obj}
        publish = moderation.can_moderate(request.user) and request.POST.get("publish_now") == "on"
        try:
            self._submit(request, obj, obj.snapshot(), RevisionAction.DELETE, summary, publish)
        except ValidationError as error:
            request.moderation_error = " ".join(error.messages)

    def delete_view(self, request, object_id, extra_context=None):
        extra_context = {**(extra_context or {}), "can_moderate": moderation.can_moderate(request.user)}
        response = super().delete_view(request, object_id, extra_context)
        error = getattr(request, "moderation_error", None)
        if error:
            storage = messages.get_messages(request)
            for _message in storage:
                pass  # drop Django's "deleted successfully"
            self.message_user(request, error, messages.ERROR)
            return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                                                args=[object_id]))
        return response

    def get_deleted_objects(self, objs, request):
        # Deletion is a soft, moderated state change: nothing else is removed with the object.
        perms_needed = set()
        if not self.has_delete_permission(request):
            perms_needed.add(self.opts.verbose_name)
        return [str(obj) for obj in objs], {self.opts.verbose_name_plural: len(objs)}, perms_needed, []

    def message_user(self, request, message, level=messages.INFO, extra_tags="", fail_silently=False):
        results = getattr(request, "moderation_results", None)
        if results and level == messages.SUCCESS:
            request.moderation_results = None
            for revision, published in results:
                link = reverse("admin:articles_revision_change", args=[revision.pk])
                if getattr(request, "moderation_amended", False):
                    text = _("Your proposal for “{}” was updated and is waiting for review.")
                elif published:
                    text = _("Published: “{}”. Readers see it now.")
                else:
                    text = _("Submitted for review: “{}”. Readers will see it once a moderator approves it.")
                super().message_user(request, format_html(text + ' <a href="{}">{}</a>', revision.object_repr, link,
                                                          _("View the revision")), messages.SUCCESS)
            return
        if results == [] and level == messages.SUCCESS:
            return super().message_user(request, _("Nothing changed, so nothing was submitted."), messages.WARNING)
        return super().message_user(request, message, level, extra_tags, fail_silently)

    def response_add(self, request, obj, post_url_continue=None):
        request.moderation_results = getattr(request, "moderation_results", [])
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        request.moderation_results = getattr(request, "moderation_results", [])
        return super().response_change(request, obj)

    # --- History, compare and revert -------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<path:object_id>/history/compare/", self.admin_site.admin_view(self.compare_view),
                 name="%s_%s_compare" % info),
            path("<path:object_id>/revert/<int:revision_id>/", self.admin_site.admin_view(self.revert_view),
                 name="%s_%s_revert" % info),
        ] + super().get_urls()

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        revisions = list(
            Revision.objects.for_object(obj).select_related("author", "decided_by").prefetch_related("events__actor")
            .order_by("-created_at", "-pk")
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("History: %s") % obj,
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "revisions": revisions,
            "can_moderate": moderation.can_moderate(request.user),
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)

    def compare_view(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        revisions = Revision.objects.for_object(obj)
        try:
            older = revisions.get(pk=request.GET.get("a"))
            newer = revisions.get(pk=request.GET.get("b"))
        except (Revision.DoesNotExist, ValueError):
            raise Http404(_("Choose two revisions of this object to compare."))
        if older.created_at > newer.created_at:
            older, newer = newer, older
        context = {
            **self.admin_site.each_context(request),
            "title": _("Compare revisions of %s") % obj,
            "object": obj,
            "opts": self.opts,
            "older": older,
            "newer": newer,
            "changes": diffing.compare(type(obj), older.data, newer.data),
        }
        return TemplateResponse(request, "admin/articles/compare.html", context)

    def revert_view(self, request, object_id, revision_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if request.method != "POST" or not moderation.can_moderate(request.user):
            raise PermissionDenied
        target = get_object_or_404(Revision.objects.for_object(obj), pk=revision_id)
        try:
            revision = moderation.revert(obj=obj, to_revision=target, moderator=request.user,
                                         summary=request.POST.get("summary", ""))
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, _("Reverted: revision #%(new)s publishes the content of revision #%(old)s.")
                              % {"new": revision.pk, "old": target.pk}, messages.SUCCESS)
        return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_history",
                                            args=[obj.pk]))


# --- Content admins ----------------------------------------------------------------------


class SectionInline(admin.StackedInline):
    model = Section
    fk_name = "article"
    form = InlineModelForm
    extra = 0
    fields = ("title", "anchor", "parent", "position", "body", "topics", "base_revision")
    prepopulated_fields = {"anchor": ("title",)}
    autocomplete_fields = ("topics",)
    show_change_link = True

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "body":
            kwargs.update(MARKDOWN_WIDGETS)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(state=PublicationState.DELETED).select_related("parent")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = Section.objects.filter(article_id=object_id, parent__isnull=True).exclude(
                state=PublicationState.DELETED) if object_id else Section.objects.none()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class StateListFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return PublicationState.choices

    def queryset(self, request, queryset):
        return queryset.filter(state=self.value()) if self.value() else queryset


@admin.register(Article)
class ArticleAdmin(ModeratedAdmin):
    list_display = ("title", "state", "section_count", "published_at", "updated_at")
    list_filter = (StateListFilter,)
    search_fields = ("title", "slug", "dek")
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("lead_figure",)
    inlines = [SectionInline]
    fieldsets = (
        (None, {"fields": ("title", "dek", "lead_figure")}),
        (_("Advanced"), {"fields": ("slug", "state_display"), "classes": ("collapse",)}),
    )

    def get_queryset(self, request):
        from django.db.models import Count, Q

        return super().get_queryset(request).annotate(
            live_sections=Count("sections", filter=Q(sections__state=PublicationState.LIVE))
        )

    @admin.display(description=_("Published sections"), ordering="live_sections")
    def section_count(self, obj):
        return obj.live_sections

    def get_urls(self):
        return [
            path("<path:object_id>/review/", self.admin_site.admin_view(self.review_view),
                 name="articles_article_review"),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "review_url": reverse("admin:articles_article_review",
                                                                         args=[object_id])}
        return super().change_view(request, object_id, form_url, extra_context)

    def review_view(self, request, object_id):
        """Everything pending for one article, as one diff, approved or rejected in one go."""
        article = self.get_object(request, unquote(object_id))
        if article is None:
            raise Http404
        if not self.has_view_or_change_permission(request, article):
            raise PermissionDenied
        pending = list(Revision.objects.pending_for_article(article))
        if request.method == "POST":
            if not moderation.can_moderate(request.user):
                raise PermissionDenied
            chosen = [r for r in pending if str(r.pk) in request.POST.getlist("revision")]
            if not chosen:
                self.message_user(request, _("Select at least one proposal."), messages.WARNING)
            elif "reject" in request.POST:
                form = RejectForm(request.POST)
                if form.is_valid():
                    with transaction.atomic():
                        for revision in chosen:
                            moderation.reject(revision=revision, moderator=request.user,
                                              reason=form.cleaned_data["reason"])
                    self.message_user(request, ngettext("%d proposal rejected.", "%d proposals rejected.",
                                                        len(chosen)) % len(chosen), messages.SUCCESS)
                else:
                    self.message_user(request, _("Give a reason for rejecting: the authors will see it."),
                                      messages.ERROR)
            else:
                try:
                    moderation.approve_many(revisions=chosen, moderator=request.user)
                except ValidationError as error:
                    self.message_user(request, " ".join(error.messages), messages.ERROR)
                else:
                    self.message_user(request, ngettext("%d proposal published together.",
                                                        "%d proposals published together.", len(chosen))
                                      % len(chosen), messages.SUCCESS)
            return HttpResponseRedirect(request.path)
        items = []
        for revision in pending:
            obj = revision.get_object()
            live = obj.snapshot() if obj is not None and obj.live_revision_id else {}
            proposed = {} if revision.action == RevisionAction.DELETE else revision.data
            items.append({
                "revision": revision,
                "stale": moderation.is_stale(revision, obj),
                "changes": diffing.compare(revision.model_class, live, proposed),
            })
        context = {
            **self.admin_site.each_context(request),
            "title": _("Review everything pending for “%s”") % article,
            "opts": self.opts,
            "object": article,
            "items": items,
            "can_moderate": moderation.can_moderate(request.user),
            "reject_form": RejectForm(),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/articles/article_review.html", context)


@admin.register(Section)
class SectionAdmin(ModeratedAdmin):
    list_display = ("title", "article", "parent", "position", "state", "updated_at")
    list_filter = (StateListFilter, "article", "topics")
    list_select_related = ("article", "parent")
    search_fields = ("title", "anchor", "body")
    autocomplete_fields = ("article", "parent", "topics")
    prepopulated_fields = {"anchor": ("title",)}
    ordering = ("article", "position")
    fieldsets = (
        (None, {"fields": ("article", "title", "body", "topics")}),
        (_("Placement"), {"fields": ("parent", "position")}),
        (_("Advanced"), {"fields": ("anchor", "state_display"), "classes": ("collapse",)}),
    )


@admin.register(Topic)
class TopicAdmin(ModeratedAdmin):
    list_display = ("name", "slug", "state", "updated_at")
    list_filter = (StateListFilter,)
    search_fields = ("name", "slug", "summary")
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = (
        (None, {"fields": ("name", "summary", "body")}),
        (_("Advanced"), {"fields": ("slug", "state_display"), "classes": ("collapse",)}),
    )


@admin.register(Source)
class SourceAdmin(ModeratedAdmin):
    form = SourceForm
    list_display = ("key", "title", "kind", "publisher", "date_display", "state")
    list_filter = (StateListFilter, "kind")
    search_fields = ("key", "title", "publisher", "identifier", "authors")
    fieldsets = (
        (None, {"fields": ("key", "kind", "title", "authors", "publisher", "container_title")}),
        (_("Date (fill in as much as is known)"), {"fields": (("date_year", "date_month", "date_day"),)}),
        (_("Where to find it"), {"fields": ("url", "accessed_on", "identifier")}),
        (_("Advanced"), {"fields": ("notes", "state_display"), "classes": ("collapse",)}),
    )

    @admin.display(description=_("Date"))
    def date_display(self, obj):
        return obj.date_display


@admin.register(Figure)
class FigureAdmin(ModeratedAdmin):
    form = FigureForm
    list_display = ("thumbnail", "alt_text", "caption", "credit", "state")
    list_filter = (StateListFilter,)
    search_fields = ("alt_text", "caption", "credit")
    fieldsets = (
        (None, {"fields": ("image", "alt_text", "caption")}),
        (_("Rights"), {"fields": ("credit", "licence")}),
        (_("Advanced"), {"fields": ("state_display",), "classes": ("collapse",)}),
    )

    @admin.display(description=_("Image"))
    def thumbnail(self, obj):
        if not obj.image:
            return "—"
        return format_html('<img src="{}" alt="" width="80" class="figure-thumbnail">', obj.image.url)


# --- Timeline events (articles.timeline) ---------------------------------------------------


@admin.register(TimelineEvent)
class TimelineEventAdmin(ModeratedAdmin):
    list_display = ("title", "date_column", "topic_names", "state", "updated_at")
    list_filter = (StateListFilter, "topics", "date_year")
    search_fields = ("title", "text")
    autocomplete_fields = ("topics",)
    fieldsets = (
        (None, {"fields": ("title", "text", "topics")}),
        (_("Date (fill in as much as is known)"), {"fields": (("date_year", "date_month", "date_day"),)}),
        (_("Advanced"), {"fields": ("state_display",), "classes": ("collapse",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("topics")

    @admin.display(description=_("Date"), ordering="date_year")
    def date_column(self, obj):
        return obj.date_display

    @admin.display(description=_("Topics"))
    def topic_names(self, obj):
        return ", ".join(topic.name for topic in obj.topics.all()) or "—"


# --- Moderation ----------------------------------------------------------------------------


class EditorialRecordAdmin(admin.ModelAdmin):
    """Records of the editorial process: staff who take part may read them; nobody edits or deletes
    them through the admin (history is never rewritten)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return moderation.can_propose(request.user)

    def has_module_permission(self, request):
        return moderation.can_propose(request.user)



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


class MineFilter(admin.SimpleListFilter):
    title = _("author")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("1", _("My proposals"))]

    def queryset(self, request, queryset):
        return queryset.filter(author=request.user) if self.value() == "1" else queryset


class ContentTypeFilter(admin.SimpleListFilter):
    title = _("kind of content")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(m._meta.model_name, m._meta.verbose_name.capitalize()) for m in MODERATED_MODELS]

    def queryset(self, request, queryset):
        return queryset.filter(content_type__model=self.value()) if self.value() else queryset


@admin.register(Revision)
class RevisionAdmin(EditorialRecordAdmin):
    list_display = ("object_link", "kind", "article", "author_name", "age", "summary", "size_of_change",
                    "status_display", "scheduled_for")
    list_display_links = None
    list_filter = (RevisionStatusFilter, MineFilter, ContentTypeFilter, "author", "article")
    list_select_related = ("content_type", "article", "base", "author")
    search_fields = ("object_repr", "summary", "author_name")
    ordering = ("created_at", "pk")
    actions = ["approve_selected", "reject_selected"]
    list_per_page = 50
    show_full_result_count = False

    def has_moderate_permission(self, request):
        return moderation.can_moderate(request.user)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}),
                         "open_corrections": CorrectionSuggestion.objects.filter(status=CorrectionStatus.OPEN).count()}
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("Object"), ordering="object_repr")
    def object_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:articles_revision_change", args=[obj.pk]),
                           obj.object_repr or "—")

    @admin.display(description=_("Kind"))
    def kind(self, obj):
        return f"{obj.get_action_display()} {obj.content_type.name}"

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
        return obj.get_status_display()

    # --- The review page -------------------------------------------------------------------

    def get_urls(self):
        return [
            path("<int:revision_id>/approve/", self.admin_site.admin_view(self.approve_view),
                 name="articles_revision_approve"),
            path("<int:revision_id>/reject/", self.admin_site.admin_view(self.reject_view),
                 name="articles_revision_reject"),
            path("<int:revision_id>/withdraw/", self.admin_site.admin_view(self.withdraw_view),
                 name="articles_revision_withdraw"),
            path("<int:revision_id>/resolve/", self.admin_site.admin_view(self.resolve_view),
                 name="articles_revision_resolve"),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        revision = get_object_or_404(
            Revision.objects.select_related("content_type", "author", "decided_by", "base", "article"),
            pk=unquote(object_id),
        )
        model = revision.model_class
        obj = revision.get_object()
        live = obj.snapshot() if obj is not None and obj.live_revision_id else {}
        stale = moderation.is_stale(revision, obj)
        if revision.is_pending:
            changes = diffing.compare(model, live, revision.data if revision.action != RevisionAction.DELETE else {})
        else:
            changes = diffing.compare(model, revision.base.data if revision.base else {}, revision.data)
        since_base = diffing.compare(model, revision.base.data if revision.base else {}, live) if stale else []
        merged = moderation.merge_with_live(revision, obj) if stale and revision.action == RevisionAction.CHANGE else None
        merged_changes = diffing.compare(model, live, merged.data) if merged and merged.is_clean else []
        conflicts = [
            {
                "name": f.name,
                "label": str(model._meta.get_field(f.name).verbose_name).capitalize(),
                "is_text": f.name in merging.TEXT_FIELDS and isinstance(f.proposed, (str, type(None))),
                "base": diffing.display_value(model, f.name, f.base),
                "live": diffing.display_value(model, f.name, f.live),
                "proposed": diffing.display_value(model, f.name, f.proposed),
                "marked": f.marked_text() if f.name in merging.TEXT_FIELDS and isinstance(f.proposed, (str, type(None))) else "",
            }
            for f in (merged.conflicts if merged else [])
        ]
        article = revision.article or (obj if isinstance(obj, Article) else None)
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
            "can_moderate": moderation.can_moderate(request.user),
            "is_author": revision.author_id == request.user.pk,
            "reject_form": RejectForm(),
            "approve_form": ApproveForm(initial={"merge": bool(merged and merged.is_clean)}),
            "events": revision.events.select_related("actor").order_by("at", "pk"),
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

    def approve_view(self, request, revision_id):
        if not moderation.can_moderate(request.user):
            raise PermissionDenied
        form = ApproveForm(request.POST)
        if not form.is_valid():
            self.message_user(request, " ".join(m for errors in form.errors.values() for m in errors), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:articles_revision_change", args=[revision_id]))
        publish_at = form.cleaned_data.get("publish_at")
        failed = self._decide(request, revision_id, lambda r: moderation.approve(
            revision=r, moderator=request.user, override_stale=form.cleaned_data["override_stale"],
            merge=form.cleaned_data["merge"], publish_at=publish_at))
        if failed:
            return failed
        if publish_at and publish_at > timezone.now():
            self.message_user(request, _("Approved. It will be published at %(when)s (UTC).")
                              % {"when": publish_at.strftime("%Y-%m-%d %H:%M")}, messages.SUCCESS)
        else:
            self.message_user(request, _("Approved and published. Readers see it now."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:articles_revision_changelist"))

    def resolve_view(self, request, revision_id):
        if request.method != "POST" or not moderation.can_propose(request.user):
            raise PermissionDenied
        revision = get_object_or_404(Revision.objects.select_related("content_type", "base"), pk=revision_id)
        merged = moderation.merge_with_live(revision)
        resolutions = {}
        for conflict in merged.conflicts:
            key = f"resolve_{conflict.name}"
            if conflict.name in merging.TEXT_FIELDS and isinstance(conflict.proposed, (str, type(None))):
                if key in request.POST:
                    resolutions[conflict.name] = request.POST[key].replace("\r\n", "\n")
            elif request.POST.get(key) in ("live", "proposed"):
                resolutions[conflict.name] = getattr(conflict, request.POST[key])
        try:
            moderation.resolve_conflicts(revision=revision, user=request.user, resolutions=resolutions)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, _("Conflicts resolved. The proposal now applies to the published version "
                                         "and can be approved."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:articles_revision_change", args=[revision.pk]))

    def reject_view(self, request, revision_id):
        if not moderation.can_moderate(request.user):
            raise PermissionDenied
        form = RejectForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _("Give a reason for rejecting: the author will see it."), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:articles_revision_change", args=[revision_id]))
        failed = self._decide(request, revision_id, lambda r: moderation.reject(
            revision=r, moderator=request.user, reason=form.cleaned_data["reason"]))
        if failed:
            return failed
        self.message_user(request, _("Rejected. The author has been told why."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:articles_revision_changelist"))

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
        return HttpResponseRedirect(reverse("admin:articles_revision_changelist") + "?mine=1")

    # --- Bulk moderation -------------------------------------------------------------------

    @admin.action(description=_("Approve and publish the selected proposals"), permissions=["moderate"])
    def approve_selected(self, request, queryset):
        """All or nothing, like the service: one proposal that cannot be published publishes none."""
        chosen = list(queryset.pending().select_related("content_type"))
        try:
            published = moderation.approve_many(revisions=chosen, moderator=request.user, merge=False)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return
        count = len(published)
        self.message_user(request, ngettext("%d proposal published.", "%d proposals published.", count) % count,
                          messages.SUCCESS)

    @admin.action(description=_("Reject the selected proposals…"), permissions=["moderate"])
    def reject_selected(self, request, queryset):
        pending = queryset.pending()
        if "reason" in request.POST:
            form = RejectForm(request.POST)
            if form.is_valid():
                count = 0
                for revision in pending:
                    moderation.reject(revision=revision, moderator=request.user, reason=form.cleaned_data["reason"])
                    count += 1
                self.message_user(request, ngettext("%d proposal rejected.", "%d proposals rejected.", count) % count,
                                  messages.SUCCESS)
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



@admin.register(CorrectionSuggestion)
class CorrectionSuggestionAdmin(EditorialRecordAdmin):
    """Readers' suggestions, beside the editors' proposals in the moderators' queue."""

    list_display = ("section", "article", "problem_excerpt", "status", "created_at", "has_email")
    list_filter = ("status",)
    list_select_related = ("section__article",)
    search_fields = ("problem", "suggested_text", "section__title")
    readonly_fields = ("section", "problem", "suggested_text", "source_reference", "email", "status", "created_at",
                       "revision", "decided_by", "decided_at", "decision_note")
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
        suggestion = get_object_or_404(CorrectionSuggestion.objects.select_related("section__article"),
                                       pk=unquote(object_id))
        if request.method == "POST":
            if not moderation.can_moderate(request.user):
                raise PermissionDenied
            note = request.POST.get("note", "").strip()
            if suggestion.status not in (CorrectionStatus.OPEN, CorrectionStatus.PROPOSED):
                self.message_user(request, _("This suggestion was already decided."), messages.WARNING)
            elif "accept" in request.POST:
                corrections.accept(suggestion=suggestion, moderator=request.user, note=note)
                self.message_user(request, _("Accepted; the reader is told if they left an address."),
                                  messages.SUCCESS)
            elif "dismiss" in request.POST:
                corrections.dismiss(suggestion=suggestion, moderator=request.user, note=note)
                self.message_user(request, _("Dismissed; the reader is told if they left an address."),
                                  messages.SUCCESS)
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
