"""Three-way merging of a stale proposal with the content published since its base.

Text fields merge line by line with merge3; where lines conflict, the conflicting stretch is
merged again word by word, so two editors changing different sentences of one paragraph
still merge cleanly. Other fields take a change made on one side only; a different change on
both sides is a conflict. A merge with conflicts never yields publishable data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import merge3
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from articles.models import ModeratedContent, ModerationEvent, Revision, RevisionAction, RevisionStatus
from articles.revisions import audit, comments, validation
from articles.revisions.permissions import can_moderate

TEXT_FIELDS = {
    "body",
    "dek",
    "summary",
    "title",
    "name",
    "caption",
    "alt_text",
    "notes",
    "text",
}  # "text": timeline events
# "=======" alone is a legitimate Markdown heading underline, so only the outer markers count.
CONFLICT_MARKERS = ("<<<<<<<", ">>>>>>>")
_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass
class ConflictRegion:
    base: str
    live: str
    proposed: str


@dataclass
class FieldMerge:
    name: str
    base: object
    live: object
    proposed: object
    merged: object = None
    conflicts: list[ConflictRegion] = field(default_factory=list)

    @property
    def is_conflict(self) -> bool:
        return bool(self.conflicts)

    @property
    def changed_on_both_sides(self) -> bool:
        return self.live != self.base and self.proposed != self.base

    def marked_text(self) -> str:
        """The merged text with conflict markers, for a person to resolve in a text box."""
        if not self.is_conflict:
            return self.merged
        return _merge_text(self.base or "", self.live or "", self.proposed or "", mark=True)[0]


# --- Conflicts hunk by hunk (the review page's buttons) ----------------------------------------

#: A moderator's choice for one conflicting stretch.
HUNK_CHOICES = ("live", "proposed", "both")


def text_hunks(base: str, live: str, proposed: str) -> list[str | ConflictRegion]:
    """The three-way merge of a text as it reads: merged stretches (str) between conflicting ones.

    The same regions as ``_merge_text`` finds (lines, then words within conflicting lines), so
    joining the merged stretches with one side of every conflict gives that side's whole text.
    """
    if live in (proposed, base) or proposed == base:
        return [_merge_text(base, live, proposed)[0]]
    segments: list[str | ConflictRegion] = []
    lines = merge3.Merge3(_split_lines(base), _split_lines(live), _split_lines(proposed))
    for region in lines.merge_regions():
        if region[0] != "conflict":
            segments.append("".join(_region_text(lines, region)))
            continue
        _, z1, z2, a1, a2, b1, b2 = region
        sides = ("".join(seq) for seq in (lines.base[z1:z2], lines.a[a1:a2], lines.b[b1:b2]))
        words = merge3.Merge3(*(_WORDS.findall(side) for side in sides))
        for sub in words.merge_regions():
            if sub[0] != "conflict":
                segments.append("".join(_region_text(words, sub)))
            else:
                _, y1, y2, c1, c2, d1, d2 = sub
                segments.append(
                    ConflictRegion("".join(words.base[y1:y2]), "".join(words.a[c1:c2]), "".join(words.b[d1:d2]))
                )
    # Adjacent merged stretches read as one.
    joined: list[str | ConflictRegion] = []
    for segment in segments:
        if isinstance(segment, str) and joined and isinstance(joined[-1], str):
            joined[-1] += segment
        elif segment != "":
            joined.append(segment)
    return joined


def _region_text(m: merge3.Merge3, region: tuple) -> list[str]:
    kind = region[0]
    if kind == "unchanged":
        return m.base[region[1] : region[2]]
    if kind in ("a", "same"):
        return m.a[region[1] : region[2]]
    return m.b[region[1] : region[2]]


def resolve_hunks(hunks: list[str | ConflictRegion], choices: list[str], edited: list[str | None]) -> str:
    """The text with each conflict settled: the published words, the proposal's, or both as edited.

    ``choices`` and ``edited`` hold one entry per conflict, in order; raises ValidationError for a
    missing or unknown choice.
    """
    conflicts = [h for h in hunks if isinstance(h, ConflictRegion)]
    if len(choices) != len(conflicts) or any(choice not in HUNK_CHOICES for choice in choices):
        raise ValidationError(_("Choose what to keep for every conflict."))
    out, index = [], 0
    for hunk in hunks:
        if isinstance(hunk, str):
            out.append(hunk)
            continue
        choice, text = choices[index], edited[index]
        if choice == "both":
            out.append(text if text is not None else hunk.live + hunk.proposed)
        else:
            out.append(getattr(hunk, choice))
        index += 1
    return "".join(out)


@dataclass
class MergeResult:
    fields: list[FieldMerge]
    data: dict

    @property
    def is_clean(self) -> bool:
        return not any(f.is_conflict for f in self.fields)

    @property
    def conflicts(self) -> list[FieldMerge]:
        return [f for f in self.fields if f.is_conflict]

    @property
    def merged_fields(self) -> list[FieldMerge]:
        """Fields both sides changed that merged without conflict."""
        return [f for f in self.fields if f.changed_on_both_sides and not f.is_conflict]


def _split_lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _merge_words(base: str, live: str, proposed: str, mark: bool):
    m = merge3.Merge3(_WORDS.findall(base), _WORDS.findall(live), _WORDS.findall(proposed))
    return _apply_regions(m, mark, word_level=True)


def _apply_regions(m: merge3.Merge3, mark: bool, word_level: bool):
    out, conflicts = [], []
    for region in m.merge_regions():
        kind = region[0]
        if kind == "unchanged":
            out.extend(m.base[region[1] : region[2]])
        elif kind in ("a", "same"):
            out.extend(m.a[region[1] : region[2]])
        elif kind == "b":
            out.extend(m.b[region[1] : region[2]])
        else:
            _, z1, z2, a1, a2, b1, b2 = region
            base, live, proposed = ("".join(seq) for seq in (m.base[z1:z2], m.a[a1:a2], m.b[b1:b2]))
            if not word_level:
                merged, sub_conflicts = _merge_words(base, live, proposed, mark)
                out.append(merged)
                conflicts.extend(sub_conflicts)
                continue
            conflicts.append(ConflictRegion(base, live, proposed))
            if mark:
                out.append(f"<<<<<<< published\n{live}\n=======\n{proposed}\n>>>>>>> proposal\n")
    return "".join(out), conflicts


def _merge_text(base: str, live: str, proposed: str, mark: bool = False):
    if live == proposed:
        return live, []
    if live == base:
        return proposed, []
    if proposed == base:
        return live, []
    m = merge3.Merge3(_split_lines(base), _split_lines(live), _split_lines(proposed))
    return _apply_regions(m, mark, word_level=False)


def merge_snapshots(model: type[ModeratedContent], base: dict, live: dict, proposed: dict) -> MergeResult:
    """Merge ``proposed`` (written against ``base``) with ``live`` (published since), field by field."""
    fields, data = [], {}
    for name in model.REVISION_FIELDS:
        b, lv, p = base.get(name), live.get(name), proposed.get(name)
        result = FieldMerge(name, b, lv, p)
        if lv == p or p == b:
            result.merged = lv
        elif lv == b:
            result.merged = p
        elif name in TEXT_FIELDS and all(isinstance(v, (str, type(None))) for v in (b, lv, p)):
            result.merged, result.conflicts = _merge_text(b or "", lv or "", p or "")
        else:
            result.conflicts = [ConflictRegion(repr(b), repr(lv), repr(p))]
        fields.append(result)
        if not result.is_conflict:
            data[name] = result.merged
    return MergeResult(fields=fields, data=data)


def has_conflict_markers(data: dict) -> list[str]:
    """Names of fields that still carry conflict markers."""
    found = []
    for name, value in data.items():
        if isinstance(value, str) and any(
            line.startswith(marker) for line in value.splitlines() for marker in CONFLICT_MARKERS
        ):
            found.append(name)
    return found


# --- Stale proposals -------------------------------------------------------------------------


class StaleRevisionError(ValidationError):
    """The object changed since the proposal was written; publishing it would lose that change."""


class MergeConflictError(StaleRevisionError):
    """The proposal and the newer published content changed the same words."""


def is_stale(revision: Revision, obj: ModeratedContent | None = None) -> bool:
    """True when live content moved on since the proposal's base revision."""
    if revision.status not in (RevisionStatus.PENDING, RevisionStatus.SCHEDULED):
        return False
    if revision.action == RevisionAction.CREATE:
        return False
    obj = obj if obj is not None else revision.get_object()
    if obj is None:
        return False
    return obj.live_revision_id != revision.base_id


def merge_with_live(revision: Revision, obj: ModeratedContent | None = None) -> MergeResult:
    """The proposal merged three ways with what was published since its base."""
    obj = obj if obj is not None else revision.get_object()
    base = revision.base.data if revision.base_id else {}
    live = obj.live_revision.data if obj.live_revision_id else obj.snapshot()
    return merge_snapshots(revision.model_class, base, live, revision.data)


def rebase(revision: Revision, obj: ModeratedContent, data: dict, actor: User, kind: str, note: str) -> None:
    """Make ``data`` the proposal's content, now based on the live revision; keep the author's version."""
    if revision.original_data is None:
        revision.original_data = revision.data
        revision.original_base_id = revision.base_id
    revision.data = data
    revision.base_id = obj.live_revision_id
    revision.save(update_fields=["data", "base", "original_data", "original_base", "updated_at"])
    audit.record(revision, kind, actor, note)
    comments.follow_revision(revision)


def field_label(model: type[ModeratedContent], name: str) -> str:
    """A field's name as its form shows it ("Text", not ``body``)."""
    return str(model._meta.get_field(name).verbose_name).capitalize()


def _labels(model: type[ModeratedContent], names: list[str]) -> str:
    return ", ".join(field_label(model, name) for name in names)


@transaction.atomic
def resolve_conflicts(*, revision: Revision, user: User, resolutions: dict) -> Revision:
    """Settle a stale proposal's conflicts; it becomes a proposal based on the live version."""
    revision = Revision.objects.select_for_update(of=("self",)).select_related("content_type").get(pk=revision.pk)
    if revision.status != RevisionStatus.PENDING:
        raise ValidationError(_("Only a pending proposal can be resolved."))
    if revision.author_id != getattr(user, "pk", None) and not can_moderate(user):
        raise PermissionDenied(_("Only the author or a moderator can resolve this proposal."))
    obj = revision.model_class._default_manager.select_for_update().get(pk=revision.object_id)
    if not is_stale(revision, obj):
        raise ValidationError(_("This proposal already applies to the published version: nothing to resolve."))
    merged = merge_with_live(revision, obj)
    data = dict(merged.data)
    missing = [f.name for f in merged.conflicts if f.name not in resolutions]
    if missing:
        raise ValidationError(
            _("Choose a version for: %(fields)s.") % {"fields": _labels(revision.model_class, missing)}
        )
    data.update({name: value for name, value in resolutions.items() if name in revision.model_class.REVISION_FIELDS})
    marked = has_conflict_markers(data)
    if marked:
        raise ValidationError(
            _("Remove the conflict markers (<<<<<<< … >>>>>>>) from: %(fields)s.")
            % {"fields": _labels(revision.model_class, marked)}
        )
    validation.validate_data(obj, data, revision.action)
    rebase(
        revision,
        obj,
        data,
        user,
        ModerationEvent.Kind.AMENDED,
        _("Conflicts resolved against revision #%(live)s") % {"live": obj.live_revision_id},
    )
    return revision
