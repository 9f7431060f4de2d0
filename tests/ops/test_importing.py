"""Tests for articles.ops.importing: plain-text and Markdown article parsing (no database)."""

from __future__ import annotations

import random
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from articles.ops.article_markdown import article_to_markdown, parse_markdown
from articles.ops.importing import (
    ArticleFormatError,
    ParsedArticle,
    ParsedSection,
    escape_markdown_text,
    parse_plain_text,
)

SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "mali_military_deployments.txt"

# CommonMark plus the GFM extensions the site enables.
MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def render(markdown: str) -> str:
    return MD.render(markdown)


def html_escape(text: str) -> str:
    """What markdown-it does to literal text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    def handle_endtag(self, tag: str) -> None:
        self.chunks.append(" ")


def rendered_text(markdown: str) -> str:
    parser = _TextExtractor()
    parser.feed(render(markdown))
    return norm_ws(" ".join(parser.chunks))


def norm_ws(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def doc(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def same_content(a: ParsedArticle, b: ParsedArticle) -> None:
    assert a.title == b.title
    assert a.dek == b.dek
    assert a.sections == b.sections


# ---------------------------------------------------------------------------
# Plain text: structure
# ---------------------------------------------------------------------------


def test_title_dek_and_sections():
    article = parse_plain_text(
        doc(
            "A Made-Up Chronicle of River Towns",
            "",
            "The first opening paragraph sets the scene for the reader.",
            "",
            "A second opening paragraph continues the introduction.",
            "",
            "Early Settlements",
            "",
            "Villages grew along the river banks over many generations.",
            "",
            "Trade Routes",
            "",
            "Caravans carried salt and cloth between the towns.",
        )
    )
    assert article.title == "A Made-Up Chronicle of River Towns"
    assert article.dek == (
        "The first opening paragraph sets the scene for the reader.\n\n"
        "A second opening paragraph continues the introduction."
    )
    assert [s.title for s in article.sections] == ["Early Settlements", "Trade Routes"]
    assert all(s.level == 2 and s.anchor == "" and s.topics == [] for s in article.sections)
    assert article.sections[0].body == "Villages grew along the river banks over many generations."
    assert article.dropped_lines == []
    assert article.paragraphs == 4
    assert article.list_items == 0


def test_title_is_first_non_empty_line_even_if_long_or_punctuated():
    article = parse_plain_text(doc("", "   ", "Is this a title? Yes, it is.", "", "Body text here."))
    assert article.title == "Is this a title? Yes, it is."
    assert article.dek == "Body text here."


def test_short_sentence_with_final_punctuation_is_a_paragraph():
    article = parse_plain_text(
        doc(
            "Title",
            "",
            "Heading One",
            "",
            "It rained.",
            "",
            "Who knew?",
            "",
            "They said “go.”",
            "",
            "Notes follow:",
            "",
            "Wait…",
            "",
            "Economic Community (ECOWAS)",
            "",
            "Last words here.",
        )
    )
    assert [s.title for s in article.sections] == ["Heading One", "Economic Community (ECOWAS)"]
    assert article.sections[0].body == "It rained.\n\nWho knew?\n\nThey said “go.”\n\nNotes follow:\n\nWait…"
    assert article.sections[1].body == "Last words here."


def test_long_unpunctuated_line_is_a_paragraph():
    fifteen_words = " ".join(["word"] * 15)
    too_long = "x" * 101
    article = parse_plain_text(doc("Title", "", fifteen_words, "", too_long, "", "1234 5678"))
    assert article.sections == []
    assert article.dek == f"{fifteen_words}\n\n{too_long}\n\n1234 5678"
    assert article.paragraphs == 3


def test_fourteen_word_heading_is_a_heading():
    heading = " ".join(["Word"] * 14)
    article = parse_plain_text(doc("Title", "", heading, "", "Text."))
    assert [s.title for s in article.sections] == [heading]


def test_heading_with_empty_body():
    article = parse_plain_text(doc("Title", "", "First Part", "", "Second Part", "", "Text."))
    assert [(s.title, s.body) for s in article.sections] == [("First Part", ""), ("Second Part", "Text.")]


def test_wrapped_paragraph_is_joined():
    article = parse_plain_text(
        doc(
            "Title",
            "",
            "This paragraph was wrapped by an old editor at a",
            "fixed width, so it spans several lines and ends",
            "on a short line",
            "",
            "Next paragraph.",
        )
    )
    assert article.sections == []
    assert article.dek == (
        "This paragraph was wrapped by an old editor at a fixed width, so it spans "
        "several lines and ends on a short line\n\nNext paragraph."
    )
    assert article.paragraphs == 2


# ---------------------------------------------------------------------------
# Plain text: lists
# ---------------------------------------------------------------------------


def test_bullets_with_and_without_labels():
    article = parse_plain_text(
        doc(
            "Title",
            "",
            "Points",
            "",
            "  • Plain point without a label.",
            "  • Supply Lines: kept open through the dry season.",
            "",
            "  • A label that is far too long to be a label at all: so no bold.",
            "◦ Meeting at 10:30 in the morning.",
            "▪ See https://example.org/page for more.",
            "- Dash bullet.",
            "* Star bullet.",
        )
    )
    body = article.sections[0].body
    assert body == (
        "- Plain point without a label.\n"
        "- **Supply Lines:** kept open through the dry season.\n"
        "- A label that is far too long to be a label at all: so no bold.\n"
        "- Meeting at 10:30 in the morning.\n"
        "- See https://example.org/page for more.\n"
        "- Dash bullet.\n"
        "- Star bullet."
    )
    assert article.list_items == 7
    assert article.paragraphs == 0
    html = render(body)
    assert html.count("<ul>") == 1
    assert "<li><strong>Supply Lines:</strong> kept open through the dry season.</li>" in html


def test_ordered_list_starting_at_one():
    article = parse_plain_text(
        doc("Title", "", "Steps", "", "  1. First: do this.", "", "  2. Then that.", "", "  3. Done.")
    )
    body = article.sections[0].body
    assert body == "1. **First:** do this.\n2. Then that.\n3. Done."
    html = render(body)
    assert "<ol>" in html and html.count("<li>") == 3
    assert article.list_items == 3


def test_ordered_list_starting_at_three_keeps_its_number():
    article = parse_plain_text(doc("Title", "", "Steps", "", "3) Third.", "4) Fourth.", "5) Fifth."))
    body = article.sections[0].body
    assert body == "3. Third.\n4. Fourth.\n5. Fifth."
    assert '<ol start="3">' in render(body)


def test_list_separated_by_paragraph_makes_two_lists_and_kinds_do_not_mix():
    article = parse_plain_text(
        doc("Title", "", "• one", "• two", "", "Between them.", "", "• three", "1. numbered", "• four")
    )
    assert article.dek == "- one\n- two\n\nBetween them.\n\n- three\n\n1. numbered\n\n- four"
    html = render(article.dek)
    assert html.count("<ul>") == 3 and html.count("<ol>") == 1
    assert article.list_items == 5
    assert article.paragraphs == 1


def test_list_item_continuation_lines():
    article = parse_plain_text(
        doc(
            "Title",
            "",
            "• An item wrapped onto",
            "  an indented second line.",
            "• Another item that goes on",
            "to a lowercase line.",
            "Not A Continuation",
            "",
            "Text.",
        )
    )
    assert article.dek == (
        "- An item wrapped onto an indented second line.\n- Another item that goes on to a lowercase line."
    )
    assert [s.title for s in article.sections] == ["Not A Continuation"]


def test_year_at_start_of_paragraph_is_not_a_list():
    article = parse_plain_text(doc("Title", "", "1999. A year of change began.", "", "2004) Another year."))
    assert article.list_items == 0
    assert article.paragraphs == 2
    html = render(article.dek)
    assert "<ol" not in html
    assert html == "<p>1999. A year of change began.</p>\n<p>2004) Another year.</p>\n"


# ---------------------------------------------------------------------------
# Plain text: See also, escaping, newlines, errors
# ---------------------------------------------------------------------------


def test_see_also_lines_are_dropped_and_reported():
    article = parse_plain_text(
        doc(
            "Title",
            "",
            "Intro paragraph.",
            "",
            "See also\u00a0 Some Other Site's Page",
            "",
            "Section",
            "",
            "see also: a lowercase variant",
            "Body text.",
            "Seeing also is not a see-also line.",
        )
    )
    assert article.dropped_lines == ["See also\u00a0 Some Other Site's Page", "see also: a lowercase variant"]
    markdown = article_to_markdown(article)
    assert "Other Site" not in markdown and "lowercase variant" not in markdown
    assert article.sections[0].body == "Body text. Seeing also is not a see-also line."


LITERAL_LINES = [
    "# Not a heading",
    "## Nor this",
    "#hashtag stays",
    "> not a quote",
    "- not a list",
    "+ not a list",
    "-",
    "---",
    "- - -",
    "___",
    "***",
    "=====",
    "1999. A year, not a list",
    "42) Forty-two, not a list",
    "*emphasis* and **strong** and _under_ and __double__",
    "snake_case_name and 2 * 3 * 4",
    "`code` and ``more``",
    "```",
    "~~~",
    "~~strike~~ and ~approx",
    "[link](http://example.org) and [ref] and ![img](x.png)",
    "[label]: http://example.org/definition",
    "[^1] and [@key, p. 3]",
    "<b>bold</b> and <http://example.org> and <!-- c -->",
    "AT&T &amp; &copy; &#169; &#xA9;",
    "back\\slash \\* and trailing \\",
    "a | b | c",
    'It\'s "quoted" and ‘curly’ (really)!',
    "Non\u00a0breaking\u00a0spaces stay.",
]


@pytest.mark.parametrize("line", LITERAL_LINES)
def test_escape_markdown_text_renders_literally(line):
    escaped = escape_markdown_text(line)
    assert render(escaped) == f"<p>{html_escape(line)}</p>\n"
    # Apostrophes and quotes are never escaped.
    assert "\\'" not in escaped and '\\"' not in escaped


@pytest.mark.parametrize(
    "line",
    [
        "# Not a heading.",
        "## Nor this.",
        "> not a quote.",
        "---",
        "***",
        "=====",
        "1999. A year, not a list.",
        "2004) Another year.",
        "*emphasis* and **strong** and _under_ and __double__.",
        "`code` and ``more``.",
        "~~strike~~ and ~approx.",
        "[label]: http://example.org/definition.",
        "[^1] and [@key, p. 3].",
        "<b>bold</b> and <http://example.org> and <!-- c -->.",
        "AT&T &amp; &copy; &#169;.",
        "back\\slash \\* and trailing \\.",
        'It\'s "quoted" and ‘curly’ (really)!',
    ],
)
def test_plain_text_paragraph_renders_literally(line):
    article = parse_plain_text(doc("Title", "", line))
    assert (article.paragraphs, article.list_items, article.sections) == (1, 0, [])
    assert article.dek == escape_markdown_text(line)
    assert render(article.dek) == f"<p>{html_escape(line)}</p>\n"


@pytest.mark.parametrize(
    "line",
    ["# hash", "*star* text", "1999. year", "<tag>", "[x](y)", "`tick`", "---", "> quote"],
)
def test_special_characters_in_list_items_render_literally(line):
    article = parse_plain_text(doc("Title", "", f"• {line}", f"• Label: {line}"))
    html = render(article.dek)
    assert f"<li>{html_escape(line)}</li>" in html
    assert f"<li><strong>Label:</strong> {html_escape(line)}</li>" in html


def test_escaping_is_minimal():
    assert escape_markdown_text('Mali’s army, 2013 (MINUSMA): it\'s "fine".') == (
        'Mali’s army, 2013 (MINUSMA): it\'s "fine".'
    )
    assert escape_markdown_text("snake_case") == "snake_case"
    assert escape_markdown_text("#hashtag") == "#hashtag"
    assert escape_markdown_text("AT&T") == "AT&T"


def test_crlf_cr_and_bom_input():
    lines = ["Title", "", "Intro.", "", "Heading", "", "• Label: item", "", "Body text."]
    expected = parse_plain_text("\n".join(lines))
    assert parse_plain_text("\r\n".join(lines)) == expected
    assert parse_plain_text("\r".join(lines)) == expected
    assert parse_plain_text("\ufeff" + "\r\n".join(lines) + "\r\n") == expected
    assert "\r" not in expected.dek + "".join(s.body for s in expected.sections)


def test_non_breaking_spaces_count_as_spaces_when_classifying():
    article = parse_plain_text(doc("Title", "", "\u00a0Heading\u00a0With\u00a0Nbsp\u00a0", "", "•\u00a0Item\u00a0one"))
    assert [s.title for s in article.sections] == ["Heading\u00a0With\u00a0Nbsp"]
    assert article.sections[0].body == "- Item\u00a0one"


@pytest.mark.parametrize("text", ["", "   ", "\n\n \t\n", "\ufeff", "\r\n\r\n"])
def test_empty_input_raises(text):
    with pytest.raises(ArticleFormatError, match="empty"):
        parse_plain_text(text)
    with pytest.raises(ArticleFormatError, match="empty"):
        parse_markdown(text)


def test_only_see_also_lines_raises():
    with pytest.raises(ArticleFormatError, match="[Nn]o title"):
        parse_plain_text("See also Elsewhere\n")


def test_article_format_error_is_a_value_error():
    assert issubclass(ArticleFormatError, ValueError)


def test_nothing_but_see_also_is_lost_on_synthetic_document():
    lines = [
        "Title Line",
        "",
        "Intro with *stars* and [brackets].",
        "",
        "Section A",
        "",
        "• Label: value one",
        "• plain value",
        "",
        "See also Another Page",
        "1. first",
        "2. second",
        "",
        "Closing paragraph.",
    ]
    article = parse_plain_text(doc(*lines))
    text = rendered_text(article_to_markdown(article))
    for line in lines:
        if line and not line.startswith("See also"):
            core = re.sub(r"^(?:•|\d+\.)\s*", "", line)
            assert norm_ws(core) in text
    assert "Another Page" not in text


# ---------------------------------------------------------------------------
# The real seed article
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.exists():
        pytest.skip(f"seed article not found at {SEED}")
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_article(seed_text) -> ParsedArticle:
    return parse_plain_text(seed_text)


def _seed_lines(seed_text: str) -> list[str]:
    return [line.strip() for line in seed_text.splitlines() if line.strip()]


def test_seed_sections_and_dropped_lines(seed_text, seed_article):
    assert len(seed_article.sections) == 14
    assert all(s.level == 2 and s.body for s in seed_article.sections)
    assert len(seed_article.dropped_lines) == 3
    assert all(line.startswith("See also") for line in seed_article.dropped_lines)
    assert seed_article.list_items == sum(1 for line in _seed_lines(seed_text) if re.match(r"(•|\d+\.)\s", line))


def test_seed_title_and_dek(seed_text, seed_article):
    lines = _seed_lines(seed_text)
    assert seed_article.title == lines[0]
    first_heading = seed_article.sections[0].title
    dek_lines = lines[1 : lines.index(first_heading)]
    assert dek_lines, "the seed has an introduction before its first heading"
    assert seed_article.dek == "\n\n".join(escape_markdown_text(line) for line in dek_lines)


def test_seed_every_line_survives_in_order(seed_text, seed_article):
    markdown = article_to_markdown(seed_article)
    text = rendered_text(markdown)
    headings = {s.title for s in seed_article.sections}
    position = 0
    checked = 0
    for line in _seed_lines(seed_text)[1:]:
        if line in headings or norm_ws(line).startswith("See also"):
            continue
        core = norm_ws(re.sub(r"^(?:•|\d+\.)\s*", "", line))
        found = text.find(core, position)
        assert found >= 0, f"missing or out of order: {core[:60]!r}"
        position = found + len(core)
        checked += 1
    assert checked == seed_article.paragraphs + seed_article.list_items
    for dropped in seed_article.dropped_lines:
        assert norm_ws(dropped) not in text


def test_seed_headings_render_as_h2_in_order(seed_article):
    html = render(article_to_markdown(seed_article))
    h2 = re.findall(r"<h2>(.*?)</h2>", html)
    assert h2 == [html_escape(s.title) for s in seed_article.sections]


def test_seed_markdown_round_trip(seed_article):
    again = parse_markdown(article_to_markdown(seed_article))
    same_content(again, seed_article)
    assert again.dropped_lines == []
    assert (again.paragraphs, again.list_items) == (seed_article.paragraphs, seed_article.list_items)


def test_seed_crlf_variant_parses_the_same(seed_text, seed_article):
    crlf = "\ufeff" + seed_text.replace("\n", "\r\n")
    assert parse_plain_text(crlf) == seed_article


# ---------------------------------------------------------------------------
# Markdown format
# ---------------------------------------------------------------------------


def _rich_article() -> ParsedArticle:
    return ParsedArticle(
        title="An Invented History",
        dek="An *introductory* paragraph with a citation [@smith2001, p. 3].\n\nSecond dek paragraph.",
        sections=[
            ParsedSection(
                title="Origins",
                body="Text with a note [@doe; @roe, ch. 2].\n\n## A heading inside the body\n\n- a\n- b",
                level=2,
                anchor="origins",
                topics=["minusma", "g5-sahel"],
            ),
            ParsedSection(
                title="Code Sample",
                body="```markdown\n## not a section {#nope}\n### nor this\n```\n\n~~~\n## also not\n~~~",
                level=3,
                anchor="code-sample",
            ),
            ParsedSection(title="No Anchor Here", body="Plain body.", level=2, anchor=""),
            ParsedSection(title="Empty", body="", level=3, anchor="empty", topics=["one"]),
        ],
        dropped_lines=[],
        paragraphs=0,
        list_items=0,
    )


def test_article_to_markdown_format():
    markdown = article_to_markdown(_rich_article())
    assert markdown.startswith("# An Invented History\n\nAn *introductory* paragraph")
    assert "\n## Origins {#origins}\n<!-- topics: minusma, g5-sahel -->\n\nText with a note" in markdown
    assert "\n### Code Sample {#code-sample}\n\n```markdown\n" in markdown
    assert "\n## No Anchor Here {#}\n\nPlain body.\n" in markdown
    assert markdown.endswith("### Empty {#empty}\n<!-- topics: one -->\n")


def test_markdown_round_trip_rich_article():
    article = _rich_article()
    again = parse_markdown(article_to_markdown(article))
    same_content(again, article)
    assert again.dropped_lines == []
    assert again.sections[0].body.count("[@doe; @roe, ch. 2]") == 1
    assert "## A heading inside the body" in again.sections[0].body


def test_markdown_export_without_anchors_is_plain():
    article = ParsedArticle(
        title="T",
        dek="",
        sections=[ParsedSection("One", "Body one."), ParsedSection("Sub", "Body sub.", level=3)],
        dropped_lines=[],
        paragraphs=2,
        list_items=0,
    )
    markdown = article_to_markdown(article)
    assert markdown == "# T\n\n## One\n\nBody one.\n\n### Sub\n\nBody sub.\n"
    assert parse_markdown(markdown) == article


def test_markdown_without_anchors_every_heading_is_a_section():
    article = parse_markdown(
        doc(
            "# Title",
            "",
            "Dek.",
            "",
            "## First",
            "",
            "```",
            "## inside a fence",
            "```",
            "",
            "#### deeper headings stay in the body",
            "",
            "### Second",
            "text",
            " ## indented is not a delimiter",
        )
    )
    assert [(s.title, s.level, s.anchor) for s in article.sections] == [("First", 2, ""), ("Second", 3, "")]
    assert article.sections[0].body == "```\n## inside a fence\n```\n\n#### deeper headings stay in the body"
    assert article.sections[1].body == "text\n ## indented is not a delimiter"


def test_markdown_with_anchors_only_anchored_headings_delimit():
    article = parse_markdown(
        doc(
            "# Title",
            "## Real {#real}",
            "## Body heading",
            "text",
            "### Sub {#sub}",
            "### Body sub heading",
        )
    )
    assert [(s.title, s.level, s.anchor) for s in article.sections] == [("Real", 2, "real"), ("Sub", 3, "sub")]
    assert article.sections[0].body == "## Body heading\ntext"
    assert article.sections[1].body == "### Body sub heading"


def test_markdown_fence_rules():
    article = parse_markdown(
        doc(
            "# Title",
            "## A",
            "````",
            "```",
            "## still inside (shorter fence does not close)",
            "````",
            "~~~ info",
            "## inside tilde fence",
            "~~~~",
            "## B",
        )
    )
    assert [s.title for s in article.sections] == ["A", "B"]


def test_markdown_subsection_without_parent_raises():
    with pytest.raises(ArticleFormatError, match="no parent section"):
        parse_markdown("# Title\n\n### Orphan\n\ntext\n")


def test_markdown_missing_title_raises():
    with pytest.raises(ArticleFormatError, match="title"):
        parse_markdown("## Section\n\ntext\n")
    with pytest.raises(ArticleFormatError, match="title"):
        parse_markdown("```\n# not a title\n```\n")


def test_markdown_text_before_title_raises():
    with pytest.raises(ArticleFormatError, match="before"):
        parse_markdown("stray text\n\n# Title\n")


def test_markdown_topics_and_crlf():
    article = parse_markdown("\ufeff# Title\r\n\r\n## S {#s}\r\n<!--topics: a ,b,, c-->\r\n\r\nBody [@k, p. 3].\r\n")
    assert article.sections == [ParsedSection("S", "Body [@k, p. 3].", 2, "s", ["a", "b", "c"])]
    assert article.paragraphs == 1


def test_markdown_counts():
    article = parse_markdown(
        doc("# T", "", "Dek one.", "", "Dek two.", "", "## S", "", "Para.", "", "- a", "- b", "", "1. c", "   d")
    )
    assert (article.paragraphs, article.list_items) == (3, 3)


@pytest.mark.parametrize(
    "section",
    [
        ParsedSection("Title {#looks-like-anchor}", "x"),
        ParsedSection("", "x", anchor="a"),
        ParsedSection("", "x"),
        ParsedSection("C#", "x"),
        ParsedSection("Body starts with topics", "<!-- topics: fake -->\n\ntext"),
        ParsedSection("Body with headings", "## one\n### two"),
    ],
)
def test_markdown_round_trip_edge_cases(section):
    article = ParsedArticle("T", "", [ParsedSection("Lead", "Lead body."), section], [], 0, 0)
    same_content(parse_markdown(article_to_markdown(article)), article)


def test_markdown_round_trip_dek_with_heading_line():
    article = ParsedArticle("T", "Dek\n\n## looks like a section", [ParsedSection("S", "b")], [], 0, 0)
    same_content(parse_markdown(article_to_markdown(article)), article)


def test_article_to_markdown_rejects_bad_sections():
    with pytest.raises(ArticleFormatError):
        article_to_markdown(ParsedArticle("T", "", [ParsedSection("S", "b", level=4)], [], 0, 0))
    with pytest.raises(ArticleFormatError):
        article_to_markdown(ParsedArticle("T", "", [ParsedSection("S", "b", anchor="a b")], [], 0, 0))
    with pytest.raises(ArticleFormatError):
        article_to_markdown(ParsedArticle("", "", [], [], 0, 0))


_FRAGMENTS = [
    "Plain sentence.",
    "Citation [@key, p. 3] and [@other; @third, ch. 2].",
    "- item one\n- item two",
    "3. third\n4. fourth",
    "## body heading",
    "### body subheading",
    "#### deep heading",
    "```python\n## fenced\nprint('x')\n```",
    "~~~\n### fenced tilde\n~~~",
    "> quoted\n> lines",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "Text with trailing spaces  \nand a hard break.",
    "<!-- a comment -->",
    "Title-ish {#fake}",
]


def test_markdown_round_trip_random_articles():
    rng = random.Random(1234)
    for _ in range(200):
        sections = []
        for n in range(rng.randint(0, 5)):
            level = 2 if n == 0 else rng.choice([2, 3])
            body = "\n\n".join(rng.sample(_FRAGMENTS, rng.randint(0, 3)))
            anchor = rng.choice(["", "", f"s-{n}"])
            topics = rng.sample(["minusma", "g5-sahel", "ecowas"], rng.randint(0, 2))
            sections.append(ParsedSection(f"Section {n}", body, level, anchor, topics))
        dek_fragments = _FRAGMENTS if sections else [f for f in _FRAGMENTS if not f.startswith("#")]
        dek = "\n\n".join(rng.sample(dek_fragments, rng.randint(0, 2)))
        article = ParsedArticle("Random Article", dek, sections, [], 0, 0)
        again = parse_markdown(article_to_markdown(article))
        same_content(again, article)
        # Exporting the parsed article again gives the same Markdown.
        assert article_to_markdown(again) == article_to_markdown(article)


def test_plain_text_to_markdown_round_trip_synthetic():
    article = parse_plain_text(
        doc(
            "Title",
            "",
            "Dek with _underscores_ and # signs.",
            "",
            "Heading",
            "",
            "• Label: text",
            "1. one",
            "",
            "1999. Not a list.",
        )
    )
    again = parse_markdown(article_to_markdown(article))
    same_content(again, article)
    assert (again.paragraphs, again.list_items) == (article.paragraphs, article.list_items)
