"""Figures on the review page: the proposed image itself, and what was proposed together with it.

An editor who drops an image into a section's text makes two proposals at once: the figure (from
the upload) and the section (whose text now shows the image). The review page of either shows the
other, so the moderator sees the image beside the text that uses it.
"""

from __future__ import annotations

import contextlib
import posixpath
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from articles.content import figure_files
from articles.models import Article, Figure, Revision, RevisionAction, Section, TimelineEvent, Topic

# Text fields in which a proposal can show an image.
TEXT_FIELDS = ("body", "text")
# Pending proposals looked through for a match: the queue is short, and this keeps the page bounded.
SCANNED = 200


def figure_image_url(figure: Figure) -> str:
    """Where staff see a figure's image. The one place that says it, for pending and live images alike:
    an upload waiting for approval is only reachable through the staff view (articles.content.figure_files)."""
    if not figure.image:
        return ""
    name = figure.image.name
    if figure_files.is_upload_name(name) and figure_files.is_pending(name):
        return reverse("pending_figure_image", args=[name])
    return figure.image.url


@dataclass
class FigureProposal:
    revision: Revision
    url: str
    width: int | None
    height: int | None
    alt_text: str
    caption: str
    credit: str
    licence: str
    amend_url: str

    @property
    def needs_alt_text(self) -> bool:
        return not self.alt_text.strip()


def figure_proposal(revision: Revision) -> FigureProposal | None:
    """The figure as ``revision`` proposes it, with the image's real size (None when unreadable)."""
    if revision.model_class is not Figure or revision.action == RevisionAction.DELETE:
        return None
    figure = revision.as_object()
    if figure is None:
        return None
    width = height = None
    if figure.image:
        # A missing or unreadable file: the page shows no size instead of failing.
        with contextlib.suppress(OSError, ValueError):
            width, height = figure.image.width, figure.image.height
    return FigureProposal(
        revision=revision,
        url=figure_image_url(figure),
        width=width,
        height=height,
        alt_text=figure.alt_text or "",
        caption=figure.caption or "",
        credit=figure.credit or "",
        licence=figure.licence or "",
        amend_url=f"{reverse('admin:articles_figure_change', args=[revision.object_id])}?revision={revision.pk}",
    )


def _image_name(revision: Revision) -> str:
    return posixpath.basename(str(revision.data.get("image") or ""))


def _text(revision: Revision) -> str:
    return "\n".join(str(revision.data.get(name) or "") for name in TEXT_FIELDS)


def _shows(revision: Revision, figure_revision: Revision) -> bool:
    """Whether ``revision`` proposes to show the figure ``figure_revision`` proposes: in its text (by
    the image's stored file name, which the upload gave) or as an article's lead figure."""
    name = _image_name(figure_revision)
    return bool(name and name in _text(revision)) or revision.data.get("lead_figure") == figure_revision.object_id


def proposed_together(revision: Revision) -> dict:
    """The other pending proposals that go with this one: for a text, the figures it shows; for a
    figure, the texts that show it."""
    if not revision.is_pending:
        return {"figures": [], "texts": []}
    pending = Revision.objects.pending().exclude(pk=revision.pk).select_related("content_type")
    figure_type = ContentType.objects.get_for_model(Figure)
    if revision.model_class is Figure:
        text_types = ContentType.objects.get_for_models(Article, Section, TimelineEvent, Topic).values()
        candidates = pending.filter(content_type__in=list(text_types)).order_by("created_at", "pk")[:SCANNED]
        return {"figures": [], "texts": [r for r in candidates if _shows(r, revision)]}
    candidates = pending.filter(content_type=figure_type).order_by("created_at", "pk")[:SCANNED]
    figures = [figure_proposal(r) for r in candidates if _shows(revision, r)]
    return {"figures": [f for f in figures if f is not None], "texts": []}
