"""Revisions (every proposed or published state of an object), the audit trail, and follow-up work."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from articles.content import markup
from articles.models.content import Article, Figure, Section, Topic
from articles.models.sources import Source

# --- Revisions ----------------------------------------------------------------------------


class RevisionAction(models.TextChoices):
    # Names of actions, shown before the kind of object ("Change section"); in context, so that
    # languages can use a noun here and a verb on buttons.
    CREATE = "create", pgettext_lazy("revision action", "Create")
    CHANGE = "change", pgettext_lazy("revision action", "Change")
    DELETE = "delete", pgettext_lazy("revision action", "Delete")
    UNPUBLISH = "unpublish", pgettext_lazy("revision action", "Unpublish")
    RESTORE = "restore", pgettext_lazy("revision action", "Restore")


class RevisionStatus(models.TextChoices):
    # In context: a status agrees with "revision" (French "Publiée"), not with the content's state ("Publié").
    PENDING = "pending", pgettext_lazy("revision status", "Pending review")
    SCHEDULED = "scheduled", pgettext_lazy("revision status", "Approved, scheduled")
    PUBLISHED = "published", pgettext_lazy("revision status", "Published")
    REJECTED = "rejected", pgettext_lazy("revision status", "Rejected")
    WITHDRAWN = "withdrawn", pgettext_lazy("revision status", "Withdrawn")
    # Sent back to its author by a reviewer; amended and resubmitted, it is pending again.
    RETURNED = "returned", pgettext_lazy("revision status", "Changes requested")


# The kind of object a revision changes, as it follows the action's name ("Change section"): some
# languages need an article and agreement there (French "Modification de la section").
KIND_AFTER_ACTION = {
    "article": pgettext_lazy("kind of object, after a revision action", "article"),
    "section": pgettext_lazy("kind of object, after a revision action", "section"),
    "topic": pgettext_lazy("kind of object, after a revision action", "topic"),
    "source": pgettext_lazy("kind of object, after a revision action", "source"),
    "figure": pgettext_lazy("kind of object, after a revision action", "figure"),
    "timelineevent": pgettext_lazy("kind of object, after a revision action", "timeline event"),
}


class RevisionQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=RevisionStatus.PENDING)

    def scheduled(self):
        return self.filter(status=RevisionStatus.SCHEDULED)

    def amendable(self):
        """Proposals their author may still change: waiting for review, or sent back for changes."""
        return self.filter(status__in=(RevisionStatus.PENDING, RevisionStatus.RETURNED))

    def due(self, now=None):
        """Scheduled revisions whose time has come, earliest first."""
        from django.utils import timezone

        return self.scheduled().filter(scheduled_for__lte=now or timezone.now()).order_by("scheduled_for", "pk")

    def published(self):
        return self.filter(status=RevisionStatus.PUBLISHED)

    def for_object(self, obj):
        return self.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)

    def for_queue(self):
        """Pending proposals, oldest first, with what the queue shows on each row."""
        return self.pending().select_related("content_type", "author", "article", "base").order_by("created_at", "pk")

    def pending_for_article(self, article):
        """Everything pending that would change how ``article`` reads: its own proposals and those
        for the topics, sources and lead figure it uses (including sources its pending sections cite)."""

        def ids(model, pks):
            return Q(content_type=ContentType.objects.get_for_model(model), object_id__in=list(pks))

        pending = self.pending()
        own = pending.filter(article=article)
        cited_keys = {
            key
            for body in own.filter(content_type=ContentType.objects.get_for_model(Section)).values_list(
                "data__body", flat=True
            )
            for key in markup.citation_keys(body or "")
        }
        sources = Source.objects.filter(Q(citations__section__article=article) | Q(key__in=cited_keys)).values_list(
            "pk", flat=True
        )
        topics = Topic.objects.filter(sections__article=article).values_list("pk", flat=True)
        figures = [article.lead_figure_id] if article.lead_figure_id else []
        return (
            pending.filter(Q(article=article) | ids(Source, sources) | ids(Topic, topics) | ids(Figure, figures))
            .select_related("content_type", "author", "base")
            .order_by("created_at", "pk")
            .distinct()
        )


class Revision(models.Model):
    """One proposed or published state of a content object. Never changed once decided."""

    content_type = models.ForeignKey(ContentType, verbose_name=_("kind"), on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField(_("object id"), db_index=True)
    object_repr = models.CharField(_("object"), max_length=300)
    article = models.ForeignKey(
        Article,
        verbose_name=_("article"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="revisions",
        help_text=_("The article this change belongs to, for grouping in the queue."),
    )
    action = models.CharField(_("action"), max_length=16, choices=RevisionAction.choices, default=RevisionAction.CHANGE)
    status = models.CharField(
        _("status"), max_length=16, choices=RevisionStatus.choices, default=RevisionStatus.PENDING, db_index=True
    )
    data = models.JSONField(_("content"), default=dict)
    base = models.ForeignKey(
        "self",
        verbose_name=_("based on"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The live revision the author was editing."),
    )
    summary = models.CharField(_("edit summary"), max_length=300)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="revisions",
    )
    author_name = models.CharField(_("author name"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("proposed at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("last amended"), auto_now=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decided_revisions",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("reason"), blank=True)
    scheduled_for = models.DateTimeField(
        _("publish at"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("When an approved proposal goes live; empty means at once."),
    )
    original_data = models.JSONField(
        _("content as proposed"),
        null=True,
        blank=True,
        help_text=_("The author's own version, kept when a moderator merged or resolved it with newer changes."),
    )
    original_base = models.ForeignKey(
        "self",
        verbose_name=_("originally based on"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reverted_from = models.ForeignKey(
        "self",
        verbose_name=_("reverts to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Where the proposal is in its review; empty: at the first step of the workflow chosen for its
    # kind of content, or the default single step (articles.revisions.review_steps). A deleted step
    # sends the proposals waiting at it back to the start.
    review_step = models.ForeignKey(
        "articles.WorkflowStep",
        verbose_name=_("review step"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RevisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("moderate_revision", _("Can approve, reject, publish directly and revert revisions")),
            ("propose_revision", _("Can propose revisions")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=RevisionStatus.REJECTED) | ~Q(decision_note=""),
                name="revision_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status=RevisionStatus.PENDING) | Q(decided_at__isnull=False),
                name="revision_decision_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status=RevisionStatus.SCHEDULED) | Q(scheduled_for__isnull=False),
                name="revision_schedule_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id", "status"], name="revision_object_status"),
            # The review queue: pending first, oldest first, without sorting the whole table.
            models.Index(fields=["status", "created_at", "id"], name="revision_queue_order"),
        ]

    def __str__(self):
        return f"{self.action_phrase} “{self.object_repr}” #{self.pk}"

    @property
    def action_phrase(self) -> str:
        """What the revision does to what kind of object, e.g. “Change section”, in the interface language."""
        kind = KIND_AFTER_ACTION.get(self.content_type.model, self.content_type.name)
        return pgettext("a revision action, then the kind of object", "%(action)s %(kind)s") % {
            "action": self.get_action_display(),
            "kind": kind,
        }

    @property
    def model_class(self):
        return self.content_type.model_class()

    def get_object(self):
        return self.model_class._default_manager.filter(pk=self.object_id).first()

    def as_object(self):
        """A detached copy of the object with this revision's content, for previews and forms.

        Fetched afresh and never saved: a live row held in memory elsewhere is never changed
        (like Wagtail's ``with_content_json``). Many-to-many values are on ``pending_m2m``.
        """
        obj = self.get_object()
        if obj is not None:
            obj.pending_m2m = obj.apply_snapshot(self.data)
        return obj

    @property
    def is_pending(self):
        return self.status == RevisionStatus.PENDING

    @property
    def is_amendable(self):
        """Not decided yet: waiting for review, or sent back to its author for changes (``amendable()``)."""
        return self.status in (RevisionStatus.PENDING, RevisionStatus.RETURNED)

    @property
    def is_returned(self):
        return self.status == RevisionStatus.RETURNED

    def get_admin_url(self):
        return reverse("admin:articles_revision_change", args=[self.pk])

    def delete(self, *args, **kwargs):
        raise PermissionDenied(_("Revisions are the history of the site and are never deleted."))


class ModerationEvent(models.Model):
    """The audit trail: who did what to which revision, and when."""

    class Kind(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        AMENDED = "amended", _("Amended")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        APPROVED = "approved", _("Approved and published")
        PUBLISHED_DIRECTLY = "published_directly", _("Published directly")
        MERGED = "merged", _("Merged with newer changes")
        SCHEDULED = "scheduled", _("Approved for a later time")
        SCHEDULE_FAILED = "schedule_failed", _("Scheduled publishing failed")
        REJECTED = "rejected", _("Rejected")
        REVERTED = "reverted", _("Reverted")
        OVERRIDDEN = "overridden", _("Changed by a superuser")
        PUBLISHED_OVER = "published_over", _("Published over newer changes")
        STEP_APPROVED = "step_approved", _("Step approved")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        RESUBMITTED = "resubmitted", _("Resubmitted for review")
        # The review's conversation (articles.revisions.comments, sharing).
        COMMENTED = "commented", _("Commented")
        OUTSIDE_COMMENT = "outside_comment", _("Commented as an outside reviewer")
        COMMENT_RESOLVED = "comment_resolved", _("Resolved a comment")
        COMMENT_REOPENED = "comment_reopened", _("Reopened a comment")
        SHARED = "shared", _("Shared for outside review")
        SHARE_REVOKED = "share_revoked", _("Revoked a share link")

    revision = models.ForeignKey(Revision, verbose_name=_("revision"), on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("by (name)"), max_length=150, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    note = models.TextField(_("note"), blank=True)
    # The review step the decision was taken at, by its name then (steps can be renamed or deleted later).
    step_name = models.CharField(_("step"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("moderation event")
        verbose_name_plural = _("moderation events")
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.revision}"


# --- Follow-up work -----------------------------------------------------------------------


class FollowUpQuerySet(models.QuerySet):
    def unfinished(self):
        return self.filter(finished_at__isnull=True)


class FollowUp(models.Model):
    """What is left to do after a publish, once it has committed: written in the publish transaction.

    The transaction holds only the change; re-baking the static pages that show the object, and
    anything else that grows with the number of pages showing it, is done by a background task
    (articles.publishing.followups) in small batches. The row is the task's memory: ``cursor`` is the last
    article done, so a worker that dies between two batches loses nothing, and the next run (a
    retry, or ``manage.py run_follow_ups``) carries on from there.
    """

    content_type = models.ForeignKey(ContentType, verbose_name=_("kind"), on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField(_("object id"))
    # Where the object showed before this publish (old slug, old article, old topics…).
    before = models.JSONField(_("content before"), default=dict, blank=True)
    revision = models.ForeignKey(
        Revision, verbose_name=_("revision"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True, db_index=True)
    stale_pages_removed = models.BooleanField(_("stale pages removed"), default=False)
    cursor = models.PositiveBigIntegerField(_("last article done"), default=0)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, db_index=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.content_type.model} #{self.object_id} ({self.created_at:%Y-%m-%d %H:%M})"

    def get_object(self):
        return self.content_type.model_class()._default_manager.filter(pk=self.object_id).first()
