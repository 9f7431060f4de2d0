"""Review workflows in the admin: setting up the steps, and the queue's step column and filter."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from articles.models import RevisionStatus, Workflow, WorkflowAssignment, WorkflowStep
from articles.revisions import review_steps


class WorkflowStepInline(admin.StackedInline):
    # Stacked, not tabular: every field keeps a visible label of its own (screen readers, axe-core).
    model = WorkflowStep
    fields = ("position", "name", "group")
    extra = 0
    min_num = 1
    ordering = ("position", "pk")


class KindOfContentField(forms.ModelChoiceField):
    """Kinds of content by the names editors know them by ("Section"), not "articles | section"."""

    def label_from_instance(self, obj):
        model = obj.model_class()
        return model._meta.verbose_name.capitalize() if model else obj.model


class WorkflowAssignmentInline(admin.StackedInline):
    model = WorkflowAssignment
    fields = ("content_type",)
    extra = 0
    verbose_name = _("kind of content reviewed this way")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "content_type":
            kwargs["form_class"] = KindOfContentField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    """Superusers set up workflows: ordered steps, each taken by a group, and the kinds of content they review."""

    list_display = ("name", "steps_in_order", "kinds")
    search_fields = ("name",)
    inlines = [WorkflowStepInline, WorkflowAssignmentInline]
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("steps__group", "assignments__content_type")

    @admin.display(description=_("Steps, in order"))
    def steps_in_order(self, obj):
        steps = sorted(obj.steps.all(), key=lambda s: (s.position, s.pk))
        return " → ".join(f"{s.name} ({s.group.name})" for s in steps) or "—"

    @admin.display(description=_("Reviews"))
    def kinds(self, obj):
        labels = [KindOfContentField.label_from_instance(None, a.content_type) for a in obj.assignments.all()]
        return ", ".join(sorted(labels)) or "—"


# --- The review queue -------------------------------------------------------------------------


def with_step_names(queryset):
    """Each row's current step and its group, read in the list's own query (no query per row)."""
    first = WorkflowStep.objects.filter(workflow__assignments__content_type=OuterRef("content_type_id")).order_by(
        "position", "pk"
    )
    return queryset.annotate(
        step_label=Coalesce("review_step__name", Subquery(first.values("name")[:1])),
        step_group=Coalesce("review_step__group__name", Subquery(first.values("group__name")[:1])),
    )


@admin.display(description=_("Step"))
def step_display(revision):
    if revision.status != RevisionStatus.PENDING:
        return "—"
    if not getattr(revision, "step_label", None):
        return review_steps.DEFAULT_STEP_NAME
    return _("%(step)s (%(group)s)") % {"step": revision.step_label, "group": revision.step_group}


class WaitingForMyStepFilter(admin.SimpleListFilter):
    """The proposals whose current step the signed-in reviewer may decide."""

    title = _("review step")
    parameter_name = "step"
    MINE = "mine"

    def lookups(self, request, model_admin):
        return [(self.MINE, _("Waiting for my step"))]

    def queryset(self, request, queryset):
        if self.value() == self.MINE:
            return queryset.filter(review_steps.waiting_for(request.user))
        return queryset


def decisions_message(revisions) -> str:
    """What a bulk approval did: proposals published, and proposals passed on to their next step."""
    published = sum(r.status in (RevisionStatus.PUBLISHED, RevisionStatus.SCHEDULED) for r in revisions)
    passed = len(revisions) - published
    parts = []
    if published or not passed:
        parts.append(ngettext("%d proposal published.", "%d proposals published.", published) % published)
    if passed:
        parts.append(
            ngettext("%d proposal passed on to its next step.", "%d proposals passed on to their next step.", passed)
            % passed
        )
    return " ".join(parts)
