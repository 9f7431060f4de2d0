"""The review decisions that do not publish: passing an earlier step, sending a proposal back for
changes, and its author resubmitting it. Each is audited and notified once it commits.

Approving the last step publishes, and rejecting ends the proposal: those stay ``moderation.approve``
and ``moderation.reject``, which call :func:`approve_step` for a step that is not the last.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from articles.models import ModerationEvent, Revision, RevisionStatus
from articles.revisions import audit, notifications, review_steps

MESSAGE_MAX_LENGTH = 5000


def _locked(revision: Revision) -> Revision:
    # of=("self",): lock the revision row only, not the content type joined to it.
    return Revision.objects.select_for_update(of=("self",)).select_related("content_type").get(pk=revision.pk)


def _refuse_unless(revision: Revision, status: str) -> None:
    if revision.status != status:
        raise ValidationError(
            _("This proposal is already %(status)s.") % {"status": revision.get_status_display().lower()}
        )


def _record(revision: Revision, kind: str, actor: User, step: review_steps.ReviewStep, note: str = ""):
    event = audit.record(revision, kind, actor, note, step_name=step.recorded_name)
    transaction.on_commit(lambda: notifications.send_step_event.enqueue(event.pk))
    return event


@transaction.atomic
def approve_step(*, revision: Revision, reviewer: User, seen_step: str | None = None) -> Revision:
    """Pass a step that is not the last: the proposal waits for the next step's group, who are told."""
    revision = _locked(revision)
    _refuse_unless(revision, RevisionStatus.PENDING)
    step = review_steps.current_step(revision)
    review_steps.check_may_decide(reviewer, step)
    review_steps.check_seen_step(revision, step, seen_step)
    if step.is_last:
        raise ValidationError(_("This is the last step: approving it publishes."))
    revision.review_step = step.next
    revision.save(update_fields=["review_step", "updated_at"])
    _record(revision, ModerationEvent.Kind.STEP_APPROVED, reviewer, step)
    return revision


def clean_message(message: str) -> str:
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": _("Say what should change: the author will see it.")})
    if len(message) > MESSAGE_MAX_LENGTH:
        raise ValidationError(
            {"message": _("Keep the message under %(count)d characters.") % {"count": MESSAGE_MAX_LENGTH}}
        )
    return message


@transaction.atomic
def request_changes(*, revision: Revision, reviewer: User, message: str, seen_step: str | None = None) -> Revision:
    """Send a pending proposal back to its author with the reviewer's message (required).

    Once amended and resubmitted it returns to the step that asked for the changes. The message is
    kept on the revision (``decision_note``, shown to the author) and on the audit record.
    """
    revision = _locked(revision)
    _refuse_unless(revision, RevisionStatus.PENDING)
    step = review_steps.current_step(revision)
    review_steps.check_may_decide(reviewer, step)
    review_steps.check_seen_step(revision, step, seen_step)
    message = clean_message(message)
    revision.status = RevisionStatus.RETURNED
    revision.decided_by = reviewer
    revision.decided_at = timezone.now()
    revision.decision_note = message
    revision.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    _record(revision, ModerationEvent.Kind.CHANGES_REQUESTED, reviewer, step, message)
    return revision


@transaction.atomic
def resubmit(*, revision: Revision, user: User) -> Revision:
    """The author sends an amended proposal back to review, at the step that asked for the changes."""
    revision = _locked(revision)
    if revision.author_id != getattr(user, "pk", None) and not user.is_superuser:
        raise PermissionDenied(_("Only the author can resubmit this proposal."))
    _refuse_unless(revision, RevisionStatus.RETURNED)
    revision.status = RevisionStatus.PENDING
    revision.decided_by = None
    revision.decided_at = None
    revision.decision_note = ""
    revision.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    _record(revision, ModerationEvent.Kind.RESUBMITTED, user, review_steps.current_step(revision))
    return revision
