"""The review page's conflict form: one choice per conflicting stretch, and reading the choices back.

A text field in conflict is shown hunk by hunk (``merging.text_hunks``): each conflict with a few
words around it in three columns (before both edits, published since, this proposal), and three
choices as radio buttons, so it works without JavaScript: keep the published words, take the
proposal's, or edit both together. Other fields offer the published or the proposed value.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext as _

from articles.revisions import diffing, merging

CONTEXT_CHARS = 80


def _is_text(conflict: merging.FieldMerge) -> bool:
    return conflict.name in merging.TEXT_FIELDS and isinstance(conflict.proposed, (str, type(None)))


def _hunks(conflict: merging.FieldMerge) -> list:
    return merging.text_hunks(conflict.base or "", conflict.live or "", conflict.proposed or "")


def _around(before: str, after: str):
    """The words on each side of a conflict, cut at a word boundary."""
    head = before[-CONTEXT_CHARS:]
    if len(before) > CONTEXT_CHARS and " " in head:
        head = "…" + head.split(" ", 1)[1]
    tail = after[:CONTEXT_CHARS]
    if len(after) > CONTEXT_CHARS and " " in tail:
        tail = tail.rsplit(" ", 1)[0] + "…"
    return head, tail


def _column(head: str, text: str, tail: str, mark: str) -> str:
    """One side of a conflict: the context as it is, the conflicting words marked (or "nothing")."""
    shown = (
        format_html('<{0} class="hunk-words">{1}</{0}>', mark, text)
        if text
        else format_html('<span class="hunk-empty">{}</span>', _("(nothing)"))
    )
    return format_html("{}{}{}", head, shown, tail)


def conflict_context(model, merged: merging.MergeResult) -> list[dict]:
    """What the template shows for each field in conflict."""
    fields = []
    for conflict in merged.conflicts:
        entry = {
            "name": conflict.name,
            "label": merging.field_label(model, conflict.name),
            "is_text": _is_text(conflict),
            "base": diffing.display_value(model, conflict.name, conflict.base),
            "live": diffing.display_value(model, conflict.name, conflict.live),
            "proposed": diffing.display_value(model, conflict.name, conflict.proposed),
            "hunks": [],
        }
        if entry["is_text"]:
            hunks = _hunks(conflict)
            regions = [i for i, hunk in enumerate(hunks) if isinstance(hunk, merging.ConflictRegion)]
            for number, position in enumerate(regions):
                hunk = hunks[position]
                before = hunks[position - 1] if position > 0 and isinstance(hunks[position - 1], str) else ""
                after = (
                    hunks[position + 1] if position + 1 < len(hunks) and isinstance(hunks[position + 1], str) else ""
                )
                head, tail = _around(before, after)
                entry["hunks"].append(
                    {
                        "index": number,
                        "number": number + 1,
                        "count": len(regions),
                        "base": _column(head, hunk.base, tail, "del"),
                        "live": _column(head, hunk.live, tail, "ins"),
                        "proposed": _column(head, hunk.proposed, tail, "ins"),
                        "both": " ".join(part.strip() for part in (hunk.live, hunk.proposed) if part.strip()),
                    }
                )
        fields.append(entry)
    return fields


def resolutions_from_post(model, merged: merging.MergeResult, post) -> dict:
    """Each conflicting field's settled value from the form; ValidationError names what is missing."""
    resolutions = {}
    for conflict in merged.conflicts:
        key = f"resolve_{conflict.name}"
        if not _is_text(conflict):
            if post.get(key) in ("live", "proposed"):
                resolutions[conflict.name] = getattr(conflict, post[key])
            continue
        hunks = _hunks(conflict)
        count = sum(isinstance(hunk, merging.ConflictRegion) for hunk in hunks)
        choices = [post.get(f"hunk_{conflict.name}_{i}", "") for i in range(count)]
        if any(choices):
            edited = [post.get(f"hunk_{conflict.name}_{i}_text") for i in range(count)]
            edited = [text.replace("\r\n", "\n") if text is not None else None for text in edited]
            try:
                resolutions[conflict.name] = merging.resolve_hunks(hunks, choices, edited)
            except ValidationError:
                raise ValidationError(
                    _("%(field)s: choose what to keep for every conflict.")
                    % {"field": merging.field_label(model, conflict.name)}
                ) from None
        elif key in post:
            # The whole text, edited by hand (conflict markers removed).
            resolutions[conflict.name] = post[key].replace("\r\n", "\n")
    return resolutions
