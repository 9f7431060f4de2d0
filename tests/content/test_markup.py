"""Tests for articles.content.markup (pure Python; no database, no Django settings)."""

import re

import pytest

from articles.content import markup
from articles.content.markup import (
    CitationNotes,
    CitationRef,
    Note,
    citation_keys,
    extract_citations,
    markdownify,
    render_markdown,
    render_notes,
    sanitise_html,
)


def cite_sups(html):
    return re.findall(r'<sup class="citation">.*?</sup>', html)


def fmt(key, locator):
    return f"<cite>{key}</cite>" + (f", {locator}" if locator else "")


# --- CommonMark basics ------------------------------------------------------


def test_emphasis_and_strong():
    html = render_markdown("*a* and **b** and _c_")
    assert "<em>a</em>" in html
    assert "<strong>b</strong>" in html
    assert "<em>c</em>" in html


def test_lists_and_ordered_start():
    html = render_markdown("- one\n- two\n\n3. three\n4. four\n")
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert '<ol start="3">' in html
    assert "<li>three</li>" in html


def test_ordered_list_from_one_has_no_start():
    assert "<ol>" in render_markdown("1. a\n2. b\n")


def test_code_blocks_and_spans_escape_content():
    html = render_markdown("```python\nx = '<b>'\n```\n\n    indented <i>\n\n`<tt>`")
    assert "<pre><code class=\"language-python\">x = '&lt;b&gt;'\n</code></pre>" in html
    assert "<pre><code>indented &lt;i&gt;\n</code></pre>" in html
    assert "<code>&lt;tt&gt;</code>" in html


def test_code_language_class_is_restricted():
    html = render_markdown('```py" onclick="x\ncode\n```')
    assert "onclick" not in html
    assert "<pre><code>" in html or 'class="language-py"' in html


def test_blockquote_and_hard_break_and_hr():
    html = render_markdown("> quoted\n\nline one  \nline two\n\n---\n")
    assert "<blockquote>\n<p>quoted</p>\n</blockquote>" in html
    assert "line one<br>" in html
    assert "<hr>" in html


def test_heading_offset_and_cap():
    assert "<h3>T</h3>" in render_markdown("# T", heading_offset=2)
    assert "<h6>T</h6>" in render_markdown("#### T", heading_offset=4)
    assert "<h2>T</h2>" in render_markdown("## T")


def test_links_and_images():
    html = render_markdown('[site](https://example.org "Title") ![alt text](/m/a.png "cap")')
    assert re.search(r'<a href="https://example.org" title="Title"[^>]*>site</a>', html)
    assert '<img src="/m/a.png" alt="alt text" title="cap" loading="lazy">' in html


def test_relative_fragment_and_mailto_links_survive():
    html = render_markdown("[a](/x/) [b](#sec) [c](mailto:me@example.org)")
    assert 'href="/x/"' in html
    assert 'href="#sec"' in html
    assert 'href="mailto:me@example.org"' in html


def test_empty_input():
    assert render_markdown("") == ""


# --- GFM extras -------------------------------------------------------------


def test_table_alignment_as_classes_without_style():
    html = render_markdown("| a | b | c | d |\n|:--|:-:|--:|---|\n| 1 | 2 | 3 | 4 |\n")
    assert "<table>" in html and "<thead>" in html and "<tbody>" in html
    assert '<th class="align-left">a</th>' in html
    assert '<th class="align-center">b</th>' in html
    assert '<th class="align-right">c</th>' in html
    assert "<th>d</th>" in html
    assert '<td class="align-right">3</td>' in html
    assert "style" not in html


def test_strikethrough():
    assert "<s>gone</s>" in render_markdown("~~gone~~")


# --- Footnotes --------------------------------------------------------------


def test_footnote_ids_prefixed_and_backlinks():
    html = render_markdown("Text[^a] again[^a].\n\n[^a]: The note.", id_prefix="s1-")
    assert '<a href="#s1-fn1" id="s1-fnref1"' in html
    assert 'id="s1-fnref1-2"' in html
    assert '<li id="s1-fn1" class="footnote-item">' in html
    assert 'href="#s1-fnref1" class="footnote-backref"' in html
    assert 'href="#s1-fnref1-2" class="footnote-backref"' in html
    assert '<section class="footnotes">' in html


def test_footnotes_of_two_sections_do_not_collide():
    a = render_markdown("A[^1]\n\n[^1]: one", id_prefix="s1-")
    b = render_markdown("B[^1]\n\n[^1]: two", id_prefix="s2-")
    ids_a = set(re.findall(r'id="([^"]+)"', a))
    ids_b = set(re.findall(r'id="([^"]+)"', b))
    assert ids_a and ids_b
    assert not ids_a & ids_b
    # every in-page link target exists in its own section
    for html, ids in ((a, ids_a), (b, ids_b)):
        for target in re.findall(r'href="#([^"]+)"', html):
            assert target in ids


def test_undefined_footnote_stays_literal():
    assert "[^nope]" in render_markdown("x [^nope]")


# --- Citations --------------------------------------------------------------


def test_single_citation():
    notes = CitationNotes()
    html = render_markdown("Text [@unsc-res-2100].", notes=notes)
    assert '<sup class="citation"><a href="#note-1" id="cite-1-1" class="citation-ref" aria-label="Note 1"' in html
    assert ">1</a></sup>" in html
    assert notes.notes == [Note(1, "unsc-res-2100", "", ["cite-1-1"])]


def test_citation_with_locator():
    notes = CitationNotes()
    render_markdown("[@unsc-res-2100, para. 3]", notes=notes)
    assert [(n.key, n.locator) for n in notes.notes] == [("unsc-res-2100", "para. 3")]


def test_multi_key_citation_in_one_sup():
    notes = CitationNotes()
    html = render_markdown("[@a, p. 4; @b]", notes=notes)
    sups = cite_sups(html)
    assert len(sups) == 1
    assert 'href="#note-1" id="cite-1-1"' in sups[0]
    assert 'href="#note-2" id="cite-2-1"' in sups[0]
    assert "</a>, <a" in sups[0]
    assert [(n.key, n.locator) for n in notes.notes] == [("a", "p. 4"), ("b", "")]


def test_same_citation_twice_reuses_number():
    notes = CitationNotes()
    html = render_markdown("x [@a, p. 1] y [@a, p. 1]", notes=notes)
    assert len(notes.notes) == 1
    assert notes.notes[0].backrefs == ["cite-1-1", "cite-1-2"]
    assert 'id="cite-1-1"' in html and 'id="cite-1-2"' in html
    assert html.count('href="#note-1"') == 2


def test_different_locator_is_different_note():
    notes = CitationNotes()
    render_markdown("[@a, p. 1] [@a, p. 2] [@a]", notes=notes)
    assert [(n.number, n.locator) for n in notes.notes] == [(1, "p. 1"), (2, "p. 2"), (3, "")]


def test_numbering_continues_across_sections():
    notes = CitationNotes()
    first = render_markdown("[@a] [@b]", notes=notes, id_prefix="s1-")
    second = render_markdown("[@c] [@a]", notes=notes, id_prefix="s2-")
    assert 'href="#note-3" id="cite-3-1"' in second
    assert 'href="#note-1" id="cite-1-2"' in second
    assert 'id="cite-1-1"' in first
    assert [n.key for n in notes.notes] == ["a", "b", "c"]


def test_fresh_notes_when_none_given():
    render_markdown("[@a] [@b]")
    html = render_markdown("[@z]")
    assert 'href="#note-1" id="cite-1-1"' in html


def test_cite_method_directly():
    notes = CitationNotes()
    assert notes.cite(CitationRef("k", "")) == (1, "cite-1-1")
    assert notes.cite(CitationRef("j", "p. 2")) == (2, "cite-2-1")
    assert notes.cite(CitationRef("k", "")) == (1, "cite-1-2")


def test_citations_in_code_stay_literal():
    notes = CitationNotes()
    html = render_markdown("`[@a]`\n\n```\n[@b]\n```\n\n    [@c]\n", notes=notes)
    assert "<code>[@a]</code>" in html
    assert "[@b]" in html and "[@c]" in html
    assert "citation" not in html
    assert notes.notes == []


@pytest.mark.parametrize(
    "text",
    [
        "[@ not a key]",
        "[see @x]",
        "[@a b]",
        "[@a,]",
        "[@a;]",
        "[@-a]",
        "[@]",
        r"\[@a]",
        "[@a, @b]",
    ],
)
def test_non_pandoc_brackets_are_literal(text):
    notes = CitationNotes()
    html = render_markdown(text, notes=notes)
    assert "citation" not in html
    assert notes.notes == []
    assert "[" in html


def test_links_footnotes_emails_not_mistaken():
    notes = CitationNotes()
    html = render_markdown(
        "[text](https://x.org) [@handle](https://x.org/u) me@example.org "
        "[me@example.org] <mailto:a@b.org> [^1]\n\n[^1]: fn",
        notes=notes,
    )
    assert notes.notes == []
    assert "citation" not in html
    assert '<a href="https://x.org/u"' in html and ">@handle</a>" in html
    assert "me@example.org [me@example.org]" in html
    assert 'href="mailto:a@b.org"' in html
    assert 'class="footnote-ref"' in html


def test_citation_locator_across_soft_break():
    assert extract_citations("[@a,\npp. 3–4]") == [CitationRef("a", "pp. 3–4")]


def test_citation_inside_footnote_numbered():
    notes = CitationNotes()
    html = render_markdown("Body [@a].[^1]\n\n[^1]: See [@b].", notes=notes, id_prefix="s1-")
    assert [n.key for n in notes.notes] == ["a", "b"]
    assert 'href="#note-2" id="cite-2-1"' in html


def test_extract_citations_and_keys():
    text = "A [@x, p. 4; @y]. B [@x]. `[@code]`\n\n```\n[@fenced]\n```\n\n[@y] and [@z.1:2/3_4-5].\n"
    assert extract_citations(text) == [
        CitationRef("x", "p. 4"),
        CitationRef("y", ""),
        CitationRef("x", ""),
        CitationRef("y", ""),
        CitationRef("z.1:2/3_4-5", ""),
    ]
    assert citation_keys(text) == ["x", "y", "z.1:2/3_4-5"]
    assert extract_citations("") == []
    assert citation_keys("no citations here") == []


def test_citation_ref_is_frozen():
    ref = CitationRef("a", "")
    with pytest.raises(AttributeError):
        ref.key = "b"


# --- render_notes -----------------------------------------------------------


def test_render_notes_empty():
    assert render_notes(CitationNotes(), fmt) == ""


def test_render_notes_ids_backrefs_and_links():
    notes = CitationNotes()
    render_markdown("[@a] [@b, p. 2] [@a]", notes=notes)
    html = render_notes(notes, fmt, source_url=lambda key: f"/sources/{key}/")
    assert html.startswith('<ol class="notes">')
    assert '<li id="note-1"><cite>a</cite>' in html
    assert '<li id="note-2"><cite>b</cite>, p. 2' in html
    assert 'href="/sources/a/"' in html and 'href="/sources/b/"' in html
    # note 1 cited twice: a/b labelled back-links to both markers
    li1 = re.search(r'<li id="note-1">.*?</li>', html, re.S).group(0)
    assert 'href="#cite-1-1"' in li1 and 'href="#cite-1-2"' in li1
    assert 'aria-label="Back to citation 1, a"' in li1
    assert 'aria-label="Back to citation 1, b"' in li1
    assert "<sup>a</sup>" in li1 and "<sup>b</sup>" in li1
    li2 = re.search(r'<li id="note-2">.*?</li>', html, re.S).group(0)
    assert 'href="#cite-2-1"' in li2
    assert 'aria-label="Back to citation 2"' in li2
    assert "<sup>" not in li2
    assert "↩" in li2


def test_render_notes_without_source_url_has_no_source_link():
    notes = CitationNotes()
    notes.cite(CitationRef("a", ""))
    html = render_notes(notes, fmt)
    assert "note-source-link" not in html


def test_render_notes_unknown_key_is_escaped():
    notes = CitationNotes()
    notes.cite(CitationRef("x<script>", "p. <b>1</b>"))
    html = render_notes(notes, lambda key, loc: None)
    assert "Unknown source “x&lt;script&gt;”" in html
    assert "p. &lt;b&gt;1&lt;/b&gt;" in html
    assert "<script" not in html


def test_render_notes_output_is_sanitised():
    notes = CitationNotes()
    notes.cite(CitationRef("a", ""))
    html = render_notes(
        notes,
        lambda key, loc: '<cite onclick="x()">T</cite><script>alert(1)</script>',
        source_url=lambda key: "javascript:alert(1)",
    )
    assert "<cite>T</cite>" in html
    assert "onclick" not in html
    assert "<script" not in html
    assert "javascript:" not in html.lower()


def test_markdownify_default_and_hook(monkeypatch):
    html = markdownify("Claim [@k, p. 3].")
    assert 'id="cite-1-1"' in html
    assert '<ol class="notes">' in html
    assert '<span class="note-key">k</span>, <span class="note-locator">p. 3</span>' in html
    monkeypatch.setattr(markup, "SOURCE_FORMATTER", lambda key, loc: f"<cite>Book {key}</cite>")
    html = markdownify("Claim [@k, p. 3].")
    assert "<cite>Book k</cite>" in html
    assert markdownify("no cites") == "<p>no cites</p>\n"


# --- Hostile input ----------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<iframe src=https://evil></iframe>",
    "<object data=x></object>",
    "<style>body{display:none}</style>",
    '<a href="javascript:alert(1)">x</a>',
    '<div onmouseover="alert(1)">hover</div>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](jav&#x09;ascript:alert(1))",
    "[x](jav&#x09;ascript&colon;alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "![x](javascript:alert(1))",
    '![x](x.png "a" onerror="alert(1)")',
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "[x](<javascript:alert(1)>)",
    "[@a, p. <script>alert(1)</script>]",
    '[@a, p. 1" onclick="x]',
    "```\n</code><script>alert(1)</script>\n```",
    "| a |\n|---|\n| <script>x</script> |",
    "[^1]\n\n[^1]: <iframe src=x></iframe>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_is_neutralised(text):
    html = render_markdown(text) + markdownify(text)
    # anything left over must be inert escaped text, never live markup/attributes
    assert not re.search(r"<[^>]*\son\w+\s*=", html, re.I)
    assert not re.search(r"<[^>]*javascript:", html, re.I)
    assert not re.search(r"<[^>]*(?:vbscript|data):", html, re.I)
    assert not re.search(r"<(script|iframe|object|style|svg)", html, re.I)
    # The one <div>: the scrolling box markup puts around a table.
    assert all(tag == TABLE_SCROLL_OPEN for tag in re.findall(r"<div[^>]*>", html, re.I))
    assert not re.search(r"<[^>]*\sstyle\s*=", html, re.I)


def test_hostile_urls_never_become_hrefs():
    for text in HOSTILE:
        html = render_markdown(text)
        # only real tags count: escaped text (&lt;a href=...) is inert
        for href in re.findall(r'<[^>]*\s(?:href|src)="([^"]*)"', html):
            assert not re.match(r"\s*(javascript|vbscript|data):", href, re.I), (text, href)


def test_obfuscated_javascript_link_is_not_a_javascript_url():
    html = render_markdown("[x](jav&#x09;ascript:alert(1))")
    assert "javascript:" not in html.lower()
    assert "jav\tascript" not in html


@pytest.mark.parametrize(
    "raw",
    [
        '<a href="javascript:alert(1)">a</a>',
        '<a href="JaVaScRiPt:alert(1)">a</a>',
        '<a href="jav&#x09;ascript:alert(1)">a</a>',
        '<a href=" javascript:alert(1)">a</a>',
        '<a href="vbscript:msgbox(1)">a</a>',
        '<a href="data:text/html,<script>alert(1)</script>">a</a>',
        '<img src="data:image/png;base64,AAAA">',
        '<img src="javascript:alert(1)">',
        '<img src="mailto:a@b.c">',
    ],
)
def test_sanitiser_drops_dangerous_urls(raw):
    out = sanitise_html(raw)
    assert not re.search(r"(?:href|src)=", out), out


def test_sanitiser_policy():
    out = sanitise_html(
        '<p style="color:red" class="evil" id="9bad" onclick="x">p</p>'
        '<img src="x.png" onerror="alert(1)" width="10" height="bad">'
        '<iframe src="x"></iframe><object data="x"></object><style>p{}</style>'
        "<svg><script>alert(1)</script></svg>"
        '<ol start="2x"><li>a</li></ol><ol start="5"><li>b</li></ol>'
        '<code class="language-py evil">c</code>'
        '<a href="https://example.org">e</a>'
        "<!-- comment -->"
    )
    assert "<p>p</p>" in out
    assert '<img src="x.png" width="10" loading="lazy">' in out
    assert re.search(r"<(iframe|object|style|script|svg)", out) is None
    assert "alert" not in out
    assert "<ol><li>a</li></ol>" in out
    assert '<ol start="5">' in out
    assert '<code class="language-py">' in out
    assert "evil" not in out
    assert 'rel="noopener noreferrer"' in out
    assert "comment" not in out


# ---------------------------------------------------------------- tables scroll in their own box

TABLE_SCROLL_OPEN = (
    '<div class="table-scroll" role="region" tabindex="0" aria-label="Table (scrolls sideways on narrow screens)">'
)


def test_a_table_is_published_inside_a_labelled_scrolling_box():
    html = markup.render_markdown("| Resolution | Year |\n|:--|--:|\n| 2100 | 2013 |")
    assert html.startswith(TABLE_SCROLL_OPEN + "\n<table>")
    assert html.rstrip().endswith("</table>\n</div>")


def test_the_sanitiser_keeps_only_the_scrolling_box_of_a_div():
    html = sanitise_html(
        '<div class="table-scroll evil" role="button" tabindex="-1" onclick="x()" style="x" aria-label="A">t</div>'
    )
    assert html == '<div class="table-scroll" aria-label="A">t</div>'
