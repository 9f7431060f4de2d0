"""The audit trail's one writer: who did what to which revision, and when."""

from articles.models import ModerationEvent
from articles.revisions.permissions import display_name


def record(revision, kind, actor, note=""):
    return ModerationEvent.objects.create(
        revision=revision, kind=kind, actor=actor, actor_name=display_name(actor), note=note
    )
