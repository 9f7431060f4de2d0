"""Proposals sent as field values rather than through a form (the API): checked as the admin's forms check
them, then recorded by ``moderation.propose`` like any other proposal.

A proposal names only the fields it changes; the others keep their published values. Every error
is a ``ValidationError`` keyed by field, and nothing is written unless every check passes.
"""

from __future__ import annotations

import copy
import datetime

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from articles.content.markup_checks import markup_problems
from articles.models import ModeratedContent, PublicationState, Revision, RevisionAction, Section
from articles.publishing import publish, timeline
from articles.revisions import moderation, validation
from articles.revisions.permissions import can_propose

MARKDOWN_FIELDS = ("body", "dek", "text")


def may_propose(user: User, model: type[ModeratedContent], action: str) -> bool:
    """Editors may propose what their group may change in the admin (``add``/``change`` permissions)."""
    verb = "add" if action == RevisionAction.CREATE else "change"
    return can_propose(user) and user.has_perm(f"articles.{verb}_{model._meta.model_name}")


def _markup_messages(text: str) -> list[str]:
    messages = []
    for problem in markup_problems(text):
        kind, _sep, what = problem.partition(":")
        if kind == "html":
            messages.append(
                _("Raw HTML is not allowed: “%(html)s”. Write Markdown instead (it would be shown as text).")
                % {"html": what}
            )
        else:
            messages.append(_("Links may use http, https or mailto addresses, not “%(scheme)s:”.") % {"scheme": what})
    return messages


def check_fields(obj: ModeratedContent, data: dict) -> None:
    """Everything the admin's form would refuse in ``data``, as one ValidationError by field.

    The model's own validation (lengths, slugs, URLs, dates, unique keys, a section's parent) runs on
    a copy of ``obj`` holding ``data``; the Markdown fields are checked for unknown citation keys,
    places cited that are too long, timeline embeds naming no topic, and raw HTML.
    """
    # First, as PostgreSQL cannot even compare text holding a NUL (the unique checks below would fail).
    with_null = [name for name, value in data.items() if validation.has_null_character(value)]
    if with_null:
        message = _("Remove the null character from this text: it cannot be stored.")
        raise ValidationError({name: [message] for name in with_null})
    errors: dict[str, list[str]] = {}
    candidate = copy.copy(obj)
    candidate.apply_snapshot(data)
    parent_id = candidate.parent_id if isinstance(candidate, Section) else None
    if parent_id is not None and not Section.objects.filter(pk=parent_id, article_id=candidate.article_id).exists():
        errors["parent"] = [_("There is no such section in this article.")]
        candidate.parent_id = None
    try:
        candidate.full_clean()
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    for name in MARKDOWN_FIELDS:
        text = data.get(name)
        if not isinstance(text, str) or name not in obj.REVISION_FIELDS:
            continue
        messages = publish.citation_errors(text) + _markup_messages(text)
        if isinstance(obj, Section):
            messages += timeline.directive_errors(text)
        if messages:
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _normalised(changes: dict) -> dict:
    """Values as a snapshot holds them: dates as ISO text, line endings as LF (like the admin's forms)."""
    normalised = {}
    for name, value in changes.items():
        if isinstance(value, datetime.date):
            value = value.isoformat()
        elif name in MARKDOWN_FIELDS and isinstance(value, str):
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        normalised[name] = value
    return normalised


def propose_change(
    *, obj: ModeratedContent, author: User, changes: dict, summary: str, base_id: int | None = None
) -> Revision:
    """Propose ``changes`` (field values, many-to-many as lists of ids) to the published ``obj``."""
    if not may_propose(author, type(obj), RevisionAction.CHANGE):
        raise PermissionDenied(_("You may not propose changes."))
    unknown = set(changes) - set(obj.REVISION_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
    summary = validation.clean_summary(summary)
    live = obj.snapshot()
    data = {**live, **_normalised(changes)}
    if data == live:
        raise ValidationError(_("Nothing would change: every field given has its published value."))
    if base_id is not None and not Revision.objects.for_object(obj).filter(pk=base_id).exists():
        raise ValidationError({"base_revision": _("This is not a revision of what you are changing.")})
    check_fields(obj, data)
    return moderation.propose(obj=obj, author=author, summary=summary, data=data, base_id=base_id)


@transaction.atomic
def propose_new(*, obj: ModeratedContent, author: User, summary: str) -> Revision:
    """Propose the unsaved ``obj`` as new content: stored as a draft (readers never see drafts) and proposed."""
    if not may_propose(author, type(obj), RevisionAction.CREATE):
        raise PermissionDenied(_("You may not propose new content."))
    for name in MARKDOWN_FIELDS:
        if isinstance(getattr(obj, name, None), str):
            setattr(obj, name, getattr(obj, name).replace("\r\n", "\n").replace("\r", "\n"))
    summary = validation.clean_summary(summary)
    check_fields(obj, obj.snapshot())
    obj.state = PublicationState.DRAFT
    obj.save()
    return moderation.propose(
        obj=obj, author=author, summary=summary, data=obj.snapshot(), action=RevisionAction.CREATE
    )
