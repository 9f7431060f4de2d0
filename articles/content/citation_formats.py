"""Citations out: a reference written as BibTeX, RIS or CSL-JSON, the formats reference managers import.

Pure formatting: no database, no models. A :class:`Reference` carries what a source (or a page of
the site, cited as a web page) says about itself; ``articles.content.citation_parsing`` reads the
same three formats back into references, and the kind mappings below serve both directions.

Choices worth knowing:

* BibTeX is written for biblatex (``@online``, ``@dataset``, ``date``, ``urldate``) with the classic
  ``year`` and ``month`` beside the date, so plain BibTeX styles still find them. Text fields are
  escaped (``& % $ # _ { } ~ ^ \\``) and titles double-braced so styles keep their capitals; URLs
  and DOIs are verbatim fields and only lose the braces and backslashes that would break them.
* A news article is biblatex's ``@article`` with ``entrysubtype = {newspaper}``; a UN document is a
  ``@techreport`` of ``type = {UN document}`` numbered with its symbol.
* The source's one identifier goes where each format expects it: a DOI as ``doi``/``DO``/``DOI``,
  an ISBN as ``isbn``/``SN``/``ISBN``, anything else (a UN symbol, a report number) as
  ``number``/``SN``/``number``.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields

import bibtexparser
import rispy
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field

# Source kinds (articles.models.sources.SourceKind values) and each format's word for them.
BIBTEX_TYPES = {
    "book": "book",
    "journal": "article",
    "report": "techreport",
    "un_document": "techreport",
    "news": "article",
    "web": "online",
    "dataset": "dataset",
    "other": "misc",
}
RIS_TYPES = {
    "book": "BOOK",
    "journal": "JOUR",
    "report": "RPRT",
    "un_document": "GOVDOC",
    "news": "NEWS",
    "web": "ELEC",
    "dataset": "DATA",
    "other": "GEN",
}
CSL_TYPES = {
    "book": "book",
    "journal": "article-journal",
    "report": "report",
    "un_document": "report",
    "news": "article-newspaper",
    "web": "webpage",
    "dataset": "dataset",
    "other": "document",
}
UN_DOCUMENT = "UN document"
SITE_NAME = "Mali History"

MEDIA_TYPES = {
    "bib": "application/x-bibtex; charset=utf-8",
    "ris": "application/x-research-info-systems; charset=utf-8",
    "json": "application/vnd.citationstyles.csl+json; charset=utf-8",
}
FORMAT_NAMES = {"bib": "BibTeX", "ris": "RIS", "json": "CSL-JSON"}

DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
ISBN = re.compile(r"^(?:ISBN(?:-1[03])?:?\s*)?((?:97[89][- ]?)?(?:\d[- ]?){9}[\dXx])$", re.IGNORECASE)


@dataclass
class Reference:
    """What a citation says about a work, in the site's own terms (a Source's fields)."""

    key: str
    title: str
    kind: str = "web"
    authors: list[str] = field(default_factory=list)
    publisher: str = ""
    container_title: str = ""
    date_year: int | None = None
    date_month: int | None = None
    date_day: int | None = None
    url: str = ""
    accessed_on: datetime.date | None = None
    identifier: str = ""
    version: str = ""  # a page of this site cited at one version

    @property
    def date_parts(self) -> list[int]:
        parts = []
        for value in (self.date_year, self.date_month, self.date_day):
            if value is None:
                break
            parts.append(value)
        return parts

    @property
    def doi(self) -> str:
        match = DOI.match(self.identifier.strip())
        return match.group(1) if match else ""

    @property
    def isbn(self) -> str:
        match = ISBN.match(self.identifier.strip())
        return match.group(1) if match else ""


#: The fields of a Source a citation file carries, by the Source's own names.
SOURCE_FIELDS = tuple(f.name for f in fields(Reference) if f.name != "version")


def iso_date(parts: list[int]) -> str:
    return "-".join(f"{p:04d}" if i == 0 else f"{p:02d}" for i, p in enumerate(parts))


# --- BibTeX ---------------------------------------------------------------------------------------

_BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_BIBTEX_SPECIAL_RE = re.compile(r"[\\{}&%$#_~^]")
_LIGATURE_RE = re.compile(r"([-`'])(?=\1)")


def bibtex_escape(text: str) -> str:
    """Text as a BibTeX field value: every character that means something to TeX made literal."""
    escaped = _BIBTEX_SPECIAL_RE.sub(lambda m: _BIBTEX_SPECIAL[m.group()], text)
    # "--" is an en dash to TeX and "``" an opening quote: an empty group keeps the characters as typed.
    return _LIGATURE_RE.sub(r"\1{}", escaped)


def bibtex_verbatim(text: str) -> str:
    """A URL or DOI: verbatim in biblatex, but unbalanced braces or a backslash would still break the file."""
    return text.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


def _bibtex_name(name: str) -> str:
    """ "Jean-Hervé Jézéquel" → "Jézéquel, Jean-Hervé": the form no BibTeX name parser misreads."""
    parts = name.strip().rsplit(" ", 1)
    if len(parts) == 2:
        return f"{bibtex_escape(parts[1])}, {bibtex_escape(parts[0])}"
    return "{" + bibtex_escape(name.strip()) + "}"


# Where "published in" goes: a journal or newspaper, the website of a page, else the larger work.
CONTAINER_FIELDS = {"journal": "journal", "news": "journal", "web": "howpublished", "other": "howpublished"}


def _bibtex_fields(ref: Reference) -> list[tuple[str, str]]:
    fields = []
    if ref.authors:
        fields.append(("author", " and ".join(_bibtex_name(a) for a in ref.authors)))
    fields.append(("title", "{" + bibtex_escape(ref.title) + "}"))
    if ref.container_title:
        fields.append((CONTAINER_FIELDS.get(ref.kind, "booktitle"), bibtex_escape(ref.container_title)))
    if ref.kind == "news":
        fields.append(("entrysubtype", "newspaper"))
    if ref.publisher:
        name = "institution" if BIBTEX_TYPES[ref.kind] == "techreport" else "publisher"
        if ref.kind in ("web", "other"):
            name = "organization"
        fields.append((name, bibtex_escape(ref.publisher)))
    if ref.kind == "un_document":
        fields.append(("type", UN_DOCUMENT))
    if ref.version:
        fields.append(("version", bibtex_escape(ref.version)))
    parts = ref.date_parts
    if parts:
        fields.append(("date", iso_date(parts)))
        fields.append(("year", str(parts[0])))
        if len(parts) > 1:
            fields.append(("month", str(parts[1])))
    if ref.doi:
        fields.append(("doi", bibtex_verbatim(ref.doi)))
    elif ref.isbn:
        fields.append(("isbn", bibtex_escape(ref.isbn)))
    elif ref.identifier:
        fields.append(("number", bibtex_escape(ref.identifier)))
    if ref.url:
        fields.append(("url", bibtex_verbatim(ref.url)))
    if ref.accessed_on:
        fields.append(("urldate", ref.accessed_on.isoformat()))
    return fields


def to_bibtex(refs: Iterable[Reference]) -> str:
    library = Library(
        [
            Entry(BIBTEX_TYPES.get(ref.kind, "misc"), ref.key, [Field(k, v) for k, v in _bibtex_fields(ref)])
            for ref in refs
        ]
    )
    return bibtexparser.write_string(library)


# --- RIS ------------------------------------------------------------------------------------------


def _ris_date(parts: list[int]) -> str:
    """RIS dates are ``YYYY/MM/DD`` with empty parts left blank: ``2014/06/``."""
    padded = [f"{p:04d}" if i == 0 else f"{p:02d}" for i, p in enumerate(parts)] + [""] * (3 - len(parts))
    return "/".join(padded)


def _ris_entry(ref: Reference) -> dict:
    entry = {"type_of_reference": RIS_TYPES.get(ref.kind, "GEN"), "id": ref.key, "title": ref.title}
    if ref.authors:
        entry["authors"] = [_ris_name(a) for a in ref.authors]
    if ref.container_title:
        entry["secondary_title"] = ref.container_title
    if ref.publisher:
        entry["publisher"] = ref.publisher
    parts = ref.date_parts
    if parts:
        entry["year"] = str(parts[0])
        entry["date"] = _ris_date(parts)
    if ref.version:
        entry["edition"] = ref.version
    if ref.doi:
        entry["doi"] = ref.doi
    elif ref.identifier:
        entry["issn"] = ref.isbn or ref.identifier
    if ref.url:
        entry["urls"] = [ref.url]
    if ref.accessed_on:
        entry["access_date"] = ref.accessed_on.strftime("%Y/%m/%d")
    return entry


def _ris_name(name: str) -> str:
    parts = name.strip().rsplit(" ", 1)
    return f"{parts[1]}, {parts[0]}" if len(parts) == 2 else name.strip()


def to_ris(refs: Iterable[Reference]) -> str:
    return rispy.dumps([_ris_entry(ref) for ref in refs])


# --- CSL-JSON -------------------------------------------------------------------------------------


def _csl_name(name: str) -> dict:
    parts = name.strip().rsplit(" ", 1)
    return {"family": parts[1], "given": parts[0]} if len(parts) == 2 else {"literal": name.strip()}


def csl_item(ref: Reference) -> dict:
    item: dict = {"id": ref.key, "type": CSL_TYPES.get(ref.kind, "document"), "title": ref.title}
    if ref.authors:
        item["author"] = [_csl_name(a) for a in ref.authors]
    if ref.container_title:
        item["container-title"] = ref.container_title
    if ref.publisher:
        item["publisher"] = ref.publisher
    if ref.kind == "un_document":
        item["genre"] = UN_DOCUMENT
    if ref.version:
        item["version"] = ref.version
    if ref.date_parts:
        item["issued"] = {"date-parts": [ref.date_parts]}
    if ref.doi:
        item["DOI"] = ref.doi
    elif ref.isbn:
        item["ISBN"] = ref.isbn
    elif ref.identifier:
        item["number"] = ref.identifier
    if ref.url:
        item["URL"] = ref.url
    if ref.accessed_on:
        a = ref.accessed_on
        item["accessed"] = {"date-parts": [[a.year, a.month, a.day]]}
    return item


def to_csl_json(refs: Iterable[Reference]) -> str:
    """Always a list, even of one: what Zotero, Pandoc and citeproc read."""
    return json.dumps([csl_item(ref) for ref in refs], ensure_ascii=False, indent=2) + "\n"


WRITERS = {"bib": to_bibtex, "ris": to_ris, "json": to_csl_json}


def write(fmt: str, refs: Iterable[Reference]) -> str:
    return WRITERS[fmt](list(refs))
