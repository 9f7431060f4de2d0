"""Turn an article file into title / dek / sections, and back.

Pure parsing and formatting: no database, no Django models, no settings.

Two input formats:

* **plain text** (:func:`parse_plain_text`) -- the shape of a copied web page:
  first line is the title, short unpunctuated lines are section headings,
  "•" lines are bullets, "1." lines are ordered items, everything else is
  prose.  Lines beginning "See also" (links to other sites' pages) are dropped
  and reported; nothing else is ever lost.  Prose is escaped so that it renders
  literally as Markdown.

* **Markdown** (:func:`parse_markdown`) -- the format written by
  :func:`article_to_markdown`::

      # Title

      dek markdown

      ## Section title {#anchor}
      <!-- topics: minusma, g5-sahel -->

      body markdown

      ### Subsection title {#anchor}

      body

  ``parse_markdown(article_to_markdown(a))`` gives back ``a``'s title, dek and
  sections (the counts are recomputed from the Markdown; ``dropped_lines`` is
  always empty for Markdown input).

Decisions worth knowing:

* Section delimiters are ``##`` / ``###`` lines starting in column 0 and
  outside fenced code blocks.  If any such line carries a ``{#anchor}``
  suffix, only the lines with a suffix are delimiters (so headings inside a
  body survive); ``{#}`` is an explicit empty anchor.
  :func:`article_to_markdown` switches to that "anchored" form whenever it
  is needed for a faithful round trip (some anchor set, a body/dek containing
  a ``##`` line, or a title that itself ends in ``{#...}``).
* Known limit of the round trip: an article with *no* sections whose dek
  contains a column-0 ``##`` line (there is no heading to carry the anchored
  form), or a body containing a literal ``## X {#y}`` line in anchored form,
  or an unclosed code fence in a dek/body.
* A ``###`` section before any ``##`` section is an error
  (:class:`ArticleFormatError`), not silently promoted.
* Non-blank text before the ``# Title`` line is an error (it would otherwise
  be lost).
* In plain text, a block of several consecutive non-list lines is always one
  wrapped paragraph (joined with spaces); only a single-line block can be a
  heading.  A line directly under a list item (no blank line between)
  continues that item when it is indented or starts with a lowercase letter.
  Consecutive list items of one kind form one list even across blank lines;
  an ordered list keeps its first number, the rest are renumbered from it.
  Ordered items are 1-3 digits + "." or ")" + space, so "1999. Something"
  is prose, not a list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "ArticleFormatError",
    "ParsedArticle",
    "ParsedSection",
    "escape_markdown_text",
    "parse_plain_text",
]


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


class ArticleFormatError(ValueError):
    """The input cannot be turned into an article; the message says why."""


@dataclass
class ParsedSection:
    title: str
    body: str  # Markdown
    level: int = 2  # 2 = section, 3 = subsection (of the preceding level-2 section)
    anchor: str = ""  # "" = let the caller slugify the title
    topics: list[str] = field(default_factory=list)  # topic slugs (markdown format only)


@dataclass
class ParsedArticle:
    title: str
    dek: str  # Markdown
    sections: list[ParsedSection]
    dropped_lines: list[str]  # lines dropped on purpose, reported to the user
    paragraphs: int  # counts for the summary
    list_items: int


# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------

# Spaces that are not ASCII spaces but should count as such when classifying.
_SPACE_TABLE = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " "})


def _normalise(text: str) -> str:
    if not isinstance(text, str):
        raise ArticleFormatError("The article must be text.")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _require_content(text: str) -> None:
    if not text.strip():
        raise ArticleFormatError("The file is empty: there is no title and no text to import.")


def _is_blank(line: str) -> bool:
    return not line.strip()


def _trim_blank_lines(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and _is_blank(lines[start]):
        start += 1
    while end > start and _is_blank(lines[end - 1]):
        end -= 1
    return lines[start:end]


def _trim_text(text: str) -> str:
    return "\n".join(_trim_blank_lines(text.split("\n")))


# ---------------------------------------------------------------------------
# Markdown escaping of plain text
# ---------------------------------------------------------------------------

_ENTITY_RE = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
_LEADING_HASHES_RE = re.compile(r"#{1,6}(?=[ \t]|$)")
_LEADING_ORDERED_RE = re.compile(r"([0-9]{1,9})([.)])(?=[ \t]|$)")
_LEADING_BULLET_RE = re.compile(r"[-+](?=[ \t]|$)")
_THEMATIC_BREAK_RE = re.compile(r"(?:[-_*][ \t]*){3,}$")


def _escape_inline(text: str) -> str:
    """Escape characters that could start inline Markdown constructs."""
    out: list[str] = []
    n = len(text)
    for i, ch in enumerate(text):
        if ch in "\\`*[<":
            out.append("\\" + ch)
        elif ch == "_":
            before = text[i - 1] if i > 0 else ""
            after = text[i + 1] if i + 1 < n else ""
            # An underscore between two alphanumerics can neither open nor close
            # emphasis (snake_case, URLs): leave it alone.
            if before.isalnum() and after.isalnum():
                out.append(ch)
            else:
                out.append("\\_")
        elif ch == "~":
            # Strikethrough (GFM) and ~~~ fences need two tildes in a row.
            if (i > 0 and text[i - 1] == "~") or (i + 1 < n and text[i + 1] == "~"):
                out.append("\\~")
            else:
                out.append(ch)
        elif ch == "&" and _ENTITY_RE.match(text, i):
            out.append("\\&")
        else:
            out.append(ch)
    return "".join(out)


def escape_markdown_text(text: str) -> str:
    """Escape one line of plain text so it renders literally as a Markdown block.

    Minimal: apostrophes, quotes, ordinary punctuation and intra-word
    underscores are left alone.
    """
    escaped = _escape_inline(text)
    # Block-level constructs recognised at the start of a line.
    if _THEMATIC_BREAK_RE.match(escaped) or _LEADING_BULLET_RE.match(escaped):
        return "\\" + escaped
    if escaped.startswith(">"):
        return "\\" + escaped
    if _LEADING_HASHES_RE.match(escaped):
        return "\\" + escaped
    m = _LEADING_ORDERED_RE.match(escaped)
    if m:
        return m.group(1) + "\\" + escaped[m.end(1) :]
    return escaped


# ---------------------------------------------------------------------------
# Plain text
# ---------------------------------------------------------------------------

_SEE_ALSO_RE = re.compile(r"see also\b", re.IGNORECASE)
_BULLET_RE = re.compile(r"(?:[•◦▪‣⁃●][ \t]*|[-*+][ \t]+)(?=\S)")
_ORDERED_RE = re.compile(r"([0-9]{1,3})[.)][ \t]+(?=\S)")
_FINAL_PUNCTUATION = ".,;:!?…"
_CLOSERS = "\"'”’»›)]}"
_HEADING_MAX_CHARS = 100
_HEADING_MAX_WORDS = 14
_LABEL_MAX_WORDS = 8
_LABEL_MAX_CHARS = 80


def _is_heading_like(norm: str) -> bool:
    """A short line without final punctuation (norm: nbsp-normalised, stripped)."""
    if not norm or len(norm) > _HEADING_MAX_CHARS or len(norm.split()) > _HEADING_MAX_WORDS:
        return False
    if not any(ch.isalpha() for ch in norm):
        return False
    core = norm.rstrip(_CLOSERS + " \t")
    if not core:
        return False
    return core[-1] not in _FINAL_PUNCTUATION


def _split_label(text: str) -> tuple[str, str] | None:
    """'Label: rest' -> ('Label', 'rest') when the label is short and plain."""
    colon = text.find(":")
    if colon <= 0:
        return None
    label, rest = text[:colon], text[colon + 1 :]
    norm_label = label.translate(_SPACE_TABLE)
    if norm_label != norm_label.strip() or not rest[:1].translate(_SPACE_TABLE).isspace():
        return None
    rest = rest.strip()
    if not rest:
        return None
    if len(label) > _LABEL_MAX_CHARS or len(norm_label.split()) > _LABEL_MAX_WORDS:
        return None
    if any(ch in label for ch in ".!?;"):
        return None
    return label, rest


def _format_item(text: str) -> str:
    labelled = _split_label(text)
    if labelled is None:
        return escape_markdown_text(text)
    label, rest = labelled
    return f"**{_escape_inline(label)}:** {_escape_inline(rest)}"


@dataclass
class _List:
    ordered: bool
    start: int
    items: list[str]

    def to_markdown(self) -> str:
        lines = []
        for i, item in enumerate(self.items):
            marker = f"{self.start + i}." if self.ordered else "-"
            lines.append(f"{marker} {_format_item(item)}")
        return "\n".join(lines)


@dataclass
class _Part:
    """The dek (title is None) or one section, while parsing plain text."""

    title: str | None
    blocks: list = field(default_factory=list)  # str paragraphs (raw text) or _List

    def to_markdown(self) -> str:
        out = []
        for block in self.blocks:
            out.append(block.to_markdown() if isinstance(block, _List) else escape_markdown_text(block))
        return "\n\n".join(out)


def parse_plain_text(text: str) -> ParsedArticle:
    """Parse a plain-text article (see the module docstring for the rules)."""
    text = _normalise(text)
    _require_content(text)

    title: str | None = None
    dropped: list[str] = []
    parts: list[_Part] = [_Part(title=None)]
    buffer: list[str] = []  # lines of the paragraph being read
    open_list: _List | None = None  # list that further items may join
    item_open = False  # previous line was a list item (continuations join it)

    def flush_paragraph() -> None:
        nonlocal open_list
        if not buffer:
            return
        if len(buffer) == 1 and _is_heading_like(buffer[0].translate(_SPACE_TABLE).strip()):
            parts.append(_Part(title=buffer[0]))
        else:
            parts[-1].blocks.append(" ".join(buffer))
        buffer.clear()
        open_list = None

    for line in text.split("\n"):
        stripped = line.strip()
        norm = stripped.translate(_SPACE_TABLE)
        if not norm:
            flush_paragraph()
            item_open = False
            continue
        if _SEE_ALSO_RE.match(norm):
            flush_paragraph()
            dropped.append(stripped)
            item_open = False
            continue
        if title is None:
            title = stripped
            continue

        bullet = _BULLET_RE.match(norm)
        ordered = None if bullet else _ORDERED_RE.match(norm)
        if bullet or ordered:
            flush_paragraph()
            match = bullet or ordered
            item = stripped[match.end() :]
            is_ordered = ordered is not None
            if open_list is None or open_list.ordered != is_ordered:
                start = int(ordered.group(1)) if ordered else 1
                open_list = _List(ordered=is_ordered, start=start, items=[])
                parts[-1].blocks.append(open_list)
            open_list.items.append(item)
            item_open = True
            continue

        if item_open and open_list is not None:
            indented = line[:1].translate(_SPACE_TABLE).isspace()
            if indented or norm[0].islower():
                open_list.items[-1] += " " + stripped
                continue
        item_open = False
        buffer.append(stripped)

    flush_paragraph()

    if title is None:
        raise ArticleFormatError("No title found: the only non-empty lines are 'See also' lines, which are dropped.")

    dek_part, section_parts = parts[0], parts[1:]
    all_blocks = [b for p in parts for b in p.blocks]
    return ParsedArticle(
        title=title,
        dek=dek_part.to_markdown(),
        sections=[ParsedSection(title=p.title or "", body=p.to_markdown()) for p in section_parts],
        dropped_lines=dropped,
        paragraphs=sum(1 for b in all_blocks if isinstance(b, str)),
        list_items=sum(len(b.items) for b in all_blocks if isinstance(b, _List)),
    )
