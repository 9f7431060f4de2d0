"""Finding a quoted passage in a text again, after the text changed.

A comment on a passage keeps the quoted words, a little of the text before and after them, and
where they started. When the text is amended, the words are looked for again: whitespace may
differ (a pasted quote, a re-wrapped paragraph), and when they occur more than once, the
occurrence whose surroundings match best wins, then the one nearest the old position. Not found:
the comment is outdated. Pure text; the comments service (articles.revisions.comments) uses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CONTEXT = 40  # characters of text kept on each side of the quote


@dataclass(frozen=True)
class Anchor:
    quote: str  # the words as they read in the text (whitespace as the text has it)
    start: int
    prefix: str
    suffix: str

    @property
    def end(self) -> int:
        return self.start + len(self.quote)


def normalise(text: str) -> str:
    """Runs of whitespace as one space, trimmed: how quotes are compared."""
    return " ".join((text or "").split())


def _pattern(quote: str) -> re.Pattern | None:
    words = (quote or "").split()
    if not words:
        return None
    return re.compile(r"\s+".join(re.escape(word) for word in words))


def _common_tail(a: str, b: str) -> int:
    """How many characters ``a`` and ``b`` share at their ends."""
    n = 0
    for x, y in zip(reversed(a), reversed(b), strict=False):
        if x != y:
            break
        n += 1
    return n


def _common_head(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def find(text: str, quote: str, *, prefix: str = "", suffix: str = "", near: int | None = None) -> Anchor | None:
    """Where ``quote`` is in ``text`` now, as an Anchor with fresh context; None when it is not there."""
    pattern = _pattern(quote)
    if pattern is None or not text:
        return None
    matches = list(pattern.finditer(text))
    if not matches:
        return None
    wanted_before, wanted_after = normalise(prefix), normalise(suffix)

    def score(match: re.Match) -> tuple:
        before = normalise(text[max(0, match.start() - 2 * CONTEXT) : match.start()])
        after = normalise(text[match.end() : match.end() + 2 * CONTEXT])
        context = _common_tail(before, wanted_before) + _common_head(after, wanted_after)
        distance = abs(match.start() - near) if near is not None else 0
        return (-context, distance, match.start())

    best = min(matches, key=score)
    return Anchor(
        quote=best.group(0),
        start=best.start(),
        prefix=text[max(0, best.start() - CONTEXT) : best.start()],
        suffix=text[best.end() : best.end() + CONTEXT],
    )


def at(text: str, quote: str, start: int | None) -> Anchor | None:
    """The quote exactly where the reader selected it (a selection in the diff says where), if it is there."""
    if start is None or start < 0 or not quote:
        return None
    pattern = _pattern(quote)
    match = pattern.match(text, start) if pattern else None
    if match is None:
        return None
    return Anchor(
        quote=match.group(0),
        start=match.start(),
        prefix=text[max(0, match.start() - CONTEXT) : match.start()],
        suffix=text[match.end() : match.end() + CONTEXT],
    )
