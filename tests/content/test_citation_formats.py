"""Citations written as BibTeX, RIS and CSL-JSON and read back: the same references, escaped where TeX needs it."""

import datetime
import json

import bibtexparser
import pytest
import rispy

from articles.content.citation_formats import (
    SOURCE_FIELDS,
    Reference,
    bibtex_escape,
    to_bibtex,
    to_csl_json,
    to_ris,
    write,
)
from articles.content.citation_parsing import CitationFileError, parse, parse_bibtex, parse_csl_json, parse_ris
from articles.ops import demo

FIELDS = SOURCE_FIELDS


def demo_references():
    return [Reference(**{name: source[name] for name in FIELDS if name in source}) for source in demo.SOURCES]


def tricky_references():
    return [
        Reference(
            key="jezequel-2019",
            kind="book",
            title="Mali -- 100% {sahel} & $5 #1 under_score ~tilde^caret back\\slash ``quoted'' Café",
            authors=["Jean-Hervé Jézéquel", "Plato", "Ann van der Berg"],
            publisher="Karthala & Co",
            date_year=2019,
            date_month=2,
            identifier="978-2-07-036822-8",
        ),
        Reference(
            key="smith-2020",
            kind="journal",
            title="Peacekeeping: a review",
            authors=["Ann Smith"],
            container_title="Journal of Peace Research",
            date_year=2020,
            identifier="10.1177/0022343320912345",
            url="https://example.org/a?b=1&c=%20{x}",
        ),
        Reference(key="report-1", kind="report", title="Annual report", publisher="SIPRI", identifier="R-12"),
        Reference(key="data-1", kind="dataset", title="ACLED events", publisher="ACLED", date_year=2023),
    ]


@pytest.mark.parametrize("fmt", ["bib", "ris", "json"])
def test_demo_sources_read_back_unchanged(fmt):
    refs = demo_references()
    assert refs[0].identifier == "S/RES/2100 (2013)"  # the demo has what the mapping must carry
    assert parse(f"export.{fmt}", write(fmt, refs)) == refs


@pytest.mark.parametrize("fmt", ["bib", "ris", "json"])
def test_authors_identifiers_and_special_characters_read_back_unchanged(fmt):
    refs = tricky_references()
    assert parse(f"export.{fmt}", write(fmt, refs)) == refs


def test_every_kind_keeps_its_kind_in_every_format():
    kinds = ["book", "journal", "report", "un_document", "news", "web", "dataset", "other"]
    refs = [Reference(key=f"k-{kind}", kind=kind, title=f"A {kind}", identifier="") for kind in kinds]
    for fmt in ("bib", "ris", "json"):
        assert [r.kind for r in parse(f"x.{fmt}", write(fmt, refs))] == kinds, fmt


def test_bibtex_escapes_every_character_tex_reads_as_markup():
    assert bibtex_escape("100% & $5 #1 a_b {x} ~ ^ \\") == (
        r"100\% \& \$5 \#1 a\_b \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{}"
    )
    assert bibtex_escape("1990--2000 ``x''") == "1990-{}-2000 `{}`x'{}'"


def test_bibtex_output_is_valid_and_braces_balance_whatever_the_title():
    text = to_bibtex(tricky_references())
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    assert [e.key for e in library.entries] == ["jezequel-2019", "smith-2020", "report-1", "data-1"]
    book = library.entries[0]
    assert book.entry_type == "book"
    assert book["author"] == "Jézéquel, Jean-Hervé and {Plato} and Berg, Ann van der"
    assert book["isbn"] == "978-2-07-036822-8"
    article = library.entries[1]
    assert article["doi"] == "10.1177/0022343320912345"
    assert article["url"] == "https://example.org/a?b=1&c=%20%7Bx%7D"  # verbatim, braces made harmless


def test_bibtex_mapping_of_the_demo_un_resolution():
    entry = bibtexparser.parse_string(to_bibtex(demo_references()[:1])).entries[0]
    assert entry.entry_type == "techreport"
    assert entry["institution"] == "United Nations Security Council"
    assert entry["number"] == "S/RES/2100 (2013)"
    assert entry["date"] == "2013-04-25"
    assert entry["urldate"] == demo.ACCESSED_ON.isoformat()


def test_ris_and_csl_mappings():
    ris = rispy.loads(to_ris(tricky_references()))
    assert [r["type_of_reference"] for r in ris] == ["BOOK", "JOUR", "RPRT", "DATA"]
    assert ris[0]["authors"][0] == "Jézéquel, Jean-Hervé"
    assert ris[0]["date"] == "2019/02/"
    assert ris[1]["doi"] == "10.1177/0022343320912345"
    csl = json.loads(to_csl_json(tricky_references()))
    assert csl[0]["type"] == "book" and csl[0]["ISBN"] == "978-2-07-036822-8"
    assert csl[0]["author"][0] == {"family": "Jézéquel", "given": "Jean-Hervé"}
    assert csl[1]["type"] == "article-journal" and csl[1]["container-title"] == "Journal of Peace Research"
    assert csl[0]["issued"] == {"date-parts": [[2019, 2]]}


def test_reads_zotero_style_bibtex():
    text = r"""
@article{traore_mali_2015,
    title = {Le {Mali} et la {MINUSMA}},
    author = {Traor{\'e}, Aminata and Keïta, Modibo},
    journal = {Politique africaine},
    year = {2015},
    month = jun,
    doi = {10.3917/polaf.138.0001},
}
@misc{un_site,
    title = {{MINUSMA} fact sheet},
    howpublished = {\url{https://peacekeeping.un.org/en/mission/minusma}},
    urldate = {2024-01-05},
}
"""
    first, second = parse_bibtex(text)
    assert first.title == "Le Mali et la MINUSMA"
    assert first.authors == ["Aminata Traoré", "Modibo Keïta"]
    assert (first.date_year, first.date_month, first.identifier) == (2015, 6, "10.3917/polaf.138.0001")
    assert second.url == "https://peacekeeping.un.org/en/mission/minusma"
    assert second.accessed_on == datetime.date(2024, 1, 5)


@pytest.mark.parametrize(
    "name,text,problem",
    [
        ("bad.bib", "@book{good, title={Fine}}\n@article{broken, title={unclosed\n@book{k3, title={x}}", "line 2"),
        ("bad.bib", "@book{twice, title={A}}\n@book{twice, title={B}}", "“twice”: its key is used twice"),
        ("bad.bib", "@book{untitled, year={2001}}", "entry “untitled”: it has no title"),
        ("bad.bib", "@book{feb30, title={X}, date={2001-02-30}}", "entry “feb30”: 2001-2-30 is not a date"),
        ("bad.ris", "TY  - BOOK\nTI  - Fine\nER  - \n\nTY  - BOOK\nPY  - 2001\nER  - \n", "entry 2: it has no title"),
        ("bad.ris", "TY  - NOPE\nTI  - X\nER  - \n", "“NOPE” is not an RIS type"),
        ("bad.ris", "just some text", "no RIS record"),
        ("bad.json", '[{"id": "a", "title": "A"}, {"id": "b"}]', "item 2 “b”: it has no title"),
        ("bad.json", '[{"id": "a", "title": "A",', "not valid JSON"),
        ("bad.json", '[{"id": "a", "title": ["A"]}]', "“title” must be text"),
        ("bad.json", '[{"id": "a", "title": "A", "issued": {"date-parts": [["x"]]}}]', "date-parts are not numbers"),
        ("notes.docx", "PK\x03\x04", "not BibTeX"),
    ],
)
def test_malformed_files_are_refused_naming_the_entry_and_the_problem(name, text, problem):
    with pytest.raises(CitationFileError) as caught:
        parse(name, text)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_an_empty_bibtex_file_is_refused():
    with pytest.raises(CitationFileError, match="no BibTeX entry"):
        parse_bibtex("% just a comment\n")
    with pytest.raises(CitationFileError, match="list of items"):
        parse_csl_json("[]")
    assert parse_ris("TY  - GEN\nTI  - One\nER  - \n")[0].kind == "other"
