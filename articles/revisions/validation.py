"""Checks every proposal passes, whoever sends it (the admin, the importer, scripts): clear messages, nothing stored."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from articles.models import ModeratedContent, RevisionAction
from articles.publishing import publish


def clean_summary(summary: str) -> str:
    summary = (summary or "").replace("\x00", "").strip()
    if not summary:
        raise ValidationError({"summary": _("Write a short edit summary: what did you change, and why?")})
    return summary[:300]


def has_null_character(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_null_character(k) or has_null_character(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_null_character(v) for v in value)
    return False


def validate_data(obj: ModeratedContent, data: dict, action: str) -> None:
    # PostgreSQL stores no NUL character in text or JSON: refuse it with a message, not a database
    # error. Admin forms refuse it already; importers and scripts come through here too.
    with_null = [name for name, value in data.items() if has_null_character(value)]
    if with_null:
        raise ValidationError({with_null[0]: _("Remove the null character from this text: it cannot be stored.")})
    if action in (RevisionAction.DELETE, RevisionAction.UNPUBLISH):
        publish.check_publishable(obj, action)
        return
    errors = []
    names = [name for name in ("body", "dek", "text") if name in data]  # "text": timeline events
    for name in names:
        errors.extend(publish.citation_errors(data[name] or ""))
    if errors:
        raise ValidationError({names[0]: errors})
