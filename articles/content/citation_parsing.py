"""Citations in: BibTeX, RIS or CSL-JSON files (from Zotero, say) read into references.

Pure parsing: no database. :func:`parse` reads a whole file or raises :class:`CitationFileError`
listing every entry that could not be read and why; nothing is half-read. What each format calls
a kind comes back through the mappings of ``articles.content.citation_formats``, so an exported
file reads back as the sources it came from.
"""

from __future__ import annotations

import datetime
import json
import re

import bibtexparser
import rispy
from django.utils.translation import gettext as _
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from articles.content.citation_formats import (
    BIBTEX_TYPES,
    CSL_TYPES,
    ISBN,
    RIS_TYPES,
    UN_DOCUMENT,
    Reference,
)

# A UN document symbol: S/RES/2100 (2013), A/78/L.1, SC/11453.
UN_SYMBOL = re.compile(r"^[A-Z]{1,6}/[A-Z0-9./ ()-]+$")
MONTHS = {
    m: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}


class CitationFileError(ValueError):
    """The file cannot be imported; ``problems`` names each entry at fault and what is wrong."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def detect_format(name: str, text: str) -> str:
    """``bib``, ``ris`` or ``json``, from the file's extension, else from its first characters."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext in ("bib", "bibtex"):
        return "bib"
    if ext in ("ris", "txt") and re.search(r"^TY  - ", text, re.MULTILINE):
        return "ris"
    if ext == "ris":
        return "ris"
    if ext == "json":
        return "json"
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        return "json"
    if stripped.startswith("TY  - "):
        return "ris"
    if stripped.startswith(("@", "%")):
        return "bib"
    raise CitationFileError([_("The file is not BibTeX (.bib), RIS (.ris) or CSL-JSON (.json).")])


def parse(name: str, text: str) -> list[Reference]:
    fmt = detect_format(name, text)
    return {"bib": parse_bibtex, "ris": parse_ris, "json": parse_csl_json}[fmt](text)


# --- Shared -------------------------------------------------------------------------------------


def _date_parts(text: str) -> list[int]:
    """``2013-04-25``, ``2013/04/25``, ``2013/04/``, ``2013``: the parts given, year first."""
    match = re.match(r"^\s*(\d{4})(?:[-/](\d{1,2})?(?:[-/](\d{1,2})?)?)?", text or "")
    if not match:
        return []
    parts = []
    for group in match.groups():
        if not group:
            break
        parts.append(int(group))
    return parts


def _set_date(ref: Reference, parts: list[int], label: str) -> None:
    if not parts:
        return
    year, month, day = (parts + [None, None])[:3]
    if month is not None and not 1 <= month <= 12:
        raise ValueError(_problem(label, _("the month %(month)s does not exist") % {"month": month}))
    if day is not None:
        try:
            datetime.date(year, month, day)
        except ValueError:
            raise ValueError(_problem(label, _("%(date)s is not a date") % {"date": f"{year}-{month}-{day}"})) from None
    ref.date_year, ref.date_month, ref.date_day = year, month, day


def _accessed(text: str, label: str) -> datetime.date | None:
    parts = _date_parts(text)
    if len(parts) < 3:
        return None
    try:
        return datetime.date(*parts[:3])
    except ValueError:
        raise ValueError(_problem(label, _("the access date is not a date"))) from None


def _problem(label: str, problem: str) -> str:
    return _("%(entry)s: %(problem)s") % {"entry": label, "problem": problem}


def _entry_label(numbered: str, number: int, key) -> str:
    """ "entry 2", or "entry 2 “smith-2020”" when the entry has a key."""
    label = numbered % {"number": number}
    if isinstance(key, str | int) and str(key).strip():
        label = _("%(entry)s “%(key)s”") % {"entry": label, "key": key}
    return label


def _person(family: str, given: str) -> str:
    return f"{given} {family}".strip()


def _inverted_name(name: str) -> str:
    """ "Jézéquel, Jean-Hervé" → "Jean-Hervé Jézéquel"; "Last, Jr., First" keeps the suffix at the end."""
    parts = [p.strip() for p in name.split(",")]
    if len(parts) == 2:
        return _person(parts[0], parts[1])
    if len(parts) == 3:
        return f"{parts[2]} {parts[0]} {parts[1]}".strip()
    return name.strip()


def _identifier(ref: Reference, *, doi: str = "", isbn: str = "", number: str = "") -> None:
    ref.identifier = (doi or isbn or number or "").strip()


def _check(ref: Reference, label: str) -> Reference:
    if not ref.title.strip():
        raise ValueError(_problem(label, _("it has no title")))
    return ref


# --- BibTeX -------------------------------------------------------------------------------------


def _latex_decoder() -> LatexNodes2Text:
    """pylatexenc's decoder, reading the escapes citation_formats.bibtex_escape writes as the characters they stand for."""
    context = get_default_latex_context_db()
    context.add_context_category(
        "citations",
        prepend=True,
        macros=[MacroTextSpec("textasciicircum", "^"), MacroTextSpec("textasciitilde", "~")],
    )
    return LatexNodes2Text(latex_context=context)


_LATEX = _latex_decoder()
_BIBTEX_KINDS = {value: kind for kind, value in reversed(BIBTEX_TYPES.items())}
_BIBTEX_KINDS.update(
    {
        "inbook": "book",
        "incollection": "book",
        "report": "report",
        "electronic": "web",
        "www": "web",
        "webpage": "web",
        "misc": "other",
        "unpublished": "other",
        "manual": "report",
    }
)


def _latex_text(value: str) -> str:
    return " ".join(_LATEX.latex_to_text(value).split())


def _unverbatim(value: str) -> str:
    return value.strip().strip("{}").replace("%5C", "\\").replace("%7B", "{").replace("%7D", "}")


def parse_bibtex(text: str) -> list[Reference]:
    library = bibtexparser.parse_string(text)
    problems = []
    for block in library.failed_blocks:
        key = getattr(getattr(block, "ignore_error_block", None), "key", None) or getattr(block, "key", None)
        what = (
            _("entry “%(key)s”") % {"key": key}
            if key
            else _("the entry at line %(line)s") % {"line": block.start_line + 1}
        )
        reason = _("its key is used twice") if "Duplicate" in type(block).__name__ else _("it is not valid BibTeX")
        problems.append(_problem(what, reason))
    refs = []
    for entry in library.entries:
        label = _("entry “%(key)s”") % {"key": entry.key}
        try:
            refs.append(_bibtex_reference(entry, label))
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise CitationFileError(problems)
    if not refs:
        raise CitationFileError([_("The file holds no BibTeX entry.")])
    return refs


def _bibtex_reference(entry, label: str) -> Reference:
    fields = {f.key.lower(): f.value for f in entry.fields}

    def text(*names: str) -> str:
        for name in names:
            if fields.get(name, "").strip():
                return _latex_text(fields[name])
        return ""

    entry_type = entry.entry_type.lower()
    kind = _BIBTEX_KINDS.get(entry_type, "other")
    if entry_type == "article" and text("entrysubtype").lower() == "newspaper":
        kind = "news"
    number = text("number")
    if entry_type == "techreport" and (text("type") == UN_DOCUMENT or UN_SYMBOL.match(number)):
        kind = "un_document"
    authors = []
    if text("author"):
        for name in re.split(r"\s+and\s+", fields["author"].strip()):
            authors.append(_inverted_name(_latex_text(name)))
    ref = Reference(
        key=entry.key,
        kind=kind,
        title=text("title"),
        authors=[a for a in authors if a],
        publisher=text("publisher", "institution", "organization", "school"),
        container_title=text("journal", "journaltitle", "booktitle", "howpublished", "maintitle"),
        url=_unverbatim(fields.get("url", "")),
        accessed_on=_accessed(fields.get("urldate", ""), label),
        version=text("version"),
    )
    linked = re.fullmatch(r"\s*\\url\{(.+)\}\s*", fields.get("howpublished", ""))
    if linked:  # Zotero's howpublished = {\url{...}}: a link, not the name of a website
        ref.url = ref.url or _unverbatim(linked.group(1))
        if ref.container_title == _latex_text(fields["howpublished"]):
            ref.container_title = ""
    parts = _date_parts(fields.get("date", ""))
    if not parts and text("year"):
        parts = _date_parts(text("year"))
        month = text("month").lower()[:3]
        month_number = MONTHS.get(month) or (int(month) if month.isdigit() else None)
        if parts and month_number:
            parts.append(month_number)
            if text("day").isdigit():
                parts.append(int(text("day")))
    _set_date(ref, parts, label)
    doi = _unverbatim(fields.get("doi", ""))
    _identifier(ref, doi=doi, isbn=text("isbn"), number=number)
    return _check(ref, label)


# --- RIS ----------------------------------------------------------------------------------------

_RIS_KINDS = {value: kind for kind, value in reversed(RIS_TYPES.items())}
_RIS_KINDS.update({"WEB": "web", "BLOG": "web", "CHAP": "book", "EBOOK": "book", "MGZN": "journal", "EJOUR": "journal"})


def parse_ris(text: str) -> list[Reference]:
    try:
        entries = rispy.loads(text.replace("\r\n", "\n"), skip_unknown_tags=True)
    except (OSError, ValueError, KeyError, IndexError) as error:
        raise CitationFileError([_("The file is not valid RIS: %(error)s") % {"error": error}]) from None
    problems, refs = [], []
    for number, entry in enumerate(entries, start=1):
        label = _entry_label(_("entry %(number)s"), number, entry.get("id"))
        try:
            refs.append(_ris_reference(entry, label))
        except ValueError as error:
            problems.append(str(error))
    if not entries:
        problems.append(_("The file holds no RIS record (each starts with “TY  - ”)."))
    if problems:
        raise CitationFileError(problems)
    return refs


def _ris_reference(entry: dict, label: str) -> Reference:
    def first(*names: str) -> str:
        for name in names:
            value = entry.get(name)
            if isinstance(value, list):
                value = value[0] if value else ""
            if value and str(value).strip():
                return str(value).strip()
        return ""

    ris_type = entry.get("type_of_reference", "")
    if ris_type not in rispy.TYPE_OF_REFERENCE_MAPPING:
        raise ValueError(_problem(label, _("“%(type)s” is not an RIS type") % {"type": ris_type}))
    kind = _RIS_KINDS.get(ris_type, "other")
    authors = [_inverted_name(a) for a in entry.get("authors", []) + entry.get("first_authors", []) if a.strip()]
    ref = Reference(
        key=first("id"),
        kind=kind,
        title=first("title", "primary_title"),
        authors=authors,
        publisher=first("publisher"),
        container_title=first("secondary_title", "journal_name", "alternate_title3", "alternate_title1"),
        url=first("urls", "link_to_pdf"),
        accessed_on=_accessed(first("access_date"), label),
        version=first("edition"),
    )
    parts = _date_parts(first("date")) or _date_parts(first("year", "publication_year"))
    _set_date(ref, parts, label)
    serial = first("issn")
    isbn = serial if ISBN.match(serial) else ""
    _identifier(ref, doi=first("doi"), isbn=isbn, number="" if isbn else serial)
    return _check(ref, label)


# --- CSL-JSON -----------------------------------------------------------------------------------

_CSL_KINDS = {value: kind for kind, value in reversed(CSL_TYPES.items())}
_CSL_KINDS.update({"article-magazine": "journal", "post-weblog": "web", "post": "web", "chapter": "book"})


def parse_csl_json(text: str) -> list[Reference]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise CitationFileError(
            [_("The file is not valid JSON: %(error)s at line %(line)s.") % {"error": error.msg, "line": error.lineno}]
        ) from None
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise CitationFileError([_("A CSL-JSON file holds a list of items.")])
    problems, refs = [], []
    for number, item in enumerate(items, start=1):
        label = _entry_label(_("item %(number)s"), number, item.get("id") if isinstance(item, dict) else None)
        try:
            if not isinstance(item, dict):
                raise ValueError(_problem(label, _("it is not an object")))
            refs.append(_csl_reference(item, label))
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise CitationFileError(problems)
    return refs


def _csl_date(value, label: str) -> list[int]:
    if not value:
        return []
    if not isinstance(value, dict):
        raise ValueError(_problem(label, _("a date must be an object with date-parts")))
    if "date-parts" in value:
        try:
            return [int(p) for p in value["date-parts"][0]][:3]
        except (TypeError, ValueError, IndexError):
            raise ValueError(_problem(label, _("its date-parts are not numbers"))) from None
    return _date_parts(str(value.get("raw", "")))


def _csl_reference(item: dict, label: str) -> Reference:
    def string(name: str) -> str:
        value = item.get(name, "")
        if isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str):
            raise ValueError(_problem(label, _("“%(field)s” must be text") % {"field": name}))
        return value.strip()

    authors = []
    for person in item.get("author", []) or []:
        if not isinstance(person, dict):
            raise ValueError(_problem(label, _("an author must be an object with family and given names")))
        name = person.get("literal") or _person(person.get("family", ""), person.get("given", ""))
        if str(name).strip():
            authors.append(str(name).strip())
    kind = _CSL_KINDS.get(string("type"), "other")
    if kind == "report" and (string("genre") == UN_DOCUMENT or UN_SYMBOL.match(string("number"))):
        kind = "un_document"
    ref = Reference(
        key=string("citation-key") or string("id"),
        kind=kind,
        title=string("title"),
        authors=authors,
        publisher=string("publisher"),
        container_title=string("container-title"),
        url=string("URL"),
        version=string("version"),
    )
    _set_date(ref, _csl_date(item.get("issued"), label), label)
    accessed = _csl_date(item.get("accessed"), label)
    if len(accessed) == 3:
        try:
            ref.accessed_on = datetime.date(*accessed)
        except ValueError:
            raise ValueError(_problem(label, _("the access date is not a date"))) from None
    _identifier(ref, doi=string("DOI"), isbn=string("ISBN"), number=string("number"))
    return _check(ref, label)
