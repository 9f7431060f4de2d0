"""Field-by-field, word-level comparison of two revisions' content, for the review pages."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from . import publishing

_TOKEN = re.compile(r"\s+|[^\s]+")


def word_diff_html(old: str, new: str) -> str:
    """``old`` → ``new`` as escaped HTML with <del>/<ins> around changed words.

    Whitespace (including newlines) is kept so long Markdown stays readable.
    """
    old_tokens = _TOKEN.findall(old or "")
    new_tokens = _TOKEN.findall(new or "")
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    out = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(escape("".join(old_tokens[a1:a2])))
            continue
        if op in ("delete", "replace"):
            out.append(format_html("<del>{}</del>", "".join(old_tokens[a1:a2])))
        if op in ("insert", "replace"):
            out.append(format_html("<ins>{}</ins>", "".join(new_tokens[b1:b2])))
    return mark_safe("".join(str(part) for part in out))


def change_size(old: str, new: str) -> tuple[int, int]:
    """(words added, words removed), for the queue's "size of change" column."""
    old_words = (old or "").split()
    new_words = (new or "").split()
    added = removed = 0
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            removed += a2 - a1
        if op in ("insert", "replace"):
            added += b2 - b1
    return added, removed


MARKDOWN_FIELDS = {"body", "dek"}


@dataclass
class FieldChange:
    name: str
    label: str
    old: str
    new: str
    diff_html: str
    old_html: str = ""
    new_html: str = ""

    @property
    def is_markdown(self):
        return self.name in MARKDOWN_FIELDS


def display_value(model, name, value) -> str:
    field = model._meta.get_field(name)
    if value in (None, "", []):
        return ""
    if field.many_to_many:
        names = dict(field.related_model._default_manager.filter(pk__in=value).values_list("pk", "name" if hasattr(field.related_model, "name") else "pk"))
        return ", ".join(str(names.get(pk, pk)) for pk in value)
    if field.is_relation:
        target = field.related_model._default_manager.filter(pk=value).first()
        return str(target) if target else str(value)
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    return str(value)


def compare(model, old: dict | None, new: dict | None) -> list[FieldChange]:
    """The fields that differ between two snapshots of ``model``."""
    old = old or {}
    new = new or {}
    changes = []
    for name in model.REVISION_FIELDS:
        before, after = old.get(name), new.get(name)
        if before == after or (before in (None, "", []) and after in (None, "", [])):
            continue
        label = str(model._meta.get_field(name).verbose_name).capitalize()
        old_text, new_text = display_value(model, name, before), display_value(model, name, after)
        change = FieldChange(name, label, old_text, new_text, word_diff_html(old_text, new_text))
        if name in MARKDOWN_FIELDS:
            change.old_html = mark_safe(publishing.render_standalone(old_text))
            change.new_html = mark_safe(publishing.render_standalone(new_text))
        changes.append(change)
    return changes
