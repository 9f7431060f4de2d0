"""The site's single Markdown -> safe HTML pipeline.

markdown-it-py (CommonMark + GFM tables + strikethrough) with footnotes
(mdit_py_plugins) and Pandoc-style citations (``[@key, p. 3; @other]``),
sanitised with nh3.

Pure Python: no Django models, no settings needed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from articles.content.sanitising import ALLOWED_CLASSES, sanitise_html

__all__ = [
    "CitationRef",
    "Note",
    "CitationNotes",
    "extract_citations",
    "citation_keys",
    "render_markdown",
    "render_notes",
    "sanitise_html",
    "markdownify",
    "SOURCE_FORMATTER",
    "SOURCE_URL",
    "ALLOWED_CLASSES",
]

# ---------------------------------------------------------------------------
# Public data structures
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CitationRef:
    key: str
    locator: str = ""


@dataclass
class Note:
    number: int
    key: str
    locator: str
    backrefs: list[str] = field(default_factory=list)


class CitationNotes:
    """Numbers citations across a whole article (notes run 1..n over all sections).

    One note per distinct (key, locator) pair; citing the same pair again
    reuses its number and adds a backref id.
    """

    def __init__(self, id_prefix: str = "") -> None:
        self.notes: list[Note] = []
        self._by_pair: dict[tuple[str, str], Note] = {}
        # For notes shown beside others on one page (the admin's before/after previews): ids stay unique.
        self.id_prefix = id_prefix

    def cite(self, ref: CitationRef) -> tuple[int, str]:
        pair = (ref.key, ref.locator)
        note = self._by_pair.get(pair)
        if note is None:
            note = Note(number=len(self.notes) + 1, key=ref.key, locator=ref.locator)
            self.notes.append(note)
            self._by_pair[pair] = note
        marker_id = f"{self.id_prefix}cite-{note.number}-{len(note.backrefs) + 1}"
        note.backrefs.append(marker_id)
        return note.number, marker_id

    def __len__(self) -> int:
        return len(self.notes)

    def __bool__(self) -> bool:  # an empty registry is still a registry
        return True


# ---------------------------------------------------------------------------
# Citation inline rule
# ---------------------------------------------------------------------------

# key: starts with a letter/digit, then letters, digits, - _ . : /
_KEY_RE = re.compile(r"[^\W_][\w\-.:/]*")
_WS = " \t\n"


def _parse_citation_group(src: str, start: int, end: int) -> tuple[list[CitationRef], int] | None:
    """Parse ``[@a, loc; @b]`` starting at ``src[start] == "["``.

    Returns (refs, position after "]") or None if this is not an exact
    Pandoc bracketed citation.
    """
    if start + 2 >= end or src[start] != "[" or src[start + 1] != "@":
        return None
    pos = start + 1
    refs: list[CitationRef] = []
    while True:
        # expect "@key"
        if pos >= end or src[pos] != "@":
            return None
        m = _KEY_RE.match(src, pos + 1, end)
        if m is None:
            return None
        key = m.group(0)
        pos = m.end()
        while pos < end and src[pos] in _WS:
            pos += 1
        locator = ""
        if pos < end and src[pos] == ",":
            pos += 1
            loc_start = pos
            while pos < end and src[pos] not in ";]":
                if src[pos] in "[@\\":
                    return None
                pos += 1
            locator = " ".join(src[loc_start:pos].split())
            if not locator:
                return None
        if pos >= end:
            return None
        refs.append(CitationRef(key, locator))
        if src[pos] == "]":
            return refs, pos + 1
        if src[pos] == ";":
            pos += 1
            while pos < end and src[pos] in _WS:
                pos += 1
            continue
        return None


def _citation_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "[" or state.linkLevel > 0:
        return False
    parsed = _parse_citation_group(state.src, state.pos, state.posMax)
    if parsed is None:
        return False
    refs, new_pos = parsed
    if not silent:
        token = state.push("citation", "", 0)
        token.meta = {"refs": refs}
        token.content = state.src[state.pos : new_pos]
    state.pos = new_pos
    return True


def _render_citation(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    notes: CitationNotes = env.setdefault("citation_notes", CitationNotes())
    links = []
    for ref in tokens[idx].meta["refs"]:
        number, marker_id = notes.cite(ref)
        links.append(
            f'<a href="#{notes.id_prefix}note-{number}" id="{marker_id}" class="citation-ref" '
            f'aria-label="Note {number}">{number}</a>'
        )
    return '<sup class="citation">' + ", ".join(links) + "</sup>"


# ---------------------------------------------------------------------------
# Tables: alignment as classes, never style attributes
# ---------------------------------------------------------------------------

_ALIGN_RE = re.compile(r"text-align:\s*(left|center|right)")


def _render_table_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    # A wide table scrolls inside its own box, which the keyboard can reach (arrow keys scroll it)
    # and which says what it is; the stylesheet shades the edge that has more to show.
    from django.utils.translation import gettext

    label = escape(gettext("Table (scrolls sideways on narrow screens)"), quote=True)
    return f'<div class="table-scroll" role="region" tabindex="0" aria-label="{label}">\n<table>\n'


def _render_table_close(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    return "</table>\n</div>\n"


def _table_align_classes(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and token.attrs:
            style = token.attrs.pop("style", None)
            if isinstance(style, str):
                m = _ALIGN_RE.search(style)
                if m:
                    token.attrJoin("class", f"align-{m.group(1)}")


# ---------------------------------------------------------------------------
# Headings with offset
# ---------------------------------------------------------------------------


def _heading_tag(token: Token, env: dict) -> str:
    level = int(token.tag[1:]) + int(env.get("heading_offset", 0) or 0)
    return f"h{min(6, max(1, level))}"


def _render_heading_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    return f"<{_heading_tag(tokens[idx], env)}>"


def _render_heading_close(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    return f"</{_heading_tag(tokens[idx], env)}>\n"


# ---------------------------------------------------------------------------
# Footnotes with id prefixes
# ---------------------------------------------------------------------------


def _fn_prefix(env: dict) -> str:
    return escape(str(env.get("id_prefix", "") or ""), quote=True)


def _fn_ids(token: Token, env: dict) -> tuple[str, str]:
    """(footnote li id, this ref/anchor's fnref id)."""
    prefix = _fn_prefix(env)
    n = token.meta["id"] + 1
    sub = token.meta.get("subId", 0) or 0
    ref_id = f"{prefix}fnref{n}" + (f"-{sub + 1}" if sub > 0 else "")
    return f"{prefix}fn{n}", ref_id


def _render_footnote_ref(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    fn_id, ref_id = _fn_ids(tokens[idx], env)
    n = tokens[idx].meta["id"] + 1
    return f'<sup class="footnote-ref"><a href="#{fn_id}" id="{ref_id}" aria-label="Footnote {n}">[{n}]</a></sup>'


def _render_footnote_block_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    return '<hr class="footnotes-sep">\n<section class="footnotes">\n<ol class="footnotes-list">\n'


def _render_footnote_block_close(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    return "</ol>\n</section>\n"


def _render_footnote_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    fn_id, _ = _fn_ids(tokens[idx], env)
    return f'<li id="{fn_id}" class="footnote-item">'


def _render_footnote_close(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    return "</li>\n"


def _render_footnote_anchor(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict) -> str:
    _, ref_id = _fn_ids(tokens[idx], env)
    n = tokens[idx].meta["id"] + 1
    # U+FE0E stops iOS from rendering the arrow as an emoji
    return f' <a href="#{ref_id}" class="footnote-backref" aria-label="Back to reference {n}">\u21a9\ufe0e</a>'


# ---------------------------------------------------------------------------
# The parser (built once)
# ---------------------------------------------------------------------------


def _build_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "xhtmlOut": False})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.inline.ruler.after("footnote_ref", "citation", _citation_rule)
    md.core.ruler.after("block", "table_align_classes", _table_align_classes)
    md.add_render_rule("citation", _render_citation)
    md.add_render_rule("table_open", _render_table_open)
    md.add_render_rule("table_close", _render_table_close)
    md.add_render_rule("heading_open", _render_heading_open)
    md.add_render_rule("heading_close", _render_heading_close)
    md.add_render_rule("footnote_ref", _render_footnote_ref)
    md.add_render_rule("footnote_block_open", _render_footnote_block_open)
    md.add_render_rule("footnote_block_close", _render_footnote_block_close)
    md.add_render_rule("footnote_open", _render_footnote_open)
    md.add_render_rule("footnote_close", _render_footnote_close)
    md.add_render_rule("footnote_anchor", _render_footnote_anchor)
    return md


_MD = _build_parser()


def _iter_citation_tokens(tokens: Sequence[Token]):
    for token in tokens:
        if token.type == "citation":
            yield token
        elif token.type == "inline" and token.children:
            # image children (alt text) are deliberately skipped: not rendered as citations
            yield from _iter_citation_tokens(token.children)


def extract_citations(text: str) -> list[CitationRef]:
    """Every citation in rendering order (duplicates kept), ignoring code.

    Rendering order equals document order, except that citations inside
    footnote definitions come after the body (where the footnotes render).
    """
    tokens = _MD.parse(text or "", {})
    return [ref for tok in _iter_citation_tokens(tokens) for ref in tok.meta["refs"]]


def citation_keys(text: str) -> list[str]:
    """Unique citation keys in first-appearance order."""
    return list(dict.fromkeys(ref.key for ref in extract_citations(text)))


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


def render_markdown(
    text: str,
    *,
    notes: CitationNotes | None = None,
    id_prefix: str = "",
    heading_offset: int = 0,
) -> str:
    """Markdown to sanitised HTML.

    notes: shared registry when rendering several sections of one article.
    id_prefix: prefix for footnote ids (e.g. "s12-").
    heading_offset: added to heading levels (capped at h6).
    """
    env = {
        "citation_notes": notes if notes is not None else CitationNotes(),
        "id_prefix": id_prefix,
        "heading_offset": heading_offset,
    }
    return sanitise_html(_MD.render(text or "", env))


def _backref_label(i: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa ..."""
    label = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        label = chr(ord("a") + r) + label
    return label


backref_label = _backref_label  # also used by articles.publishing.article_page


def render_notes(
    notes: CitationNotes,
    format_source: Callable[[str, str], str | None],
    *,
    source_url: Callable[[str], str | None] = lambda key: None,
) -> str:
    """The <ol class="notes"> list for a registry ("" when empty)."""
    if not notes.notes:
        return ""
    items = []
    for note in notes.notes:
        body = format_source(note.key, note.locator)
        if body is None:
            body = f'<span class="note-unknown">Unknown source \u201c{escape(note.key)}\u201d</span>'
            if note.locator:
                body += f", {escape(note.locator)}"
        parts = [body]
        url = source_url(note.key)
        if url:
            parts.append(f' <a href="{escape(url, quote=True)}" class="note-source-link">Source details</a>')
        n = note.number
        several = len(note.backrefs) > 1
        backs = []
        for i, ref_id in enumerate(note.backrefs):
            if several:
                label = _backref_label(i)
                backs.append(
                    f'<a href="#{escape(ref_id, quote=True)}" class="note-backref" '
                    # "1, a" and not "1a": the visible letter is a word of the name (WCAG 2.5.3).
                    f'aria-label="Back to citation {n}, {label}">\u21a9\ufe0e<sup>{label}</sup></a>'
                )
            else:
                backs.append(
                    f'<a href="#{escape(ref_id, quote=True)}" class="note-backref" '
                    f'aria-label="Back to citation {n}">\u21a9\ufe0e</a>'
                )
        parts.append(" " + " ".join(backs))
        items.append(f'<li id="{notes.id_prefix}note-{n}">{"".join(parts)}</li>')
    return sanitise_html('<ol class="notes">\n' + "\n".join(items) + "\n</ol>\n")


# ---------------------------------------------------------------------------
# django-markdownx preview
# ---------------------------------------------------------------------------

#: Hook: set to a callable (key, locator) -> safe HTML | None for real Source lookups.
SOURCE_FORMATTER: Callable[[str, str], str | None] | None = None
#: Hook: set to a callable key -> URL | None to link notes to their Source page.
SOURCE_URL: Callable[[str], str | None] | None = None


def _raw_formatter(key: str, locator: str) -> str:
    out = f'<span class="note-key">{escape(key)}</span>'
    if locator:
        out += f', <span class="note-locator">{escape(locator)}</span>'
    return out


def markdownify(text: str) -> str:
    """Preview renderer for django-markdownx: body plus its notes list."""
    notes = CitationNotes()
    html = render_markdown(text, notes=notes)
    formatter = SOURCE_FORMATTER or _raw_formatter
    url = SOURCE_URL or (lambda key: None)
    return html + render_notes(notes, formatter, source_url=url)
