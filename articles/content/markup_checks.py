"""Markup the site's Markdown would not show as written: raw HTML and links to scripts.

The renderer is safe whatever it is given: raw HTML comes out as visible text and a
``javascript:`` link as plain text (``articles.content.markup``). A person sees that in the preview;
a program sending text through the API does not, so the API refuses such text and says what to
change rather than publishing "<script>" as words on a page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

# The schemes a link or image may use; an address without one is relative to the site.
ALLOWED_SCHEMES = {"http", "https", "mailto"}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_CONTROL = re.compile(r"[\x00-\x20]")


def _permissive_parser() -> MarkdownIt:
    """The site's Markdown grammar, but keeping raw HTML and every link as tokens, to find them."""
    md = MarkdownIt("commonmark", {"html": True})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.validateLink = lambda url: True
    return md


_PARSER = _permissive_parser()


def _walk(tokens: Sequence[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def _scheme(address: str) -> str:
    match = _SCHEME.match(_CONTROL.sub("", address))
    return match.group(1).lower() if match else ""


def markup_problems(text: str) -> list[str]:
    """What in ``text`` would not be shown as written: each raw HTML fragment, each link to a disallowed scheme."""
    problems = []
    for token in _walk(_PARSER.parse(text or "")):
        if token.type in ("html_block", "html_inline"):
            fragment = token.content.strip()
            shown = fragment if len(fragment) <= 60 else fragment[:57] + "…"
            problems.append(f"html:{shown}")
        elif token.type in ("link_open", "image"):
            address = str(token.attrGet("href") or token.attrGet("src") or "")
            scheme = _scheme(address)
            if scheme and scheme not in ALLOWED_SCHEMES:
                problems.append(f"scheme:{scheme}")
    problems = list(dict.fromkeys(problems))
    opening = [p for p in problems if p.startswith("html:") and not p.startswith("html:</")]
    # "<b>…</b>" is one mistake: name the opening tag, not its closing one too.
    return [p for p in problems if not (opening and p.startswith("html:</"))]
