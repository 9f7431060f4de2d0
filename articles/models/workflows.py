"""Review workflows: the ordered steps a proposal passes before it is published, per kind of content.

With no workflow chosen for a kind of content, a proposal has one step: a moderator approves and
publishes it (``articles.revisions.review_steps`` calls that the default step). A workflow's last step
publishes; the earlier ones only pass the proposal on.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

# The kinds of content a workflow can be chosen for (the moderated models), by model name.
WORKFLOW_KINDS = ("article", "section", "topic", "source", "figure", "timelineevent")


class Workflow(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(
        _("description"), blank=True, help_text=_("What this review is for; shown to nobody but staff.")
    )

    class Meta:
        verbose_name = _("review workflow")
        verbose_name_plural = _("review workflows")
        ordering = ["name"]

    def __str__(self):
        return self.name


class WorkflowStepQuerySet(models.QuerySet):
    def in_order(self):
        return self.select_related("group").order_by("workflow_id", "position", "pk")


class WorkflowStep(models.Model):
    """One step of a workflow, taken by the members of one group: they approve it, request changes or reject."""

    workflow = models.ForeignKey(Workflow, verbose_name=_("workflow"), on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(
        _("order"), default=1, help_text=_("Steps are taken from the lowest number to the highest.")
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("For example “Fact-check” or “Copy-edit and publish”.")
    )
    group = models.ForeignKey(
        Group,
        verbose_name=_("done by the group"),
        on_delete=models.PROTECT,
        related_name="review_steps",
        help_text=_("Only its members (and superusers) can decide this step. They need staff status."),
    )

    objects = WorkflowStepQuerySet.as_manager()

    class Meta:
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        ordering = ["workflow", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "position"], name="workflow_step_position_unique"),
        ]

    def __str__(self):
        return self.name


class WorkflowAssignment(models.Model):
    """The workflow a kind of content goes through: at most one per kind."""

    workflow = models.ForeignKey(
        Workflow, verbose_name=_("workflow"), on_delete=models.CASCADE, related_name="assignments"
    )
    content_type = models.OneToOneField(
        ContentType,
        verbose_name=_("kind of content"),
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"app_label": "articles", "model__in": WORKFLOW_KINDS},
        help_text=_("Proposals of this kind go through the workflow's steps; a kind can have one workflow."),
    )

    class Meta:
        verbose_name = _("kind of content reviewed this way")
        verbose_name_plural = _("kinds of content reviewed this way")

    def __str__(self):
        return f"{self.workflow}: {self.content_type.name}"
