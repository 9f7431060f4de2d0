"""The audit trail's one writer: who did what to which revision, and when."""

from __future__ import annotations

from django.contrib.auth.models import User

from articles.models import ModerationEvent, Revision
from articles.revisions.permissions import display_name


def record(
    revision: Revision,
    kind: str,
    actor: User | None,
    note: str = "",
    *,
    step_name: str = "",
    actor_name: str = "",
) -> ModerationEvent:
    """``step_name``: the review step the decision was taken at, when the kind of content has a workflow.
    ``actor_name`` names someone without an account (an outside reviewer); otherwise the actor's name."""
    return ModerationEvent.objects.create(
        revision=revision,
        kind=kind,
        actor=actor,
        actor_name=actor_name or display_name(actor),
        note=note,
        step_name=step_name,
    )
