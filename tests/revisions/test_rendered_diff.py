"""The review page's rendered before/after marks what changed in place, and stays safe.

The words that differ are found with difflib on the text of the sanitised HTML
(articles.revisions.diffing.mark_rendered_changes), as the source diff finds them in Markdown.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import translation

from articles.models import Section
from articles.publishing.fragments import render_standalone
from articles.revisions import diffing, moderation
from tests import factories, hostile
from tests.content.test_hostile_markdown import RENDERED_ELEMENTS

BEFORE = "The mission had **11,200 troops** in 2014.\n\n- Gao\n- Kidal\n"
AFTER = "The mission had **13,289 troops** in 2018.\n\n- Gao\n- Kidal\n- Timbuktu\n"


class Balance(HTMLParser):
    VOID = {"img", "br", "hr"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def _balanced(html: str) -> bool:
    parser = Balance()
    parser.feed(html)
    parser.close()
    return not parser.errors and not parser.stack


def _marked(html: str, tag: str) -> list[str]:
    return [
        " ".join(re.sub(r"<span class=\"mh-sr-only\">.*?</span>", "", m).split())
        for m in re.findall(rf"<{tag} class=\"rendered-change\">(.*?)</{tag}>", html, re.S)
    ]


def test_changed_words_are_marked_in_the_rendered_text():
    old, new = diffing.mark_rendered_changes(render_standalone(BEFORE), render_standalone(AFTER))
    assert _marked(old, "del") == ["11,200", "2014."]
    assert _marked(new, "ins") == ["13,289", "2018.", "Timbuktu"]
    # Marks sit inside the rendered elements (the bold text, the new list item), never across them.
    assert "<strong><ins" in new
    assert "<li><ins" in new
    assert _balanced(old) and _balanced(new)
    # Unchanged text is untouched.
    assert "The mission had" in new and "Kidal" in new and "<ins" not in new.split("Kidal")[0].split("2018")[-1]


def test_the_marks_are_labelled_for_screen_readers_in_the_interface_language():
    with translation.override("fr"):
        old, new = diffing.mark_rendered_changes("<p>un</p>", "<p>deux</p>")
    assert '<span class="mh-sr-only">supprimé : </span>' in old
    assert '<span class="mh-sr-only">ajouté : </span>' in new


def test_an_added_image_is_marked_and_quotes_in_attributes_do_not_split_tags():
    old, new = diffing.mark_rendered_changes("<p>Map</p>", '<p>Map <img src="/m.png" alt="a &gt; b > c"></p>')
    assert (
        '<ins class="rendered-change"><span class="mh-sr-only">added: </span><img src="/m.png" alt="a &gt; b > c"></ins>'
        in new
    )
    assert old == "<p>Map</p>"


@pytest.mark.django_db
def test_hostile_text_stays_inert_when_marked():
    payloads = [hostile.storable(p) for p in hostile.owasp_vectors()]
    for index in range(0, len(payloads), 20):
        batch = payloads[index : index + 20]
        before = render_standalone("\n\n".join(batch))
        after = render_standalone("\n\n".join(reversed(batch)) + "\n\nA new line <script>alert(1)</script>")
        for html in diffing.mark_rendered_changes(before, after):
            assert hostile.audit(html, allowed_elements=RENDERED_ELEMENTS | {"ins"}) == []
            assert _balanced(html)


@pytest.mark.django_db
def test_the_review_page_marks_the_change_in_the_rendered_after(client, editor, moderator):
    article = factories.article(moderator)
    section = factories.section(moderator, article, body=BEFORE)
    obj = Section.objects.get(pk=section.pk)
    obj.body = AFTER
    revision = moderation.propose(obj=obj, author=editor, summary="New figures")
    client.force_login(moderator)
    html = client.get(reverse("admin:articles_revision_change", args=[revision.pk])).content.decode()
    rendered = html.split('<div class="rendered-pair">', 1)[1]
    before, after = rendered.split("After, as readers will see it", 1)
    assert _marked(after, "ins") == ["13,289", "2018.", "Timbuktu"]
    assert _marked(before, "del") == ["11,200", "2014."]
