"""What waits for whom at the editorial desk, shown first on the admin index; the queue's one name."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from articles.models import Revision, RevisionStatus
from articles.revisions import moderation, review_steps

# The one name of the moderators' list of pending proposals: menus, titles, e-mails, buttons.
REVIEW_QUEUE = _("Review queue")
# An editor's rejected proposals stay on their index this long, with the moderator's reason.
REJECTED_SHOWN_FOR = timedelta(days=30)
LISTED = 5


@dataclass
class WaitingWork:
    """What the index shows a member of staff before anything else. A fixed number of queries."""

    can_moderate: bool = False
    waiting: int = 0  # proposals in the review queue
    oldest_url: str = ""  # the review page of the oldest of them
    own_pending: int = 0
    own_pending_list: list = field(default_factory=list)
    own_rejected: list = field(default_factory=list)
    own_returned: list = field(default_factory=list)  # sent back to them for changes, with the message

    @property
    def shown(self) -> bool:
        return self.can_moderate or bool(self.own_pending or self.own_rejected or self.own_returned)


def waiting_work(user) -> WaitingWork:
    """``waiting``: the proposals at a step this person decides (every pending one, for a moderator
    when no workflow is set up)."""
    work = WaitingWork(can_moderate=review_steps.may_review(user))
    if work.can_moderate:
        mine = Revision.objects.filter(review_steps.waiting_for(user)).order_by("created_at", "pk")
        work.waiting = mine.count()
        oldest = mine.values_list("pk", flat=True).first()
        if oldest is not None:
            work.oldest_url = reverse("admin:articles_revision_change", args=[oldest])
    if not moderation.can_propose(user):
        return work
    queue = Revision.objects.pending().order_by("created_at", "pk")
    own = queue.filter(author=user)
    work.own_pending_list = list(own.only("pk", "object_repr", "summary", "created_at")[:LISTED])
    work.own_pending = own.count()
    work.own_rejected = list(
        Revision.objects.filter(
            author=user,
            status=RevisionStatus.REJECTED,
            decided_at__gte=timezone.now() - REJECTED_SHOWN_FOR,
        )
        .only("pk", "object_repr", "summary", "decision_note", "decided_at")
        .order_by("-decided_at", "-pk")[:LISTED]
    )
    work.own_returned = list(
        Revision.objects.filter(author=user, status=RevisionStatus.RETURNED)
        .only("pk", "object_repr", "summary", "decision_note", "decided_at")
        .order_by("decided_at", "pk")[:LISTED]
    )
    return work
