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


def merge_snapshots(model, base: dict, live: dict, proposed: dict) -> MergeResult:
    """Merge ``proposed`` (written against ``base``) with ``live`` (published since), field by field."""
    fields, data = [], {}
    for name in model.REVISION_FIELDS:
        b, l, p = base.get(name), live.get(name), proposed.get(name)
        result = FieldMerge(name, b, l, p)
        if l == p or p == b:
            result.merged = l
        elif l == b:
            result.merged = p
        elif name in TEXT_FIELDS and all(isinstance(v, (str, type(None))) for v in (b, l, p)):
            result.merged, result.conflicts = _merge_text(b or "", l or "", p or "")
        else:
            result.conflicts = [ConflictRegion(repr(b), repr(l), repr(p))]
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
