"""The public compare page shows text as readers wrote it: escaped once, never twice, never run."""

import html
import re

import pytest

from articles.models import ArticleVersion
from articles.revisions import moderation
from tests import factories

pytestmark = pytest.mark.django_db

TRICKY = 'MINUSMA\'s "robust" mandate & Resolution 2100 <2013>'
HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def edit(obj, moderator, **changes):
    moderation.publish_directly(obj=obj, moderator=moderator, summary="Edit", data={**obj.snapshot(), **changes})
    obj.refresh_from_db()


def visible_text(page: str) -> str:
    """What a reader sees: tags dropped, character references decoded once, as a browser does."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_compare_shows_apostrophes_quotes_and_angle_brackets_as_written(client, moderator):
    source = factories.source(moderator, key="res-2100", title="Resolution 2100", kind="un_document")
    article = factories.article(moderator, title="MINUSMA", slug="minusma")
    section = factories.section(moderator, article, title="Mandate", anchor="mandate", body="Old text [@res-2100].")
    before = ArticleVersion.objects.for_article(article).first().number
    edit(source, moderator, title=TRICKY)
    edit(section, moderator, title=f"The {TRICKY}", body=f"New text: {TRICKY} [@res-2100].\n\n{HOSTILE}")
    edit(article, moderator, title=f"MINUSMA: {TRICKY}")
    after = ArticleVersion.objects.for_article(article).first().number

    page = client.get(f"/articles/minusma/history/compare/?a={before}&b={after}").content.decode()
    text = visible_text(page)
    for where in ('id="diff-title"', 'id="diff-bibliography"', 'id="diff-section-1"'):
        assert where in page, where
    bibliography = visible_text(page[page.index('id="diff-bibliography"') :].split("</section>", 1)[0])
    for words in ("MINUSMA's", '"robust"', " & ", "<2013>"):
        assert words in bibliography, words
    inserted = [html.unescape(part) for part in re.findall(r"<ins>(.*?)</ins>", page, re.S)]
    assert f"MINUSMA: {TRICKY}" in inserted  # the title
    assert f"The {TRICKY}" in inserted  # the section's title
    assert any('MINUSMA\'s "robust" mandate' in part for part in inserted)  # the section's text
    # Nothing shows a character reference as text ("MINUSMA&#x27;s mandate").
    assert not re.search(r"&(#x?[0-9a-fA-F]+|amp|lt|gt|quot);", text), re.findall(r".{30}&#?\w+;.{10}", text)
    # Hostile markup written in the text stays text.
    assert "<script>alert(1)</script>" not in page and 'onerror="alert(2)"' not in page
    assert "<script>alert(1)</script>" in text and 'onerror="alert(2)">' in text
