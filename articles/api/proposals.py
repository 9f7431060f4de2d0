"""The write API: a token holder proposes changes, which wait in the moderators' review queue.

Nothing here publishes. Each operation turns its JSON into field values and hands them to
``articles.revisions.field_proposals`` (the admin's checks, then ``moderation.propose``); a
moderator approves or rejects the proposal in the admin as any other. Only a bearer token is
accepted (``articles.api.auth``), and each token may send ``API_WRITE_RATE`` proposals.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Status

from articles.api import schemas
from articles.api.auth import BearerToken, check_write_rate
from articles.api.responses import Slug
from articles.models import PublicationState, Revision, RevisionAction, Section, Source, TimelineEvent, Topic
from articles.revisions import field_proposals
from articles.revisions.permissions import can_moderate

router = Router(tags=["Proposing"], auth=BearerToken())

ERRORS = {400: schemas.Problem, 401: schemas.Problem, 403: schemas.Problem, 404: schemas.Problem, 429: schemas.Problem}
PROPOSED = {201: schemas.Proposal, **ERRORS}


def _proposal(revision: Revision) -> dict:
    return {
        "id": revision.pk,
        "kind": revision.content_type.model,
        "action": revision.action,
        "status": revision.status,
        "object": revision.object_repr,
        "summary": revision.summary,
        "decision_note": revision.decision_note,
        "created_at": revision.created_at,
        "api_url": reverse("api:proposal_detail", kwargs={"proposal_id": revision.pk}),
    }


def _topic_ids(slugs: list[str]) -> list[int]:
    # Only slug-like values are looked up (a NUL cannot even be compared in PostgreSQL).
    lookup = [slug for slug in slugs if validate_slug.regex.fullmatch(slug)]
    found = dict(
        Topic.objects.exclude(state=PublicationState.DELETED).filter(slug__in=lookup).values_list("slug", "pk")
    )
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise ValidationError({"topics": [_("No topic has the slug “%(slug)s”.") % {"slug": slug} for slug in unknown]})
    return sorted(set(found.values()))


def _changes(payload: schemas.ProposalFields) -> dict:
    """The fields the client sent (left-out fields keep their published values)."""
    changes = payload.model_dump(exclude_unset=True, exclude={"summary", "base_revision"})
    if "topics" in changes:
        changes["topics"] = _topic_ids(changes["topics"] or [])
    if "parent" in changes and not changes["parent"]:
        changes["parent"] = None
    return changes


def _propose(request: HttpRequest, obj, payload: schemas.ProposalFields):
    check_write_rate(request.auth)
    revision = field_proposals.propose_change(
        obj=obj,
        author=request.auth.user,
        changes=_changes(payload),
        summary=payload.summary,
        base_id=payload.base_revision,
    )
    return Status(201, _proposal(revision))


@router.post("/sections/{section_id}", response=PROPOSED, summary="Propose a change to a section")
def propose_section(request: HttpRequest, section_id: int, payload: schemas.SectionChange):
    return _propose(request, get_object_or_404(Section.objects.visible(), pk=section_id), payload)


@router.post("/sources/{key}", response=PROPOSED, summary="Propose a change to a source")
def propose_source(request: HttpRequest, key: Slug, payload: schemas.SourceChange):
    return _propose(request, get_object_or_404(Source.objects.published(), key=key), payload)


@router.post("/sources", response=PROPOSED, summary="Propose a new source")
def propose_new_source(request: HttpRequest, payload: schemas.NewSource):
    check_write_rate(request.auth)
    fields = payload.model_dump(exclude_unset=True, exclude={"summary", "base_revision"})
    source = Source(**{name: value for name, value in fields.items() if value is not None})
    revision = field_proposals.propose_new(obj=source, author=request.auth.user, summary=payload.summary)
    return Status(201, _proposal(revision))


@router.post("/topics/{slug}", response=PROPOSED, summary="Propose a change to a topic")
def propose_topic(request: HttpRequest, slug: Slug, payload: schemas.TopicChange):
    return _propose(request, get_object_or_404(Topic.objects.published(), slug=slug), payload)


@router.post("/timeline-events/{event_id}", response=PROPOSED, summary="Propose a change to a timeline event")
def propose_timeline_event(request: HttpRequest, event_id: int, payload: schemas.TimelineEventChange):
    return _propose(request, get_object_or_404(TimelineEvent.objects.published(), pk=event_id), payload)


@router.get("/{proposal_id}", response={200: schemas.Proposal, **ERRORS}, summary="One of your proposals")
def proposal_detail(request: HttpRequest, proposal_id: int):
    """Where a proposal stands: pending, published, or rejected with the moderator's reason. Its author's
    tokens see it, and moderators'."""
    revisions = Revision.objects.select_related("content_type").exclude(action=RevisionAction.DELETE)
    if not can_moderate(request.auth.user):
        revisions = revisions.filter(author=request.auth.user)
    return Status(200, _proposal(get_object_or_404(revisions, pk=proposal_id)))
