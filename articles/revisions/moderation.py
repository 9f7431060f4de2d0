"""The moderation services: the only way content changes.

The admin, the importer, the demo loader and the tests all call these. Each service checks
permission, changes state inside one transaction, records an audit event, and sends e-mail only
after the transaction commits.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _

from articles.models import (
    Article,
    ModeratedContent,
    ModerationEvent,
    PublicationState,
    Revision,
    RevisionAction,
    RevisionStatus,
    Section,
)
from articles.publishing import metrics, publish
from articles.revisions import (
    audit,
    comments,
    corrections,
    merging,
    notifications,
    review_steps,
    step_decisions,
    validation,
)
from articles.revisions.figure_proposals import figure_proposals_shown_by, refuse_unapproved_figures
from articles.revisions.permissions import can_moderate, can_propose, display_name


@transaction.atomic
def propose(
    *,
    obj: ModeratedContent,
    author: User,
    summary: str,
    data: dict | None = None,
    action: str = RevisionAction.CHANGE,
    base_id: int | None = None,
    notify: bool = True,
) -> Revision:
    """Record a proposed state of ``obj`` for review; live content does not change.

    ``base_id`` is the live revision the author saw when they started editing; without it, the
    one live now. Approval compares it with the live revision then, so edits never silently
    overwrite each other.
    """
    if not can_propose(author):
        raise PermissionDenied(_("You may not propose changes."))
    if obj.pk is None:
        raise ValueError("Save new objects as drafts before proposing them.")
    summary = validation.clean_summary(summary)
    data = obj.snapshot() if data is None else data
    validation.validate_data(obj, data, action)
    article = obj.owning_article()
    revision = Revision.objects.create(
        content_type=_content_type(obj),
        object_id=obj.pk,
        object_repr=str(obj)[:300],
        article=article if article is not None and article.pk else None,
        action=action,
        data=data,
        base_id=base_id if base_id is not None else _live_revision_id(obj),
        summary=summary,
        author=author,
        author_name=display_name(author),
    )
    audit.record(revision, ModerationEvent.Kind.PROPOSED, author, summary)
    if notify:
        transaction.on_commit(lambda: notifications.send_proposal_submitted.enqueue(revision.pk))
    return revision


@transaction.atomic
def amend(*, revision: Revision, user: User, data: dict, summary: str) -> Revision:
    """Replace the content of a pending proposal, or of one sent back for changes; its base stays the same."""
    revision = Revision.objects.select_for_update().get(pk=revision.pk)
    if revision.status not in (RevisionStatus.PENDING, RevisionStatus.RETURNED):
        raise ValidationError(
            _("Only a pending proposal can be amended; this one is %(status)s.")
            % {"status": revision.get_status_display().lower()}
        )
    if revision.author_id != getattr(user, "pk", None) and not can_moderate(user):
        raise PermissionDenied(_("Only the author or a moderator can amend this proposal."))
    obj = revision.get_object()
    validation.validate_data(obj, data, revision.action)
    revision.data = data
    revision.summary = validation.clean_summary(summary)
    revision.object_repr = str(obj)[:300]
    revision.save(update_fields=["data", "summary", "object_repr", "updated_at"])
    audit.record(revision, ModerationEvent.Kind.AMENDED, user, revision.summary)
    comments.follow_revision(revision)
    return revision


@transaction.atomic
def withdraw(*, revision: Revision, user: User) -> Revision:
    revision = Revision.objects.select_for_update().get(pk=revision.pk)
    if revision.status not in (RevisionStatus.PENDING, RevisionStatus.RETURNED):
        raise ValidationError(_("Only a pending proposal can be withdrawn."))
    if revision.author_id != getattr(user, "pk", None) and not user.is_superuser:
        raise PermissionDenied(_("Only the author can withdraw this proposal."))
    revision.status = RevisionStatus.WITHDRAWN
    revision.decided_by = user
    revision.decided_at = timezone.now()
    revision.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit.record(revision, ModerationEvent.Kind.WITHDRAWN, user)
    return revision


# --- Publishing a revision --------------------------------------------------------------------------
#
# Lock order. Every publish takes its row locks once each, in this order, each kind by primary key:
#   the revision, then sources, topics, figures, timeline events, articles, sections.
# A publish locks only its own object (and, for a section, the article(s) it belongs to, whose
# versions it numbers): so two approvals never wait for each other in a cycle, and a popular
# source's approval holds one row, whatever the number of articles citing it. Content rows are
# locked FOR NO KEY UPDATE: inserting a citation or a proposal that refers to them (a KEY SHARE
# lock) does not wait.
LOCK_ORDER = ("revision", "source", "topic", "figure", "timelineevent", "article", "section")
DIRECT_KINDS = review_steps.DIRECT_KINDS


class PublishRevision:
    """Publishing one revision, now: :meth:`check` says whether it may be, :meth:`execute` does it.

    Approve, publish directly, revert and scheduled publishing all come through here. Call both
    inside one transaction (``execute`` calls ``check`` when it has not run). ``merge`` merges a
    stale change three ways with what was published since; ``publish_over`` publishes a stale
    proposal over the newer changes, recorded as an event of its own.
    """

    def __init__(
        self,
        revision: Revision,
        *,
        moderator: User,
        merge: bool = False,
        publish_over: bool = False,
        event_kind: str = ModerationEvent.Kind.APPROVED,
        notify: bool = True,
    ) -> None:
        self.revision = revision
        self.moderator = moderator
        self.merge = merge
        self.publish_over = publish_over
        self.event_kind = event_kind
        self.notify = notify
        self.obj: ModeratedContent | None = None
        self.merged: merging.MergeResult | None = None
        self.over = False

    def _lock(self) -> tuple[Revision, ModeratedContent]:
        revision = review_steps.with_workflow_flag(
            Revision.objects.select_for_update(of=("self",)).select_related("content_type")
        ).get(pk=self.revision.pk)
        model = revision.model_class
        if model is Section:
            # The article it is in and the one it moves to, each by primary key, in one statement.
            current = Section.objects.filter(pk=revision.object_id).values("article_id")
            articles = Q(pk__in=current) | Q(pk=revision.data.get("article") or 0)
            list(Article.objects.select_for_update(no_key=True).filter(articles).order_by("pk").values("pk"))
        obj = (
            model._default_manager.select_for_update(no_key=True, of=("self",))
            .select_related("live_revision")
            .get(pk=revision.object_id)
        )
        return revision, obj

    def check(self) -> None:
        """Lock what the publish changes, and refuse with a clear message what may not be published."""
        if not review_steps.may_review(self.moderator):
            raise PermissionDenied(_("Only moderators can approve proposals."))
        self.revision, self.obj = self._lock()
        revision = self.revision
        # Who may publish is read under the lock: the step the proposal is at now.
        review_steps.check_may_publish(self.moderator, revision, direct=self.event_kind in DIRECT_KINDS)
        if revision.status not in (RevisionStatus.PENDING, RevisionStatus.SCHEDULED):
            raise ValidationError(
                _("This proposal is already %(status)s.") % {"status": revision.get_status_display().lower()}
            )
        # Said here, before anything changes, so the review page, the admin list's bulk approval
        # and scheduled publishing all refuse alike.
        refuse_unapproved_figures(revision)
        if merging.is_stale(revision, self.obj):
            if self.publish_over:
                self.over = True
            elif not self.merge or revision.action != RevisionAction.CHANGE:
                raise merging.StaleRevisionError(
                    _(
                        "“%(object)s” changed since this proposal was written. Review the newer changes; "
                        "publishing it as it is would undo them."
                    )
                    % {"object": revision.object_repr},
                    code="stale",
                )
            else:
                self.merged = merging.merge_with_live(revision, self.obj)
                if not self.merged.is_clean:
                    raise merging.MergeConflictError(
                        _(
                            "This proposal and the newer published version change the same text (%(fields)s). "
                            "Resolve the conflict before publish."
                        )
                        % {"fields": ", ".join(f.name for f in self.merged.conflicts)},
                        code="conflict",
                    )

    @metrics.PUBLISH_SECONDS.time()
    def execute(self) -> Revision:
        if self.obj is None:
            self.check()
        revision, obj, moderator = self.revision, self.obj, self.moderator
        if self.merged is not None:
            merging.rebase(
                revision,
                obj,
                self.merged.data,
                moderator,
                ModerationEvent.Kind.MERGED,
                _("Merged with revision #%(live)s") % {"live": obj.live_revision_id},
            )
        replaced = obj.live_revision_id
        publish.apply_revision(revision, obj)
        revision.status = RevisionStatus.PUBLISHED
        revision.decided_by = moderator
        revision.decided_at = timezone.now()
        revision.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
        if self.over:
            audit.record(
                revision,
                ModerationEvent.Kind.PUBLISHED_OVER,
                moderator,
                _("Published over revision #%(live)s, which was newer than this proposal's base") % {"live": replaced},
            )
        step_name = "" if self.event_kind in DIRECT_KINDS else review_steps.current_step(revision).recorded_name
        audit.record(revision, self.event_kind, moderator, step_name=step_name)
        corrections.proposal_decided(revision)
        if self.notify and revision.author_id and revision.author_id != moderator.pk:
            transaction.on_commit(lambda: notifications.send_proposal_decided.enqueue(revision.pk))
        return revision


@transaction.atomic
def approve(
    *,
    revision: Revision,
    moderator: User,
    override_stale: bool = False,
    merge: bool = False,
    publish_at: datetime.datetime | None = None,
    event_kind: str = ModerationEvent.Kind.APPROVED,
    notify: bool = True,
    with_figures: bool = False,
    seen_step: str | None = None,
) -> Revision:
    """Approve the step a pending proposal is at; the last (by default the only) one publishes it, now or at ``publish_at``.

    A stale proposal is refused, unless ``merge`` (after the moderator saw the merged result:
    non-overlapping edits are merged three ways, overlapping ones raise MergeConflictError) or
    ``override_stale`` (the moderator read the newer changes and publishes over them; recorded).
    ``with_figures`` first approves the pending figures its text shows, in the same transaction;
    ``seen_step``: the step the reviewer's page showed (a step's primary key, "" for the default step).
    """
    if event_kind not in DIRECT_KINDS:
        step = review_steps.current_step(review_steps.with_workflow_flag(Revision.objects).get(pk=revision.pk))
        review_steps.check_may_decide(moderator, step, refusal=_("Only moderators can approve proposals."))
        if not step.is_last:
            if publish_at is not None:
                raise ValidationError(_("A publishing time is chosen at the last step, which publishes."))
            return step_decisions.approve_step(revision=revision, reviewer=moderator, seen_step=seen_step)
        review_steps.check_seen_step(revision, step, seen_step)
    if with_figures:
        for figure_revision in figure_proposals_shown_by(revision):
            approve(revision=figure_revision, moderator=moderator, notify=notify)
    if publish_at is not None and publish_at > timezone.now():
        # of=("self",): lock the revision row only, not the content type it is joined to.
        revision = Revision.objects.select_for_update(of=("self",)).select_related("content_type").get(pk=revision.pk)
        if revision.status != RevisionStatus.PENDING:
            raise ValidationError(
                _("This proposal is already %(status)s.") % {"status": revision.get_status_display().lower()}
            )
        refuse_unapproved_figures(revision)
        revision.status = RevisionStatus.SCHEDULED
        revision.scheduled_for = publish_at
        revision.decided_by = moderator
        revision.decided_at = timezone.now()
        revision.save(update_fields=["status", "scheduled_for", "decided_by", "decided_at", "updated_at"])
        audit.record(
            revision,
            ModerationEvent.Kind.SCHEDULED,
            moderator,
            _("To be published at %(when)s") % {"when": publish_at.isoformat(timespec="minutes")},
        )
        pk = revision.pk
        transaction.on_commit(lambda: publish_scheduled_revision.using(run_after=publish_at).enqueue(pk))
        return revision
    action = PublishRevision(
        revision, moderator=moderator, merge=merge, publish_over=override_stale, event_kind=event_kind, notify=notify
    )
    action.check()
    if action.revision.status != RevisionStatus.PENDING:
        raise ValidationError(
            _("This proposal is already %(status)s.") % {"status": action.revision.get_status_display().lower()}
        )
    return action.execute()


# Sources, topics and figures go first (sections and articles cite and show them), in the lock order.
PUBLISH_ORDER = {model: position for position, model in enumerate(LOCK_ORDER[1:])}


@transaction.atomic
def approve_many(*, revisions: Iterable[Revision], moderator: User, merge: bool = True) -> list[Revision]:
    """Approve a set of proposals as one change: all are published, or (on any error) none."""
    ordered = sorted(
        revisions,
        key=lambda r: (
            PUBLISH_ORDER.get(r.content_type.model, 9),
            r.action != RevisionAction.CREATE,
            r.data.get("parent") is not None,
            r.created_at,
            r.pk,
        ),
    )
    published = []
    for revision in ordered:
        try:
            published.append(approve(revision=revision, moderator=moderator, merge=merge))
        except (ValidationError, PermissionDenied) as error:
            raise ValidationError(
                _("Nothing was published: “%(object)s” (#%(pk)s) could not be: %(reason)s")
                % {
                    "object": revision.object_repr,
                    "pk": revision.pk,
                    "reason": " ".join(getattr(error, "messages", [str(error)])),
                }
            ) from error
    return published


def publish_scheduled(revision_id: int, *, now: datetime.datetime | None = None) -> str:
    """Publish one scheduled revision if its time has come. Safe to run twice, or in two workers at once:
    the revision is taken once. Returns "published", "not due", "taken" or the reason it failed."""
    with transaction.atomic():
        revision = (
            Revision.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("content_type", "decided_by")
            .filter(pk=revision_id, status=RevisionStatus.SCHEDULED)
            .first()
        )
        if revision is None:
            return "taken"  # published, failed or being published by another worker
        if revision.scheduled_for > (now or timezone.now()):
            return "not due"
        moderator = revision.decided_by
        try:
            with transaction.atomic():
                at = review_steps.current_step(revision)
                if moderator is None or not at.is_last or not review_steps.may_decide(moderator, at):
                    raise PermissionDenied(_("The moderator who scheduled it can no longer publish."))
                PublishRevision(revision, moderator=moderator, merge=True).execute()
            return "published"
        except (ValidationError, PermissionDenied) as error:
            message = " ".join(getattr(error, "messages", [str(error)]))
            revision.status = RevisionStatus.PENDING
            revision.scheduled_for = None
            revision.decided_by = None
            revision.decided_at = None
            revision.save(update_fields=["status", "scheduled_for", "decided_by", "decided_at", "updated_at"])
            audit.record(revision, ModerationEvent.Kind.SCHEDULE_FAILED, moderator, message)
            return message


@task()
def publish_scheduled_revision(revision_id: int) -> str:
    """The background task that publishes a scheduled revision at its time (enqueued with ``run_after``)."""
    return publish_scheduled(revision_id)


def publish_due(*, now: datetime.datetime | None = None) -> list[tuple[Revision, str]]:
    """Publish every scheduled revision whose time has come (the tasks do it too; this catches up)."""
    results = []
    for pk in list(Revision.objects.due(now).values_list("pk", flat=True)):
        outcome = publish_scheduled(pk, now=now)
        if outcome != "taken":
            results.append((Revision.objects.get(pk=pk), outcome))
    return results


@transaction.atomic
def reject(*, revision: Revision, moderator: User, reason: str, seen_step: str | None = None) -> Revision:
    """End a pending proposal at the step it is at; the author is told why."""
    if not review_steps.may_review(moderator):
        raise PermissionDenied(_("Only moderators can reject proposals."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason: the author will see it.")})
    revision = Revision.objects.select_for_update().get(pk=revision.pk)
    if revision.status != RevisionStatus.PENDING:
        raise ValidationError(
            _("This proposal is already %(status)s.") % {"status": revision.get_status_display().lower()}
        )
    step = review_steps.current_step(revision)
    review_steps.check_may_decide(moderator, step, refusal=_("Only moderators can reject proposals."))
    review_steps.check_seen_step(revision, step, seen_step)
    revision.status = RevisionStatus.REJECTED
    revision.decided_by = moderator
    revision.decided_at = timezone.now()
    revision.decision_note = reason
    revision.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    audit.record(revision, ModerationEvent.Kind.REJECTED, moderator, reason, step_name=step.recorded_name)
    corrections.proposal_decided(revision)
    transaction.on_commit(lambda: notifications.send_proposal_decided.enqueue(revision.pk))
    return revision


@transaction.atomic
def publish_directly(
    *,
    obj: ModeratedContent,
    moderator: User,
    summary: str,
    data: dict | None = None,
    action: str = RevisionAction.CHANGE,
    base_id: int | None = None,
) -> Revision:
    """A moderator's own edit: recorded as a revision and published in one step."""
    if not can_moderate(moderator):
        raise PermissionDenied(_("Only moderators can publish directly."))
    revision = propose(
        obj=obj, author=moderator, summary=summary, data=data, action=action, base_id=base_id, notify=False
    )
    return approve(revision=revision, moderator=moderator, event_kind=ModerationEvent.Kind.PUBLISHED_DIRECTLY)


@transaction.atomic
def revert(*, obj: ModeratedContent, to_revision: Revision, moderator: User, summary: str = "") -> Revision:
    """Publish a new revision whose content is that of an earlier one. History is kept."""
    if not can_moderate(moderator):
        raise PermissionDenied(_("Only moderators can revert."))
    if (to_revision.content_type_id, to_revision.object_id) != (_content_type(obj).pk, obj.pk):
        raise ValidationError(_("That revision belongs to another object."))
    if to_revision.action in (RevisionAction.DELETE, RevisionAction.UNPUBLISH):
        action = to_revision.action
    elif obj.state in (PublicationState.DELETED, PublicationState.UNPUBLISHED):
        action = RevisionAction.RESTORE
    else:
        action = RevisionAction.CHANGE
    summary = summary.strip() or _("Reverted to revision %(number)s") % {"number": to_revision.pk}
    revision = propose(
        obj=obj, author=moderator, summary=summary, data=dict(to_revision.data), action=action, notify=False
    )
    revision.reverted_from = to_revision
    revision.save(update_fields=["reverted_from"])
    return approve(revision=revision, moderator=moderator, event_kind=ModerationEvent.Kind.REVERTED)


def _live_revision_id(obj: ModeratedContent) -> int | None:
    return type(obj)._default_manager.filter(pk=obj.pk).values_list("live_revision_id", flat=True).first()


def _content_type(obj: ModeratedContent):
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(obj, for_concrete_model=True)
