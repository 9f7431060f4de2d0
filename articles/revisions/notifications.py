"""E-mail about proposals, sent by background tasks enqueued once the change commits: a rolled-back change sends nothing."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail, send_mass_mail
from django.db.models import Q
from django.tasks import task
from django.urls import reverse
from django.utils.translation import gettext as _

from articles.models import ModerationEvent, ReviewComment, Revision, RevisionStatus
from articles.revisions import review_steps


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _admin_link(revision: Revision) -> str:
    return _absolute(revision.get_admin_url())


def moderator_emails() -> list[str]:
    User = get_user_model()
    moderators = (
        User.objects.filter(is_active=True)
        .exclude(email="")
        .filter(
            Q(is_superuser=True)
            | Q(groups__permissions__codename="moderate_revision")
            | Q(user_permissions__codename="moderate_revision")
        )
    )
    return sorted(set(moderators.values_list("email", flat=True)))


def reviewer_emails(step: review_steps.ReviewStep) -> list[str]:
    """Who is told a proposal waits at ``step``: its group's members, or the moderators for the default step."""
    if step.is_default:
        return moderator_emails()
    members = step.step.group.user_set.filter(is_active=True).exclude(email="")
    return sorted(set(members.values_list("email", flat=True)))


def _step_line(step: review_steps.ReviewStep) -> str:
    if step.is_default:
        return ""
    return _("Step %(number)s of %(count)s: %(step)s (%(group)s)\n\n") % {
        "number": step.number,
        "count": step.count,
        "step": step.name,
        "group": step.group_name,
    }


def proposal_submitted(revision: Revision) -> None:
    step = review_steps.current_step(revision)
    recipients = [email for email in reviewer_emails(step) if not revision.author or email != revision.author.email]
    if not recipients:
        return
    subject = _("Proposal to review: %(object)s") % {"object": revision.object_repr}
    body = _step_line(step) + _(
        "%(author)s proposed a change to “%(object)s”.\n\nEdit summary: %(summary)s\n\nReview it: %(link)s\n\n"
        "Review queue: %(queue)s\n"
    ) % {
        "author": revision.author_name or _("Someone"),
        "object": revision.object_repr,
        "summary": revision.summary,
        # The review page itself; a signed-out moderator passes through the sign-in page to it.
        "link": _absolute(revision.get_admin_url()),
        "queue": _absolute(reverse("admin:articles_revision_changelist")),
    }
    send_mass_mail([(subject, body, None, [email]) for email in recipients], fail_silently=False)


def proposal_decided(revision: Revision) -> None:
    author = revision.author
    if author is None or not author.email:
        return
    if revision.status == "published":
        subject = _("Published: %(object)s") % {"object": revision.object_repr}
        body = _("Your change to “%(object)s” (%(summary)s) was approved and is now live.\n\n%(link)s\n")
    else:
        subject = _("Not accepted: %(object)s") % {"object": revision.object_repr}
        body = _("Your change to “%(object)s” (%(summary)s) was not accepted.\n\nReason: %(reason)s\n\n%(link)s\n")
    body = body % {
        "object": revision.object_repr,
        "summary": revision.summary,
        "reason": revision.decision_note,
        "link": _admin_link(revision),
    }
    send_mail(subject, body, None, [author.email], fail_silently=False)


def back_for_review(event: ModerationEvent) -> None:
    """A step passed, or a proposal resubmitted: the group of the step it now waits at is told."""
    revision = event.revision
    if revision.status != RevisionStatus.PENDING:
        return  # decided since: nothing waits any more
    step = review_steps.current_step(revision)
    recipients = [email for email in reviewer_emails(step) if not event.actor or email != event.actor.email]
    if not recipients:
        return
    values = {
        "object": revision.object_repr,
        "actor": event.actor_name or _("Someone"),
        "done": event.step_name,
        "step": step.name,
        "summary": revision.summary,
        "link": _admin_link(revision),
    }
    if event.kind == ModerationEvent.Kind.RESUBMITTED:
        subject = _("Resubmitted for review: %(object)s") % values
        body = _("%(actor)s amended “%(object)s” after the changes asked for and resubmitted it.\n\n")
    else:
        subject = _("Ready for %(step)s: %(object)s") % values
        body = _("%(actor)s approved the step “%(done)s” of “%(object)s”.\n\n")
    body = _step_line(step) + (body + _("Edit summary: %(summary)s\n\nReview it: %(link)s\n")) % values
    send_mass_mail([(subject, body, None, [email]) for email in recipients], fail_silently=False)


def changes_requested(event: ModerationEvent) -> None:
    """The author is sent the reviewer's message, with the link to amend and resubmit."""
    revision = event.revision
    author = revision.author
    if author is None or not author.email or author.pk == event.actor_id:
        return
    values = {
        "object": revision.object_repr,
        "summary": revision.summary,
        "actor": event.actor_name or _("A reviewer"),
        "step": event.step_name,
        "message": event.note,
        "link": _admin_link(revision),
    }
    subject = _("Changes requested: %(object)s") % values
    if event.step_name:
        body = _("%(actor)s asks for changes to your proposal for “%(object)s” (%(summary)s), at the step “%(step)s”:")
    else:
        body = _("%(actor)s asks for changes to your proposal for “%(object)s” (%(summary)s):")
    body = (body + "\n\n%(message)s\n\n" + _("Amend it, then resubmit it for review: %(link)s\n")) % values
    send_mail(subject, body, None, [author.email], fail_silently=False)


def _revision(revision_id: int) -> Revision | None:
    return Revision.objects.filter(pk=revision_id).select_related("author").first()


@task()
def send_proposal_submitted(revision_id: int) -> None:
    revision = _revision(revision_id)
    if revision is not None:
        proposal_submitted(revision)


@task()
def send_proposal_decided(revision_id: int) -> None:
    revision = _revision(revision_id)
    if revision is not None:
        proposal_decided(revision)


@task()
def send_step_event(event_id: int) -> None:
    event = ModerationEvent.objects.filter(pk=event_id).select_related("revision__author", "actor").first()
    if event is None:
        return
    if event.kind == ModerationEvent.Kind.CHANGES_REQUESTED:
        changes_requested(event)
    elif event.kind in (ModerationEvent.Kind.STEP_APPROVED, ModerationEvent.Kind.RESUBMITTED):
        back_for_review(event)


# --- Comments on proposals (articles.revisions.comments) ----------------------------------------


def comment_recipients(comment: ReviewComment) -> list[str]:
    """Who hears of a comment: the proposal's author, and the moderators for a new thread or the
    thread's other writers for a reply. Never its own writer; never an outside reviewer, whose
    address is for the editors to answer from their own mail."""
    revision = comment.revision
    emails = set()
    if revision.author is not None and revision.author.is_active:
        emails.add(revision.author.email)
    if comment.parent_id is None:
        emails.update(moderator_emails())
    else:
        thread = ReviewComment.objects.filter(Q(pk=comment.parent_id) | Q(parent_id=comment.parent_id))
        emails.update(thread.filter(author__is_active=True).values_list("author__email", flat=True))
    if comment.author is not None:
        emails.discard(comment.author.email)
    emails.discard("")
    emails.discard(None)
    return sorted(emails)


def comment_posted(comment: ReviewComment) -> None:
    recipients = comment_recipients(comment)
    if not recipients:
        return
    revision = comment.revision
    who = comment.author_name
    if comment.is_outside:
        who = _("%(name)s (outside reviewer, %(email)s)") % {"name": who, "email": comment.author_email or "—"}
    subject = _("Comment on: %(object)s") % {"object": revision.object_repr}
    quote = f"“{comment.quote}”\n\n" if comment.quote else ""
    body = _("%(who)s commented on the proposal “%(object)s”:\n\n%(quote)s%(comment)s\n\nReply: %(link)s\n") % {
        "who": who,
        "object": revision.object_repr,
        "quote": quote,
        "comment": comment.body,
        "link": _absolute(comment.get_admin_url()),
    }
    send_mass_mail([(subject, body, None, [email]) for email in recipients], fail_silently=False)


@task()
def send_comment_posted(comment_id: int) -> None:
    comment = ReviewComment.objects.filter(pk=comment_id).select_related("revision__author", "author").first()
    if comment is not None:
        comment_posted(comment)
