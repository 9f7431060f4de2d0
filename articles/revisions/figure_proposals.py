"""Proposals whose text shows a figure that readers may not see yet: found, and refused until it is.

The review page lists them (to approve with the text), and every way of publishing refuses the
text while they wait.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from articles.models import Revision, RevisionAction
from articles.publishing import publish


def refuse_unapproved_figures(revision: Revision) -> None:
    """Text that shows a figure readers may not see yet waits for it: the refusal names the figure."""
    if revision.action not in (RevisionAction.CREATE, RevisionAction.CHANGE, RevisionAction.RESTORE):
        return
    errors = [
        error
        for name in ("body", "dek", "text")
        for error in publish.unapproved_figure_errors(revision.data.get(name) or "")
    ]
    if errors:
        raise ValidationError(errors, code="unapproved_figure")


def figure_proposals_shown_by(revision: Revision) -> list[Revision]:
    """The pending proposals of figures whose image the proposal's text shows (not public yet)."""
    names = set()
    for name in ("body", "dek", "text"):
        names |= publish.shown_media_names(revision.data.get(name) or "")
    if not names or revision.action not in (RevisionAction.CREATE, RevisionAction.CHANGE, RevisionAction.RESTORE):
        return []
    return list(
        Revision.objects.pending()
        .filter(content_type__app_label="articles", content_type__model="figure", data__image__in=sorted(names))
        .exclude(action__in=(RevisionAction.DELETE, RevisionAction.UNPUBLISH))
        .select_related("content_type")
        .order_by("created_at", "pk")
    )
