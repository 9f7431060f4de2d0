"""Every page type parses as valid HTML (html5lib in strict mode), with no duplicate ids.

The same pages as the accessibility tests (tests/page_types.py): public ones in English and French,
and the admin pages this project customised. html5lib follows the HTML standard's parser, so a strict
parse fails on unclosed or misnested elements, stray end tags and bad attributes; duplicate ids are
checked on the tree it builds.
"""

from __future__ import annotations

from collections import Counter

import html5lib
import pytest
from html5lib.html5parser import ParseError

from tests.page_types import demo_site

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def parser():
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)


@pytest.fixture
def site():
    return demo_site()


def problems_in(html: str, parser) -> list[str]:
    try:
        tree = parser.parse(html)
    except ParseError as error:
        line, column = parser.errors[-1][0] if parser.errors else ("?", "?")
        source = html.splitlines()[line - 1] if isinstance(line, int) else ""
        return [f"parse error at {line}:{column}: {error}\n    {source.strip()[:200]}"]
    ids = Counter(element.get("id") for element in tree.iter() if element.get("id"))
    return [f"duplicate id “{name}” ({count} times)" for name, count in ids.items() if count > 1]


@pytest.mark.parametrize("prefix", ["", "/fr"], ids=["english", "french"])
def test_public_pages_are_valid_html(client, site, parser, prefix):
    problems = []
    for name, path in site.public_pages(prefix).items():
        response = client.get(path)
        assert response.status_code in (200, 404), path
        problems += [f"{name} ({path}): {problem}" for problem in problems_in(response.content.decode(), parser)]
    assert not problems, "\n".join(problems)


def test_customised_admin_pages_are_valid_html(client, site, parser):
    client.force_login(site.moderator)
    problems = []
    for name, path in site.admin_pages().items():
        for language in ("en", "fr"):
            response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200, path
            problems += [
                f"{name} ({path}, {language}): {problem}" for problem in problems_in(response.content.decode(), parser)
            ]
    assert not problems, "\n".join(problems)
