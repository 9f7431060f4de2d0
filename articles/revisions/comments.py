"""Comments on proposals: written, answered, resolved, and kept on their words as the proposal changes.

Staff who may propose may comment on any revision of any kind of content, as a whole or on a
passage of one field; outside reviewers comment through a share link (articles.revisions.sharing).
Every comment, resolution and reopening is also a moderation event, so the review's conversation
is part of the audit trail; the people in the thread are told by e-mail after the change commits.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from articles.content import anchoring, clients
from articles.models import ModerationEvent, ReviewComment, Revision, ShareLink
from articles.revisions import audit, diffing, notifications, sharing
from articles.revisions.permissions import can_moderate, can_propose, display_name

OUTSIDE_LIMIT = getattr(settings, "OUTSIDE_COMMENTS_PER_HOUR", 10)
WINDOW_SECONDS = 3600


def field_label(revision: Revision, name: str) -> str:
    return str(revision.model_class._meta.get_field(name).verbose_name).capitalize()


def commentable_fields(revision: Revision) -> list[tuple[str, str]]:
    """(name, label) of the fields a passage may be quoted from: every field the revision carries."""
    return [(name, field_label(revision, name)) for name in revision.model_class.REVISION_FIELDS]


def field_text(revision: Revision, name: str) -> str:
    """The field as the review page's diff shows the proposal's side of it."""
    return diffing.display_value(revision.model_class, name, revision.data.get(name))


def field_quoting(revision: Revision, quote: str) -> str:
    """The first field of the proposal whose text holds the quoted words (a pasted passage names none)."""
    for name in revision.model_class.REVISION_FIELDS:
        if anchoring.find(field_text(revision, name), quote) is not None:
            return name
    raise ValidationError(
        {"quote": _("These words are not in the proposed text. Copy them from the changes shown, or leave it empty.")}
    )


def _anchor(revision: Revision, name: str, quote: str, start: int | None) -> anchoring.Anchor | None:
    """Where the quoted words are in the proposal; a clear error when they are not there."""
    if not name and not quote.strip():
        return None
    if name not in revision.model_class.REVISION_FIELDS:
        raise ValidationError({"field": _("Choose the field the quoted passage is from.")})
    if not quote.strip():
        return None  # a remark on the field as a whole
    text = field_text(revision, name)
    found = anchoring.at(text, quote, start) or anchoring.find(text, quote, near=start)
    if found is None:
        raise ValidationError(
            {
                "quote": _(
                    "These words are not in the proposed “%(field)s”. Paste them as they read in the proposal, "
                    "or comment on the whole proposal."
                )
                % {"field": field_label(revision, name)}
            }
        )
    return found


def _locked(revision: Revision) -> Revision:
    # The revision's row, so that an amendment cannot change the text between anchoring and saving.
    return Revision.objects.select_for_update(of=("self",)).select_related("content_type").get(pk=revision.pk)


def _write(
    revision: Revision,
    *,
    body: str,
    author: User | None,
    author_name: str,
    author_email: str = "",
    share_link: ShareLink | None = None,
    parent: ReviewComment | None = None,
    field: str = "",
    quote: str = "",
    start: int | None = None,
) -> ReviewComment:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write the comment.")})
    if parent is not None:
        if parent.revision_id != revision.pk:
            raise ValidationError(_("That comment belongs to another proposal."))
        parent = parent.parent or parent  # threads are one level deep: a reply to a reply joins the thread
        field, quote, start = "", "", None
    if quote.strip() and not field:
        field = field_quoting(revision, quote)  # a pasted passage, its field not chosen
    anchor = _anchor(revision, field, quote, start)
    comment = ReviewComment(
        revision=revision,
        parent=parent,
        author=author,
        author_name=author_name[:150],
        author_email=author_email,
        share_link=share_link,
        body=body,
        field=field if (anchor or field) else "",
        quote=anchor.quote if anchor else "",
        prefix=anchor.prefix if anchor else "",
        suffix=anchor.suffix if anchor else "",
        start=anchor.start if anchor else None,
    )
    comment.full_clean()
    comment.save()
    kind = ModerationEvent.Kind.OUTSIDE_COMMENT if share_link else ModerationEvent.Kind.COMMENTED
    audit.record(revision, kind, author, body, actor_name=author_name)
    transaction.on_commit(lambda: notifications.send_comment_posted.enqueue(comment.pk))
    return comment


@transaction.atomic
def add_comment(
    *,
    revision: Revision,
    user: User,
    body: str,
    field: str = "",
    quote: str = "",
    start: int | None = None,
    parent: ReviewComment | None = None,
) -> ReviewComment:
    """A member of staff's comment, on the whole proposal, on a passage of a field, or in reply."""
    if not can_propose(user):
        raise PermissionDenied(_("Only editors and moderators can comment on proposals."))
    return _write(
        _locked(revision),
        body=body,
        author=user,
        author_name=display_name(user),
        parent=parent,
        field=field,
        quote=quote,
        start=start,
    )


def check_outside_rate_limit(client: str) -> None:
    if clients.count_hit("outside-comments", client, WINDOW_SECONDS) > OUTSIDE_LIMIT:
        raise ValidationError(
            _("You have sent %(limit)s comments in the last hour. Thank you! Please try again later.")
            % {"limit": OUTSIDE_LIMIT},
            code="rate_limited",
        )


@transaction.atomic
def add_outside_comment(
    *,
    link: ShareLink,
    revision: Revision,
    name: str,
    email: str,
    body: str,
    client: str,
    field: str = "",
    quote: str = "",
) -> ReviewComment:
    """A comment from someone without an account, through a share link that still works."""
    check_outside_rate_limit(client)
    if sharing.state(link) != sharing.ACTIVE:
        raise ValidationError(_("This review link no longer works."), code="gone")
    if not link.revisions.filter(pk=revision.pk).amendable().exists():
        raise ValidationError(_("This change is no longer open for comments."), code="gone")
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Give your name: the editors see it with your comment.")})
    return _write(
        _locked(revision),
        body=body,
        author=None,
        author_name=name,
        author_email=(email or "").strip(),
        share_link=link,
        field=field,
        quote=quote,
    )


def may_resolve(comment: ReviewComment, user: User) -> bool:
    """The thread's starter, the proposal's author and moderators may resolve or reopen it."""
    if not can_propose(user):
        return False
    return can_moderate(user) or user.pk in (comment.author_id, comment.revision.author_id)


def _set_resolved(comment: ReviewComment, user: User, resolved: bool) -> ReviewComment:
    comment = ReviewComment.objects.select_for_update().select_related("revision").get(pk=comment.pk)
    if comment.parent_id is not None:
        raise ValidationError(_("Resolve the thread, not one reply."))
    if not may_resolve(comment, user):
        raise PermissionDenied(_("Only the comment's author, the proposal's author or a moderator can do that."))
    if comment.is_resolved == resolved:
        return comment
    comment.resolved_at = timezone.now() if resolved else None
    comment.resolved_by = user if resolved else None
    comment.resolved_by_name = display_name(user) if resolved else ""
    comment.save(update_fields=["resolved_at", "resolved_by", "resolved_by_name"])
    kind = ModerationEvent.Kind.COMMENT_RESOLVED if resolved else ModerationEvent.Kind.COMMENT_REOPENED
    audit.record(comment.revision, kind, user, Truncator(comment.body).chars(120))
    return comment


@transaction.atomic
def resolve(*, comment: ReviewComment, user: User) -> ReviewComment:
    return _set_resolved(comment, user, True)


@transaction.atomic
def reopen(*, comment: ReviewComment, user: User) -> ReviewComment:
    return _set_resolved(comment, user, False)


def follow_revision(revision: Revision) -> None:
    """After the proposal's content changed: each passage comment finds its words again, or is outdated.

    Called inside the transaction that changed it (an amendment, a merge, a resolved conflict).
    """
    for comment in ReviewComment.objects.filter(revision=revision, parent__isnull=True).exclude(quote=""):
        text = field_text(revision, comment.field) if comment.field in revision.model_class.REVISION_FIELDS else ""
        found = anchoring.find(text, comment.quote, prefix=comment.prefix, suffix=comment.suffix, near=comment.start)
        if found is None:
            comment.outdated = True
        else:
            comment.outdated = False
            comment.start, comment.prefix, comment.suffix = found.start, found.prefix, found.suffix
        comment.save(update_fields=["outdated", "start", "prefix", "suffix"])
