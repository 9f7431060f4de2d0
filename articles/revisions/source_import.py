"""Import a reference manager's file as source proposals, skipping what the site already has.

``import_sources`` reads a BibTeX, RIS or CSL-JSON file (articles.content.citation_parsing),
sets aside every entry that duplicates an existing source or an earlier entry of the same file
(same DOI, ISBN, URL or normalised title), and proposes each remaining one as a new source
through ``moderation.propose``, the same path the admin's add form takes: a draft row, then a
"create" proposal that moderators review. One transaction: a file with any unreadable or invalid
entry writes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from articles.content.citation_formats import DOI, ISBN, Reference
from articles.content.citation_parsing import CitationFileError, parse
from articles.models import PublicationState, Revision, RevisionAction, Source
from articles.revisions import moderation
from articles.revisions.permissions import can_propose

MAX_FILE_SIZE = 1024 * 1024
# What a duplicate was recognised by, as the import page says it.
MATCHED_BY = {"DOI": "DOI", "ISBN": "ISBN", "URL": "URL", "title": gettext_lazy("title")}
SOURCE_KINDS = {"book", "journal", "report", "un_document", "news", "web", "dataset", "other"}


@dataclass
class Duplicate:
    reference: Reference
    of: str  # the existing source's key, or the earlier entry's
    by: str  # what matched: "DOI", "ISBN", "URL" or "title"
    in_file: bool = False


@dataclass
class ImportResult:
    proposed: list[Revision] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)


# --- What makes two sources the same ------------------------------------------------------------


def normalised_title(title: str) -> str:
    """Case, accents, punctuation and spacing aside: "Mali: la crise" and "MALI — La Crise" match."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def normalised_url(url: str) -> str:
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}" + (f"?{parts.query}" if parts.query else "") if host else ""


def identity_keys(*, identifier: str, url: str, title: str) -> list[tuple[str, str]]:
    """What a source is recognised by, strongest first."""
    keys = []
    identifier = identifier.strip()
    if doi := DOI.match(identifier):
        keys.append(("DOI", doi.group(1).casefold()))
    elif isbn := ISBN.match(identifier):
        keys.append(("ISBN", _isbn13(isbn.group(1))))
    if url and (normal := normalised_url(url)):
        keys.append(("URL", normal))
    if title and (normal := normalised_title(title)):
        keys.append(("title", normal))
    return keys


def _isbn13(isbn: str) -> str:
    """ISBN-10 and ISBN-13 of one book compare equal."""
    digits = re.sub(r"[^0-9Xx]", "", isbn).upper()
    if len(digits) == 10:
        core = "978" + digits[:9]
        check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(core)) % 10) % 10
        digits = core + str(check)
    return digits


def _known_sources(wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The source rows, drafts included (a pending proposal of the same source is a duplicate too),
    that share an identity in ``wanted``: one streamed pass over four short columns, keeping only
    the matches, so memory follows the file, not the site."""
    known = {}
    rows = Source.objects.values_list("key", "identifier", "url", "title").iterator(chunk_size=2000)
    for key, identifier, url, title in rows:
        for identity in identity_keys(identifier=identifier, url=url, title=title):
            if identity in wanted:
                known.setdefault(identity, key)
    return known


class _TakenKeys:
    """Source keys in use: by a row (asked for per candidate key) or by this file's new sources."""

    def __init__(self) -> None:
        self.added: set[str] = set()

    def __contains__(self, key: str) -> bool:
        return key in self.added or Source.objects.filter(key=key).exists()

    def add(self, key: str) -> None:
        self.added.add(key)


# --- Keys -----------------------------------------------------------------------------------------


def _base_key(ref: Reference) -> str:
    """Author (or publisher, or title) and year, slug-like: "jezequel-2019", "united-nations-2014"."""
    who = ref.authors[0].rsplit(" ", 1)[-1] if ref.authors else (ref.publisher or " ".join(ref.title.split()[:3]))
    base = slugify(unicodedata.normalize("NFKD", who).encode("ascii", "ignore").decode())[:60].strip("-") or "source"
    return f"{base}-{ref.date_year}" if ref.date_year else base


def _choose_key(ref: Reference, taken: _TakenKeys) -> str:
    own = slugify(ref.key)[:100] if ref.key else ""
    if own and own not in taken:
        return own
    base = _base_key(ref)
    key, suffix = base, ord("a")
    while key in taken:
        key = f"{base}{chr(suffix)}" if suffix <= ord("z") else f"{base}-{suffix - ord('z')}"
        suffix += 1
    return key


# --- The service ----------------------------------------------------------------------------------


def read_file(name: str, content: bytes) -> list[Reference]:
    """The file's references, or CitationFileError naming what is wrong."""
    if len(content) > MAX_FILE_SIZE:
        raise CitationFileError([_("The file is larger than 1 MB.")])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CitationFileError([_("The file is not UTF-8 text.")]) from None
    return parse(name, text)


def source_fields(ref: Reference, key: str) -> dict:
    return {
        "key": key,
        "kind": ref.kind if ref.kind in SOURCE_KINDS else "other",
        "title": ref.title[:500],
        "authors": list(ref.authors),
        "publisher": ref.publisher[:300],
        "container_title": ref.container_title[:300],
        "date_year": ref.date_year,
        "date_month": ref.date_month,
        "date_day": ref.date_day,
        "url": ref.url[:500],
        "accessed_on": ref.accessed_on,
        "identifier": ref.identifier[:200],
    }


@transaction.atomic
def import_sources(*, author: User, references: list[Reference], summary: str) -> ImportResult:
    """Propose each new reference as a source; duplicates are returned, not proposed.

    Raises CitationFileError listing every entry the site would refuse (a bad URL, a date that does
    not exist...); the transaction then rolls back and nothing is written.
    """
    if not (can_propose(author) and author.has_perm("articles.add_source")):
        raise PermissionDenied(_("You may not propose sources."))
    result = ImportResult()
    wanted = {
        identity
        for ref in references
        for identity in identity_keys(identifier=ref.identifier, url=ref.url, title=ref.title)
    }
    known = _known_sources(wanted)
    in_file: dict[tuple[str, str], str] = {}
    taken = _TakenKeys()
    problems = []
    for ref in references:
        identities = identity_keys(identifier=ref.identifier, url=ref.url, title=ref.title)
        match = next(((i, known[i]) for i in identities if i in known), None)
        earlier = next(((i, in_file[i]) for i in identities if i in in_file), None)
        if match or earlier:
            (by, _value), of = match or earlier
            result.duplicates.append(Duplicate(reference=ref, of=of, by=MATCHED_BY[by], in_file=match is None))
            continue
        key = _choose_key(ref, taken)
        taken.add(key)
        for identity in identities:
            in_file.setdefault(identity, key)
        source = Source(**source_fields(ref, key), state=PublicationState.DRAFT)
        try:
            source.full_clean()
        except ValidationError as error:
            details = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items())
            problems.append(_("entry “%(key)s”: %(details)s") % {"key": ref.key or key, "details": details})
            continue
        source.save()
        result.proposed.append(
            moderation.propose(
                obj=source, author=author, summary=summary, data=source.snapshot(), action=RevisionAction.CREATE
            )
        )
    if problems:
        raise CitationFileError(problems)
    return result
