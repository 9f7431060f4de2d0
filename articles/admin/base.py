"""The admin site's settings and the base classes of every admin: moderated content, editorial records."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from articles.admin.forms import (
    MarkdownEditorWidget,
    ModeratedModelForm,
)
from articles.admin.login_throttle import ThrottledAdminAuthenticationForm
from articles.admin.presence import PresenceAdminMixin
from articles.models import (
    CorrectionSuggestion,
    PublicationState,
    Revision,
    RevisionAction,
    Section,
)
from articles.revisions import corrections, diffing, moderation, review_steps

# Repeated failed sign-ins lock the username out from that address for a while (shared cache).
admin.site.login_form = ThrottledAdminAuthenticationForm
# The stock bulk delete removes rows outright, around moderation.
admin.site.disable_action("delete_selected")


def markdown_widget(request, db_field, *, in_article_form: bool = False) -> dict:
    """The Markdown editor for ``db_field``, told which section or article its preview is for.

    The preview numbers a section's notes within its article; the server checks the ids it is sent.
    ``in_article_form``: the field is in a row of the article's form (the script finds each row's section).
    """
    match = getattr(request, "resolver_match", None)
    object_id = str(match.kwargs.get("object_id", "")) if match else ""
    attrs = {"data-preview-field": db_field.name}
    if object_id.isdigit():
        model = db_field.model._meta.model_name
        if in_article_form or model == "article":
            attrs["data-preview-article"] = object_id
        elif model == "section":
            attrs["data-preview-section"] = object_id
    return {"widget": MarkdownEditorWidget(attrs=attrs)}


def without_delete_icon(formfield):
    """No "delete" icon beside a related field: deleting a parent section from a child's form is a surprise."""
    if formfield is not None and isinstance(formfield.widget, RelatedFieldWidgetWrapper):
        formfield.widget.can_delete_related = False
    return formfield


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


class ModeratedAdmin(PresenceAdminMixin, admin.ModelAdmin):
    """A ModelAdmin whose writes become revisions."""

    form = ModeratedModelForm
    change_form_template = "admin/articles/change_form.html"
    object_history_template = "admin/articles/object_history.html"
    delete_confirmation_template = "admin/articles/delete_confirmation.html"
    readonly_fields = ("state_display",)

    # --- Forms -----------------------------------------------------------------------------

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in diffing.MARKDOWN_FIELDS:
            kwargs.update(markdown_widget(request, db_field))
        return without_delete_icon(super().formfield_for_dbfield(db_field, request, **kwargs))

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
        if self.may_publish_directly(request) and getattr(request, "amending_revision", None) is None:
            change_fields.append("publish_now")
        return fieldsets + [(_("Your change"), {"fields": change_fields, "classes": ("moderation-fields",)})]

    def may_publish_directly(self, request) -> bool:
        """ "Publish now" skips review: offered to a moderator who could take each step of this kind's workflow."""
        return review_steps.may_publish_directly(request.user, ContentType.objects.get_for_model(self.model).pk)

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
                revision = Revision.objects.for_object(obj).amendable().filter(pk=revision_id).first()
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
            extra_context["pending_revisions"] = self.pending_revisions(obj)
            extra_context["amending_revision"] = getattr(request, "amending_revision", None)
            extra_context["correction"] = self._correction_for(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def _correction_for(self, request, obj):
        """The reader correction this edit starts from (``?correction=N``), if any."""
        correction_id = request.GET.get("correction")
        if not correction_id or not isinstance(obj, Section) or not str(correction_id).isdigit():
            return None
        return CorrectionSuggestion.objects.open().filter(pk=correction_id, section=obj).first()

    # --- Writing: every path goes through articles.revisions.moderation ------------------------------

    def _submit(self, request, obj, data, action, summary, publish, base_id=None):
        if publish:
            revision = moderation.publish_directly(
                obj=obj, moderator=request.user, summary=summary, data=data, action=action, base_id=base_id
            )
        else:
            revision = moderation.propose(
                obj=obj, author=request.user, summary=summary, data=data, action=action, base_id=base_id
            )
        request.moderation_results = getattr(request, "moderation_results", []) + [(revision, publish)]
        return revision

    def _publish_requested(self, request, form):
        return self.may_publish_directly(request) and form.cleaned_data.get("publish_now", False)

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
                        self._submit(
                            request,
                            obj,
                            data,
                            RevisionAction.CHANGE,
                            summary,
                            publish,
                            base_id=form.cleaned_data.get("base_revision"),
                        )
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
                self._submit(
                    request,
                    instance,
                    snapshot_from_form(instance, inline_form),
                    RevisionAction.CREATE,
                    summary,
                    publish,
                )
                formset.new_objects.append(instance)
            else:
                self._submit(
                    request,
                    instance,
                    snapshot_from_form(instance, inline_form),
                    RevisionAction.CHANGE,
                    summary,
                    publish,
                    base_id=inline_form.cleaned_data.get("base_revision"),
                )
                formset.changed_objects.append((instance, inline_form.changed_data))

    actions = ["unpublish_selected", "restore_selected"]

    def _bulk_state_change(self, request, queryset, action, states, verb):
        publish = self.may_publish_directly(request)
        done, failures = 0, []
        for obj in queryset.filter(state__in=states):
            try:
                self._submit(
                    request,
                    obj,
                    obj.snapshot(),
                    action,
                    _("%(verb)s “%(object)s”") % {"verb": verb, "object": obj},
                    publish,
                )
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
        self._bulk_state_change(request, queryset, RevisionAction.UNPUBLISH, [PublicationState.LIVE], _("Unpublish"))

    @admin.action(description=_("Restore the selected deleted or unpublished items"))
    def restore_selected(self, request, queryset):
        self._bulk_state_change(
            request,
            queryset,
            RevisionAction.RESTORE,
            [PublicationState.DELETED, PublicationState.UNPUBLISHED],
            _("Restore"),
        )

    def delete_model(self, request, obj):
        summary = request.POST.get("edit_summary", "").strip() or _("Delete “%(object)s”") % {"object": obj}
        publish = self.may_publish_directly(request) and request.POST.get("publish_now") == "on"
        try:
            self._submit(request, obj, obj.snapshot(), RevisionAction.DELETE, summary, publish)
        except ValidationError as error:
            request.moderation_error = " ".join(error.messages)

    def delete_view(self, request, object_id, extra_context=None):
        extra_context = {**(extra_context or {}), "can_moderate": self.may_publish_directly(request)}
        response = super().delete_view(request, object_id, extra_context)
        error = getattr(request, "moderation_error", None)
        if error:
            storage = messages.get_messages(request)
            for _message in storage:
                pass  # drop Django's "deleted successfully"
            self.message_user(request, error, messages.ERROR)
            return HttpResponseRedirect(
                reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[object_id])
            )
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
                if getattr(request, "moderation_amended", False) and revision.is_returned:
                    text = _("Your proposal for “{}” was updated. Resubmit it for review when it is ready.")
                elif getattr(request, "moderation_amended", False):
                    text = _("Your proposal for “{}” was updated and is waiting for review.")
                elif published:
                    text = _("Published: “{}”. Readers see it now.")
                else:
                    text = _("Submitted for review: “{}”. Readers will see it once a moderator approves it.")
                super().message_user(
                    request,
                    format_html(text + ' <a href="{}">{}</a>', revision.object_repr, link, _("View the revision")),
                    messages.SUCCESS,
                )
            return
        if results == [] and level == messages.SUCCESS:
            return super().message_user(request, _("Nothing changed, so nothing was submitted."), messages.WARNING)
        return super().message_user(request, message, level, extra_tags, fail_silently)

    def response_add(self, request, obj, post_url_continue=None):
        request.moderation_results = getattr(request, "moderation_results", [])
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        request.moderation_results = getattr(request, "moderation_results", [])
        response = super().response_change(request, obj)
        return_to = self._public_page_to_return_to(request)
        staying = {"_continue", "_addanother", "_saveasnew", IS_POPUP_VAR} & set(request.POST)
        if return_to and isinstance(response, HttpResponseRedirect) and not staying:
            return HttpResponseRedirect(return_to)
        return response

    def _public_page_to_return_to(self, request):
        """The public page an "Edit" link came from (``?next=``): after saving, the editor goes back
        there, with the notice that the change waits for review. Only a page of this site, never
        the admin itself."""
        target = request.GET.get("next", "")
        safe = url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        if not safe or not target.startswith("/") or target.startswith(reverse("admin:index")):
            return None
        return target

    # --- History, compare and revert -------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/history/compare/",
                self.admin_site.admin_view(self.compare_view),
                name="%s_%s_compare" % info,
            ),
            path(
                "<path:object_id>/revert/<int:revision_id>/",
                self.admin_site.admin_view(self.revert_view),
                name="%s_%s_revert" % info,
            ),
        ] + super().get_urls()

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        revisions = list(
            Revision.objects.for_object(obj)
            .select_related("author", "decided_by")
            .prefetch_related("events__actor")
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
        if obj is None:
            raise Http404(_("There is no such object."))
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        revisions = Revision.objects.for_object(obj)
        try:
            older = revisions.get(pk=request.GET.get("a"))
            newer = revisions.get(pk=request.GET.get("b"))
        except (Revision.DoesNotExist, ValueError):
            raise Http404(_("Choose two revisions of this object to compare.")) from None
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
            revision = moderation.revert(
                obj=obj, to_revision=target, moderator=request.user, summary=request.POST.get("summary", "")
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(
                request,
                _("Reverted: revision #%(new)s publishes the content of revision #%(old)s.")
                % {"new": revision.pk, "old": target.pk},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_history", args=[obj.pk])
        )


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

    # Editors, moderators, and the members of a review step's group who neither propose nor moderate.
    def has_view_permission(self, request, obj=None):
        return moderation.can_propose(request.user) or review_steps.may_review(request.user)

    def has_module_permission(self, request):
        return moderation.can_propose(request.user) or review_steps.may_review(request.user)
