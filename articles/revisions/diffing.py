"""Field-by-field, word-level comparison of two revisions' content, for the review pages."""

from __future__ import annotations

import difflib
import html
import itertools
import re
from dataclasses import dataclass

from django.utils.html import escape, format_html, strip_tags
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from articles.content import languages
from articles.models import ArticleVersion, ModeratedContent
from articles.publishing import fragments

_TOKEN = re.compile(r"\s+|[^\s]+")


def word_diff_html(old: str, new: str) -> str:
    """``old`` → ``new`` as escaped HTML with <del>/<ins> around changed words.

    Whitespace (including newlines) is kept so long Markdown stays readable. Screen readers do
    not announce <ins>/<del>, so each change is framed by hidden words in the interface language
    (“[added: … ]”), marked as interface where the text around them is content.
    """
    old_tokens = _TOKEN.findall(old or "")
    new_tokens = _TOKEN.findall(new or "")
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    interface = languages.lang_attributes()[1]
    hidden = '<span class="visually-hidden"{}>{}</span>'
    end = format_html(hidden, interface, "] ")
    removed = format_html(hidden, interface, " %s " % _("[removed:"))
    added = format_html(hidden, interface, " %s " % _("[added:"))
    out = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(escape("".join(old_tokens[a1:a2])))
            continue
        if op in ("delete", "replace"):
            out.append(format_html("{}<del>{}</del>{}", removed, "".join(old_tokens[a1:a2]), end))
        if op in ("insert", "replace"):
            out.append(format_html("{}<ins>{}</ins>{}", added, "".join(new_tokens[b1:b2]), end))
    return mark_safe("".join(str(part) for part in out))


# Sanitised HTML as tags, runs of whitespace and words (character references stay inside their word).
# The sanitiser writes every attribute in double quotes; a ">" inside one does not end the tag.
_HTML_TOKEN = re.compile(r'<(?:[^>"]|"[^"]*")*>|\s+|[^<\s]+')
# Tags that show something without words: compared like words, so an added image is marked too.
_SHOWN_TAG = re.compile(r"<img\b", re.I)
_ID_ATTRIBUTE = re.compile(r'\s(?:id|href)="[^"]*"')


def _diff_key(token: str) -> str | None:
    """What is compared of a token: words and images; None for other tags and whitespace."""
    if token.startswith("<"):
        # Note and footnote ids differ between the two sides by their prefix, not by content.
        return _ID_ATTRIBUTE.sub("", token) if _SHOWN_TAG.match(token) else None
    return None if token.isspace() else token


def _marked(tokens: list[str], changed: set[int], tag: str, label: str) -> str:
    """``tokens`` joined, each run of changed words inside one text stretch wrapped in ``<tag>``.

    A run closes before any tag, so the marks never cross the rendered HTML's own elements.
    """
    out, open_run, spaces = [], False, ""
    for index, token in enumerate(tokens):
        if open_run and index not in changed and token.isspace():
            spaces += token  # inside the mark only if another changed word follows
            continue
        if index in changed:  # a word, or an image (a void element: it may sit inside the mark)
            if not open_run:
                out.append(f'<{tag} class="rendered-change"><span class="mh-sr-only">{label} </span>')
                open_run = True
        elif open_run:
            out.append(f"</{tag}>")
            open_run = False
        out.append(spaces + token)
        spaces = ""
    if open_run:
        out.append(f"</{tag}>")
    return "".join(out) + spaces


def mark_rendered_changes(old_html: str, new_html: str) -> tuple[str, str]:
    """Two renderings of sanitised HTML with the words that differ marked: <del> in the old, <ins> in the new.

    Words are compared with difflib, as in the source diff; tags are kept as they are, and the
    marks carry a label for screen readers in the interface language.
    """
    old_tokens, new_tokens = _HTML_TOKEN.findall(old_html or ""), _HTML_TOKEN.findall(new_html or "")
    old_keyed = [(i, key) for i, token in enumerate(old_tokens) if (key := _diff_key(token)) is not None]
    new_keyed = [(i, key) for i, token in enumerate(new_tokens) if (key := _diff_key(token)) is not None]
    matcher = difflib.SequenceMatcher(a=[k for _, k in old_keyed], b=[k for _, k in new_keyed], autojunk=False)
    removed, added = set(), set()
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op in ("delete", "replace"):
            removed.update(i for i, _ in old_keyed[a1:a2])
        if op in ("insert", "replace"):
            added.update(i for i, _ in new_keyed[b1:b2])
    return (
        mark_safe(_marked(old_tokens, removed, "del", escape(_("removed:")))),
        mark_safe(_marked(new_tokens, added, "ins", escape(_("added:")))),
    )


def change_size(old: str, new: str) -> tuple[int, int]:
    """(words added, words removed), for the queue's "size of change" column."""
    old_words = (old or "").split()
    new_words = (new or "").split()
    added = removed = 0
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            removed += a2 - a1
        if op in ("insert", "replace"):
            added += b2 - b1
    return added, removed


MARKDOWN_FIELDS = {"body", "dek", "text"}  # "text": timeline events


@dataclass
class FieldChange:
    name: str
    label: str
    old: str
    new: str
    diff_html: str
    old_html: str = ""
    new_html: str = ""

    @property
    def is_markdown(self) -> bool:
        return self.name in MARKDOWN_FIELDS


def display_value(model: type[ModeratedContent], name: str, value: object) -> str:
    field = model._meta.get_field(name)
    if value in (None, "", []):
        return ""
    if field.many_to_many:
        names = dict(
            field.related_model._default_manager.filter(pk__in=value).values_list(
                "pk", "name" if hasattr(field.related_model, "name") else "pk"
            )
        )
        return ", ".join(str(names.get(pk, pk)) for pk in value)
    if field.is_relation:
        target = field.related_model._default_manager.filter(pk=value).first()
        return str(target) if target else str(value)
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    return str(value)


_preview_numbers = itertools.count(1)


def compare(model: type[ModeratedContent], old: dict | None, new: dict | None) -> list[FieldChange]:
    """The fields that differ between two snapshots of ``model``."""
    old = old or {}
    new = new or {}
    changes = []
    for name in model.REVISION_FIELDS:
        before, after = old.get(name), new.get(name)
        if before == after or (before in (None, "", []) and after in (None, "", [])):
            continue
        label = str(model._meta.get_field(name).verbose_name).capitalize()
        old_text, new_text = display_value(model, name, before), display_value(model, name, after)
        change = FieldChange(name, label, old_text, new_text, word_diff_html(old_text, new_text))
        if name in MARKDOWN_FIELDS:
            # A review page shows several of these side by side: each gets its own note ids.
            n = next(_preview_numbers)
            change.old_html, change.new_html = mark_rendered_changes(
                fragments.render_standalone(old_text, id_prefix=f"p{n}a-"),
                fragments.render_standalone(new_text, id_prefix=f"p{n}b-"),
            )
        changes.append(change)
    return changes


# --- Published versions of an article (the public compare page) ------------------------------


@dataclass
class SectionComparison:
    """One section across two versions, matched by anchor."""

    anchor: str
    status: str  # "added", "removed", "changed" or "unchanged"
    title: str
    title_html: str
    body_html: str = ""
    topics_html: str = ""
    level_note: str = ""


@dataclass
class VersionComparison:
    fields: list[FieldChange]  # the article's own parts: title, introduction, lead image, bibliography
    sections: list[SectionComparison]

    @property
    def changed_sections(self) -> list[SectionComparison]:
        return [s for s in self.sections if s.status != "unchanged"]

    @property
    def unchanged_sections(self) -> list[SectionComparison]:
        return [s for s in self.sections if s.status == "unchanged"]

    @property
    def has_changes(self) -> bool:
        return bool(self.fields or self.changed_sections)


_BIBLIOGRAPHY_ENTRY = re.compile(r'<span class="source-citation">(.*?)</span>', re.S)


def _bibliography_text(entries_html: str) -> str:
    """One line per entry, as text: the citations of templates/includes/source_entry.html.

    Plain text, character references decoded: the diff escapes it once for the page.
    """
    entries = _BIBLIOGRAPHY_ENTRY.findall(entries_html or "") or [entries_html or ""]
    return "\n".join(" ".join(html.unescape(strip_tags(entry)).split()) for entry in entries).strip()


def _figure_text(figure: dict | None) -> str:
    # Compared as text and shown marked as content (in the content language), so not translated.
    if not figure:
        return ""
    lines = [
        f"{label}: {figure.get(key)}"
        for key, label in (
            ("alt_text", "Alt text"),
            ("caption", "Caption"),
            ("credit", "Credit"),
            ("licence", "Licence"),
        )
        if figure.get(key)
    ]
    return "\n".join([f"Image: {figure.get('image', '').rsplit('/', 1)[-1]}", *lines])


def _topics_text(section: dict) -> str:
    return ", ".join(topic["name"] for topic in section.get("topics", ()))


def _field(name: str, label: str, old: str, new: str) -> FieldChange | None:
    if old == new:
        return None
    return FieldChange(name, label, old, new, word_diff_html(old, new))


def _compare_section(old: dict | None, new: dict | None) -> SectionComparison:
    if old is None or new is None:
        present = new or old
        status = "added" if old is None else "removed"
        text = present.get("body", "")
        wrap = (lambda t: word_diff_html("", t)) if status == "added" else (lambda t: word_diff_html(t, ""))
        return SectionComparison(
            anchor=present["anchor"],
            status=status,
            title=present["title"],
            title_html=wrap(present["title"]),
            body_html=wrap(text),
            topics_html=wrap(_topics_text(present)),
        )
    changed = any(old.get(key) != new.get(key) for key in ("title", "body", "level")) or (
        _topics_text(old) != _topics_text(new)
    )
    level_note = ""
    if old.get("level") != new.get("level"):
        level_note = _("Now a subsection.") if new.get("level") == 3 else _("Now a main section.")
    return SectionComparison(
        anchor=new["anchor"],
        status="changed" if changed else "unchanged",
        title=new["title"],
        title_html=word_diff_html(old["title"], new["title"]),
        body_html=word_diff_html(old.get("body", ""), new.get("body", ""))
        if old.get("body") != new.get("body")
        else "",
        topics_html=word_diff_html(_topics_text(old), _topics_text(new))
        if _topics_text(old) != _topics_text(new)
        else "",
        level_note=level_note,
    )


def compare_versions(old: ArticleVersion, new: ArticleVersion) -> VersionComparison:
    """Two ArticleVersions, ``old`` → ``new``: the article's parts, then each section by anchor.

    Sections are listed in the new version's order; a removed section follows the section it
    followed before. Bodies are compared as Markdown, the way editors wrote them.
    """
    fields = [
        _field("title", _("Title"), old.title, new.title),
        _field("dek", _("Introduction"), old.dek, new.dek),
        _field("lead_figure", _("Lead image"), _figure_text(old.lead_figure), _figure_text(new.lead_figure)),
        _field(
            "bibliography",
            _("Bibliography"),
            _bibliography_text(old.bibliography_html),
            _bibliography_text(new.bibliography_html),
        ),
    ]
    old_by_anchor = {s["anchor"]: s for s in old.sections}
    new_by_anchor = {s["anchor"]: s for s in new.sections}
    # Moving a section changes no text, so say so on its own.
    old_order = [s["title"] for s in old.sections if s["anchor"] in new_by_anchor]
    new_order = [s["title"] for s in new.sections if s["anchor"] in old_by_anchor]
    if [s["anchor"] for s in old.sections if s["anchor"] in new_by_anchor] != [
        s["anchor"] for s in new.sections if s["anchor"] in old_by_anchor
    ]:
        fields.append(_field("order", _("Order of sections"), "\n".join(old_order), "\n".join(new_order)))
    # Removed sections, grouped under the nearest earlier section that still exists (None: the top).
    removed_after: dict[str | None, list[dict]] = {}
    previous = None
    for section in old.sections:
        if section["anchor"] in new_by_anchor:
            previous = section["anchor"]
        else:
            removed_after.setdefault(previous, []).append(section)
    sections = [_compare_section(s, None) for s in removed_after.get(None, [])]
    for section in new.sections:
        sections.append(_compare_section(old_by_anchor.get(section["anchor"]), section))
        sections.extend(_compare_section(s, None) for s in removed_after.get(section["anchor"], []))
    return VersionComparison(fields=[f for f in fields if f is not None], sections=sections)
