"""The Markdown article format: one file per article, read by import_article and written by export_article."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from articles.ops.importing import (
    ArticleFormatError,
    ParsedArticle,
    ParsedSection,
    _normalise,
    _require_content,
    _trim_blank_lines,
    _trim_text,
)

# ---------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------

_FENCE_OPEN_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_TITLE_RE = re.compile(r"^#(?:[ \t]+(.*))?$")
_SECTION_RE = re.compile(r"^(#{2,3})(?:[ \t]+(.*))?$")
_ANCHOR_SUFFIX_RE = re.compile(r"^(.*?)[ \t]*\{#([^\s{}]*)\}$")
_TOPICS_RE = re.compile(r"^<!--[ \t]*topics:(.*?)-->[ \t]*$")
_ANCHOR_OK_RE = re.compile(r"^[^\s{}]*$")


def _fence_flags(lines: list[str]) -> list[bool]:
    """For each line: True when it is part of a fenced code block (fences included)."""
    flags: list[bool] = []
    fence: tuple[str, int] | None = None  # (char, length) of the open fence
    for line in lines:
        if fence is None:
            m = _FENCE_OPEN_RE.match(line)
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                fence = (m.group(1)[0], len(m.group(1)))
                flags.append(True)
            else:
                flags.append(False)
        else:
            flags.append(True)
            char, length = fence
            m = _FENCE_OPEN_RE.match(line)
            if m and m.group(1)[0] == char and len(m.group(1)) >= length and not m.group(2).strip():
                fence = None
    return flags


def _heading_lines(lines: list[str]) -> list[tuple[int, int, str, str | None]]:
    """(index, level, title, anchor-or-None) of every ##/### line outside fences."""
    found = []
    for i, (line, fenced) in enumerate(zip(lines, _fence_flags(lines), strict=False)):
        if fenced:
            continue
        m = _SECTION_RE.match(line)
        if not m:
            continue
        heading = (m.group(2) or "").strip()
        a = _ANCHOR_SUFFIX_RE.match(heading)
        if a:
            found.append((i, len(m.group(1)), a.group(1), a.group(2)))
        else:
            found.append((i, len(m.group(1)), heading, None))
    return found


def _count_blocks(markdown_texts: list[str]) -> tuple[int, int]:
    """Rough (paragraphs, list items) count of some Markdown texts."""
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    paragraphs = items = 0
    for text in markdown_texts:
        if not text.strip():
            continue
        depth = 0
        for token in md.parse(text):
            if token.type == "list_item_open":
                items += 1
                depth += 1
            elif token.type == "list_item_close":
                depth -= 1
            elif token.type == "paragraph_open" and depth == 0:
                paragraphs += 1
    return paragraphs, items


def parse_markdown(text: str) -> ParsedArticle:
    """Parse the Markdown article format (see the module docstring)."""
    text = _normalise(text)
    _require_content(text)
    lines = text.split("\n")
    fenced = _fence_flags(lines)

    title_index = None
    for i, line in enumerate(lines):
        if not fenced[i] and _TITLE_RE.match(line):
            title_index = i
            break
    if title_index is None:
        raise ArticleFormatError("No title found: the file must contain a '# Title' line.")
    before = [line for line in lines[:title_index] if line.strip()]
    if before:
        raise ArticleFormatError(
            f"Text before the '# Title' line would be lost: {before[0].strip()[:60]!r}. "
            "Move it below the title (as the dek) or delete it."
        )
    title = (_TITLE_RE.match(lines[title_index]).group(1) or "").strip()
    if not title:
        raise ArticleFormatError("The '# ' title line is empty.")

    rest = lines[title_index + 1 :]
    headings = _heading_lines(rest)
    if any(anchor is not None for *_, anchor in headings):
        headings = [h for h in headings if h[3] is not None]

    dek_end = headings[0][0] if headings else len(rest)
    dek = "\n".join(_trim_blank_lines(rest[:dek_end]))

    sections: list[ParsedSection] = []
    for n, (index, level, heading, anchor) in enumerate(headings):
        if level == 3 and not sections:
            raise ArticleFormatError(f"Subsection {heading!r} has no parent section: add a '## ' section above it.")
        end = headings[n + 1][0] if n + 1 < len(headings) else len(rest)
        body_lines = _trim_blank_lines(rest[index + 1 : end])
        topics: list[str] = []
        if body_lines:
            m = _TOPICS_RE.match(body_lines[0])
            if m:
                topics = [t.strip() for t in m.group(1).split(",") if t.strip()]
                body_lines = _trim_blank_lines(body_lines[1:])
        sections.append(
            ParsedSection(
                title=heading,
                body="\n".join(body_lines),
                level=level,
                anchor=anchor or "",
                topics=topics,
            )
        )

    paragraphs, list_items = _count_blocks([dek] + [s.body for s in sections])
    return ParsedArticle(
        title=title,
        dek=dek,
        sections=sections,
        dropped_lines=[],
        paragraphs=paragraphs,
        list_items=list_items,
    )


def _needs_anchors(article: ParsedArticle) -> bool:
    """Whether the anchored heading form is needed for a faithful round trip."""
    for section in article.sections:
        if section.anchor or _ANCHOR_SUFFIX_RE.match(section.title):
            return True
    texts = [article.dek] + [s.body for s in article.sections]
    return any(_heading_lines(t.split("\n")) for t in texts)


def article_to_markdown(article: ParsedArticle) -> str:
    """Write an article in the Markdown format read by :func:`parse_markdown`.

    Titles are written as they are (they are plain strings, not Markdown);
    dek and bodies are written verbatim apart from leading/trailing blank lines.
    """
    if not article.title.strip() or "\n" in article.title:
        raise ArticleFormatError("The article title must be a single non-empty line.")
    anchored = _needs_anchors(article)
    parts = [f"# {article.title.strip()}"]
    dek = _trim_text(article.dek)
    if dek:
        parts.append(dek)
    for section in article.sections:
        if section.level not in (2, 3):
            raise ArticleFormatError(
                f"Section {section.title!r} has level {section.level}; only 2 and 3 are supported."
            )
        if "\n" in section.title:
            raise ArticleFormatError(f"Section title {section.title!r} spans several lines.")
        if not _ANCHOR_OK_RE.match(section.anchor):
            raise ArticleFormatError(
                f"Anchor {section.anchor!r} of section {section.title!r} contains spaces or braces."
            )
        heading = "#" * section.level
        if section.title:
            heading += " " + section.title
        if anchored:
            heading += " {#" + section.anchor + "}"
        body = _trim_text(section.body)
        head_lines = [heading]
        first_body_line = body.split("\n", 1)[0]
        if section.topics or _TOPICS_RE.match(first_body_line):
            head_lines.append(f"<!-- topics: {', '.join(section.topics)} -->")
        parts.append("\n".join(head_lines))
        if body:
            parts.append(body)
    return "\n\n".join(parts) + "\n"
