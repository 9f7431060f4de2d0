"""The editor's live preview reads as the published page does (static/articles/admin/markdown-editor.js).

Same stylesheet (fonts, sizes, list bullets), the notes numbered in the article's sequence with
the sources' formatted notes, and citation keys that name no source flagged where the editor looks.
"""

from __future__ import annotations

import pytest

from tests import factories
from tests.admin.test_editor_browser import RECORD_CSP_VIOLATIONS, assert_editor_caused_no_errors, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT = 15_000
WIDE = {"width": 1600, "height": 1000}

BODY = """The Council created the mission in April 2013.[@unsc-res-2100, para. 7]

Its first tasks were these:

- stabilising the population centres;
- supporting the transitional authorities.[@unsc-res-2100]
"""

STYLE = """node => {
  const style = getComputedStyle(node);
  return [style.fontFamily, style.fontSize, style.lineHeight, style.listStyleType, style.color];
}"""


@pytest.fixture
def published(db):
    moderator = factories.make_user("preview-moderator", group="Moderator")
    resolution = factories.source(
        moderator,
        key="unsc-res-2100",
        title="Resolution 2100 (2013)",
        publisher="United Nations Security Council",
        kind="report",
        date_year=2013,
    )
    earlier = factories.source(moderator, key="earlier-report", title="An Earlier Report")
    article = factories.article(moderator, title="The UN in Mali", dek="An introduction.")
    factories.section(moderator, article, position=1, anchor="before", body="Background.[@earlier-report]")
    section = factories.section(moderator, article, position=2, anchor="mission", title="The mission", body=BODY)
    return {"article": article, "section": section, "sources": (resolution, earlier)}


def _text(locator) -> str:
    return " ".join(locator.inner_text().split())


def test_preview_matches_the_published_section(live_server, browser, published):
    editor = factories.make_user("preview-editor", group="Editor")
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.console_errors = []
    page.on(
        "console",
        lambda m: m.type == "error" and page.console_errors.append(f"{m.text} @ {m.location.get('url', '')}"),
    )
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    section = published["section"]

    page.goto(f"{live_server.url}{published['article'].get_absolute_url()}")
    public = page.locator(f"#{section.anchor} .section-body")
    public_text = _text(public)
    public_p = public.locator("p").first.evaluate(STYLE)
    public_li = public.locator("li").first.evaluate(STYLE)
    public_ul = public.locator("ul").first.evaluate(STYLE)
    public_note = _text(page.locator("#note-2"))
    assert "Resolution 2100" in public_note

    sign_in(page, live_server, editor, f"/admin/articles/section/{section.pk}/change/")
    frame = page.frame_locator(".field-body .markdownx-preview iframe")
    body = frame.locator(".section-body")
    body.locator("li").first.wait_for()

    # The same words, and the notes numbered as on the article page: this section's first note is 2.
    assert _text(body) == public_text
    assert body.locator("sup.citation a").first.inner_text() == "2"
    assert _text(frame.locator("#note-2")) == public_note
    assert frame.locator(".article-notes li").first.evaluate("n => n.value") == 2
    assert "unsc-res-2100" not in _text(frame.locator(".article-notes"))
    # Set as readers see it: serif body size, list items with their bullets.
    assert body.locator("p").first.evaluate(STYLE) == public_p
    assert body.locator("li").first.evaluate(STYLE) == public_li
    assert body.locator("ul").first.evaluate(STYLE) == public_ul
    assert public_ul[3] == "disc"
    # The public stylesheet stays inside the frame: the admin keeps its own fonts.
    admin_font = page.locator("#content h1, #content h2").first.evaluate("n => getComputedStyle(n).fontFamily")
    assert "Iowan" not in admin_font

    # A key that names no source is flagged, in words and in the note itself.
    textarea = page.locator(".field-body textarea")
    textarea.fill(BODY + "\nA claim without a source.[@no-such-report]\n")
    warning = frame.locator(".preview-warning")
    warning.wait_for()
    assert "no-such-report" in warning.inner_text()
    unknown = frame.locator(".article-notes .note-unknown")
    assert "no-such-report" in unknown.inner_text()
    colour = unknown.evaluate("n => getComputedStyle(n).color")
    assert colour != frame.locator(".article-notes li").first.evaluate("n => getComputedStyle(n).color")
    assert_editor_caused_no_errors(page)
    context.close()


def test_preview_endpoint_checks_what_it_is_asked_for(client, published):
    from django.urls import reverse

    url = reverse("markdownx_markdownify")
    editor = factories.make_user("preview-editor-2", group="Editor")
    client.force_login(editor)
    section = published["section"]
    ok = client.post(url, {"content": BODY, "section": section.pk, "field": "body"})
    assert ok.status_code == 200
    assert 'href="#note-2"' in ok.content.decode()
    assert client.post(url, {"content": BODY, "section": "abc"}).status_code == 400
    assert client.post(url, {"content": BODY, "section": 999_999}).status_code == 404
    other = factories.article(factories.make_user("preview-moderator-2", group="Moderator"))
    wrong = client.post(url, {"content": BODY, "section": section.pk, "article": other.pk})
    assert wrong.status_code == 400
    # Staff without the editor's permissions see nothing of the article.
    bystander = factories.make_user("bystander")
    client.force_login(bystander)
    assert client.post(url, {"content": BODY, "section": section.pk}).status_code == 403
