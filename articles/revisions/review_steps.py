"""Where a proposal is in its review, and who may decide that step: the one place steps are read.

A kind of content reviewed by a workflow (articles.models.workflows) goes through its steps in
order, each decided by the members of the step's group or by a superuser. A kind with no workflow
has the default step: a moderator approves and publishes, as before workflows existed. Only the
last step publishes, through ``moderation.approve`` and ``PublishRevision``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from articles.models import ModerationEvent, Revision, RevisionStatus, WorkflowAssignment, WorkflowStep
from articles.revisions.permissions import can_moderate

# Publishing without review steps: a moderator's own edit and a revert (see may_publish_directly).
DIRECT_KINDS = (ModerationEvent.Kind.PUBLISHED_DIRECTLY, ModerationEvent.Kind.REVERTED)
# The default step's name, where a step is named (the review page, the queue).
DEFAULT_STEP_NAME = gettext_lazy("Moderator review")


@dataclass(frozen=True)
class ReviewStep:
    """A step as a proposal meets it: ``step`` is None for the default step."""

    step: WorkflowStep | None
    number: int = 1
    count: int = 1
    next: WorkflowStep | None = None

    @property
    def is_default(self) -> bool:
        return self.step is None

    @property
    def is_last(self) -> bool:
        return self.next is None

    @property
    def name(self) -> str:
        return self.step.name if self.step else str(DEFAULT_STEP_NAME)

    @property
    def group_name(self) -> str:
        return self.step.group.name if self.step else _("Moderators")

    @property
    def recorded_name(self) -> str:
        """The name kept on the audit record: empty for the default step, as before workflows."""
        return self.step.name if self.step else ""


def steps_for(content_type_id: int) -> list[WorkflowStep]:
    """The ordered steps of the workflow chosen for a kind of content; none for the default review."""
    return list(WorkflowStep.objects.filter(workflow__assignments__content_type_id=content_type_id).in_order())


def with_workflow_flag(revisions: QuerySet[Revision]) -> QuerySet[Revision]:
    """Revisions that know whether their kind of content has a workflow, read in the same query: for
    the default single step, ``current_step`` then needs no query of its own (publishing keeps its
    query budget)."""
    return revisions.annotate(
        kind_has_workflow=Exists(WorkflowAssignment.objects.filter(content_type_id=OuterRef("content_type_id")))
    )


def current_step(revision: Revision) -> ReviewStep:
    """The step the proposal waits at (or was last at): its own, else the first of its kind's workflow."""
    if revision.review_step_id is None and getattr(revision, "kind_has_workflow", True) is False:
        return ReviewStep(None)
    if revision.review_step_id is not None:
        steps = list(WorkflowStep.objects.filter(workflow__steps__pk=revision.review_step_id).in_order())
        at = next((i for i, s in enumerate(steps) if s.pk == revision.review_step_id), None)
    else:
        steps = steps_for(revision.content_type_id)
        at = 0
    if not steps or at is None:
        return ReviewStep(None)
    return ReviewStep(steps[at], at + 1, len(steps), steps[at + 1] if at + 1 < len(steps) else None)


def _group_ids(user: User | AnonymousUser | None) -> set[int]:
    """The user's groups, read once per user object (a request reads it for every row and check)."""
    if not hasattr(user, "_review_group_ids"):
        user._review_group_ids = set(user.groups.values_list("pk", flat=True))
    return user._review_group_ids


def may_decide(user: User | AnonymousUser | None, step: ReviewStep) -> bool:
    """Members of the step's group and superusers; for the default step, moderators."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if step.is_default:
        return can_moderate(user)
    return user.is_superuser or step.step.group_id in _group_ids(user)


def check_may_decide(user: User | AnonymousUser | None, step: ReviewStep, *, refusal: str = "") -> None:
    """``refusal``: what to say for the default step (the moderators' own wording of the decision)."""
    if may_decide(user, step):
        return
    if step.is_default:
        raise PermissionDenied(refusal or _("Only moderators can decide on proposals."))
    raise PermissionDenied(
        _("The step “%(step)s” is decided by the members of %(group)s.") % {"step": step.name, "group": step.group_name}
    )


def may_review(user: User | AnonymousUser | None) -> bool:
    """Takes part in reviewing at all: a moderator, a superuser or the member of a step's group."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_superuser or can_moderate(user):
        return True
    if not hasattr(user, "_takes_review_steps"):  # asked many times a request (every admin permission check)
        user._takes_review_steps = WorkflowStep.objects.filter(group__in=_group_ids(user)).exists()
    return user._takes_review_steps


def may_publish_directly(user: User | AnonymousUser | None, content_type_id: int) -> bool:
    """A moderator's own edit skips review only if they could take every step of it themselves."""
    if not can_moderate(user):
        return False
    return all(may_decide(user, ReviewStep(step)) for step in steps_for(content_type_id))


def check_may_publish(user: User | AnonymousUser | None, revision: Revision, *, direct: bool) -> None:
    """Publishing is the last step's approval, or a direct publish by someone who could take every step."""
    if direct:
        if not may_publish_directly(user, revision.content_type_id):
            if not can_moderate(user):
                raise PermissionDenied(_("Only moderators can approve proposals."))
            raise PermissionDenied(
                _("This kind of content is reviewed in steps: publish it directly only if you take every step.")
            )
        return
    step = current_step(revision)
    if not step.is_last:
        raise PermissionDenied(
            _("This proposal is at the step “%(step)s”: only the last step publishes.") % {"step": step.name}
        )
    check_may_decide(user, step, refusal=_("Only moderators can approve proposals."))


def check_seen_step(revision: Revision, step: ReviewStep, seen_step: str | None) -> None:
    """Refuse a decision taken on a page that showed an earlier step (someone decided it meanwhile)."""
    if seen_step is None:
        return
    if seen_step != str(step.step.pk if step.step else ""):
        raise ValidationError(
            _("This proposal moved on to the step “%(step)s” while you were reading it. Look at it again.")
            % {"step": step.name}
        )


def waiting_for(user: User | AnonymousUser | None) -> Q:
    """Pending proposals at a step the user may decide: the queue's "Waiting for my step"."""
    pending = Q(status=RevisionStatus.PENDING)
    if not (user and user.is_authenticated and user.is_active):
        return Q(pk__in=[])
    if user.is_superuser:
        return pending
    groups = _group_ids(user)
    first_steps = {}
    for step in (
        WorkflowStep.objects.filter(workflow__assignments__isnull=False)
        .order_by("position", "pk")
        .values("workflow__assignments__content_type_id", "group_id")
    ):
        first_steps.setdefault(step["workflow__assignments__content_type_id"], step["group_id"])
    mine = Q(review_step__group__in=groups)
    at_start = Q(review_step__isnull=True)
    kinds_mine = [ct for ct, group in first_steps.items() if group in groups]
    if kinds_mine:
        mine |= at_start & Q(content_type__in=kinds_mine)
    if can_moderate(user):
        mine |= at_start & ~Q(content_type__in=list(first_steps))
    return pending & mine


def workflows_in_use() -> bool:
    return WorkflowAssignment.objects.filter(workflow__steps__isnull=False).exists()
