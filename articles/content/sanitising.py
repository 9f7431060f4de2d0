"""The one sanitiser of rendered HTML (nh3): what tags, attributes and classes readers' pages may carry."""

from __future__ import annotations

import re

import nh3

# ---------------------------------------------------------------------------
# Sanitiser
# ---------------------------------------------------------------------------

_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "i", "b", "s", "del",
    "code", "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead",
    "tbody", "tr", "th", "td", "hr", "br", "sup", "sub", "section", "span", "cite",
    "small", "div",
}  # fmt: skip

_ATTRIBUTES = {
    "a": {"href", "title", "id", "class", "aria-label"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "ol": {"start", "class"},
    "ul": {"class"},
    "li": {"id", "class"},
    "sup": {"id", "class"},
    "th": {"class"},
    "td": {"class"},
    "section": {"class"},
    "hr": {"class"},
    "code": {"class"},
    "span": {"class"},
    "div": {"class", "role", "tabindex", "aria-label"},
}

#: Class values the renderer produces, per tag. Anything else is stripped.
#: Other code may add to these sets at import time (the filter reads them live).
ALLOWED_CLASSES: dict[str, set[str]] = {
    "sup": {"citation", "footnote-ref"},
    "a": {"citation-ref", "footnote-backref", "note-backref", "note-source-link"},
    "th": {"align-left", "align-center", "align-right"},
    "td": {"align-left", "align-center", "align-right"},
    "section": {"footnotes"},
    "ol": {"footnotes-list", "notes"},
    "ul": set(),
    "li": {"footnote-item"},
    "hr": {"footnotes-sep"},
    "span": {"note-unknown", "note-locator", "note-key"},
    "code": set(),
    "div": {"table-scroll"},
}
_CODE_LANG_CLASS = re.compile(r"language-[A-Za-z0-9_+#.\-]{1,40}")
_ID_RE = re.compile(r"[A-Za-z][A-Za-z0-9_\-:.]{0,100}")
_DIGITS = re.compile(r"[0-9]{1,6}")
_SCHEME_RE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*):")
_IMG_SCHEMES = {"http", "https"}


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if attr == "class":
        allowed = ALLOWED_CLASSES.get(tag, set())
        kept = [c for c in value.split() if c in allowed or (tag == "code" and _CODE_LANG_CLASS.fullmatch(c))]
        return " ".join(kept) or None
    if attr == "id":
        return value if _ID_RE.fullmatch(value) else None
    if attr == "role":
        return value if value == "region" else None
    if attr == "tabindex":
        return "0" if value.strip() == "0" else None
    if attr in ("start", "width", "height"):
        return value if _DIGITS.fullmatch(value.strip()) else None
    if tag == "img" and attr == "src":
        # only http(s) or relative; nh3 still applies its own scheme check after this
        cleaned = "".join(ch for ch in value if ch > " ")
        m = _SCHEME_RE.match(cleaned)
        if m and m.group(1).lower() not in _IMG_SCHEMES:
            return None
        return value
    if tag == "img" and attr == "loading":
        return "lazy"
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    attributes=_ATTRIBUTES,
    attribute_filter=_attribute_filter,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer",
    set_tag_attribute_values={"img": {"loading": "lazy"}},
    strip_comments=True,
)


def sanitise_html(html: str) -> str:
    """Clean HTML with the site's allow-list (the same rules everywhere)."""
    return _CLEANER.clean(html)


# ---------------------------------------------------------------------------
# Citations extraction
# ---------------------------------------------------------------------------
