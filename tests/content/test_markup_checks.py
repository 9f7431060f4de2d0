"""Markup the API refuses: raw HTML and links to schemes other than http, https and mailto."""

import pytest

from articles.content.markup_checks import markup_problems


@pytest.mark.parametrize(
    "text,problems",
    [
        ("Plain *Markdown* with a [link](https://example.org) and <https://un.org>.", []),
        ("a < b, `<code>` and\n\n    <indented code>", []),
        ("<b>bold</b>", ["html:<b>"]),
        ("</div>", ["html:</div>"]),
        ("<!-- hidden -->", ["html:<!-- hidden -->"]),
        ("![x](data:image/png;base64,AAA)", ["scheme:data"]),
        ("[x](vbscript:msgbox)", ["scheme:vbscript"]),
        ("[x](/sources/a/) [y](#note-1) [z](mailto:a@example.org)", []),
    ],
)
def test_raw_html_and_script_links_are_found_and_nothing_else(text, problems):
    assert markup_problems(text) == problems
