"""The audit trail's one writer: who did what to which revision, and when."""

from __future__ import annotations

from django.contrib.auth.models import User

from articles.models import ModerationEvent, Revision
from articles.revisions.permissions import display_name


def record(
    revision: Revision, kind: str, actor: User | None, note: str = "", *, step_name: str = ""
) -> ModerationEvent:
    """``step_name``: the review step the decision was taken at, when the kind of content has a workflow."""
    return ModerationEvent.objects.create(
        revision=revision, kind=kind, actor=actor, actor_name=display_name(actor), note=note, step_name=step_name
    )
