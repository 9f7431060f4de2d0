"""axe-core on the review conversation's screens, in English and French, light and dark: the share page,
its "no longer works" page, and the review pages with comments, a resolved and an outdated thread, and
share links. Screenshots of the share page and the review page go to test-artifacts/ (the README's
docs/review-comments.png and docs/share-page.png are copies of them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from articles.revisions import comments, moderation, sharing
from tests.page_types import demo_site
from tests.reading.test_accessibility_browser import _axe_violations, _session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path("test-artifacts")


@pytest.fixture
def conversation(live_server, settings):
    """The demo's pending proposal with a passage comment and a reply, a resolved thread, an outdated one,
    an outside reviewer's comment and a share link; and a link that was revoked."""
    settings.SITE_URL = live_server.url
    site = demo_site()
    revision, moderator, editor = site.revision, site.moderator, site.editor
    body = revision.data["body"]
    passage = "independent since 22 September 1960"
    assert passage in body
    thread = comments.add_comment(
        revision=revision, user=moderator, body="Which resolution says so? Please cite it.", field="body", quote=passage
    )
    comments.add_comment(revision=revision, user=editor, body="Resolution 2100, paragraph 7.", parent=thread)
    done = comments.add_comment(revision=revision, user=editor, body="I also fixed the spelling of Gao.")
    comments.resolve(comment=done, user=moderator)
    comments.add_comment(
        revision=revision, user=moderator, body="Is “went on” the right verb?", field="body", quote="went on"
    )
    amended = {**revision.data, "body": body.replace("went on", "carried on")}
    moderation.amend(revision=revision, user=editor, summary="Tighten the wording", data=amended)
    link = sharing.share(moderator=moderator, revisions=[revision], label="Dr Awa Diallo, Bamako")
    comments.add_outside_comment(
        link=link,
        revision=revision,
        name="Awa Diallo",
        email="awa@example.net",
        body="“Carried on” reads better; the date is right.",
        client="test",
    )
    revoked = sharing.share(moderator=moderator, revisions=[revision], label="Old link")
    sharing.revoke(link=revoked, moderator=moderator)
    article_link = sharing.share(
        moderator=moderator, revisions=moderation_pending(site.article), article=site.article, label="Whole article"
    )
    return {"site": site, "link": link, "revoked": revoked, "article_link": article_link}


def moderation_pending(article):
    from articles.models import Revision

    return list(Revision.objects.pending_for_article(article))


@pytest.mark.parametrize("prefix", ["", "/fr"], ids=["english", "french"])
def test_the_share_pages_have_no_axe_violations(browser, live_server, conversation, prefix):
    pages = {
        "share page": prefix + sharing.path_for(conversation["link"]),
        "share page, whole article": prefix + sharing.path_for(conversation["article_link"]),
        "share link gone": prefix + sharing.path_for(conversation["revoked"]),
    }
    problems = []
    for scheme in ("light", "dark"):
        problems += _axe_violations(browser, live_server.url, pages, color_scheme=scheme)
    assert not problems, "axe-core found:\n" + "\n".join(problems)


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"], ids=["english", "french"])
def test_the_review_pages_with_comments_have_no_axe_violations(browser, live_server, conversation, locale):
    site = conversation["site"]
    pages = {
        "revision review with comments": f"/admin/articles/revision/{site.revision.pk}/change/",
        "article review with share links": f"/admin/articles/article/{site.article.pk}/review/",
    }
    problems = []
    for scheme in ("light", "dark"):
        problems += _axe_violations(
            browser,
            live_server.url,
            pages,
            color_scheme=scheme,
            user=site.moderator,
            live_server=live_server,
            locale=locale,
        )
    assert not problems, "axe-core found:\n" + "\n".join(problems)


def test_screenshots_for_the_readme(browser, live_server, conversation):
    """The README's pictures of the two screens, taken from the demo."""
    ARTIFACTS.mkdir(exist_ok=True)
    site = conversation["site"]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.add_cookies([_session_cookie(site.moderator, live_server)])
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/admin/articles/revision/{site.revision.pk}/change/#comments")
        page.locator("#comments").screenshot(path=str(ARTIFACTS / "review-comments.png"))
        outside = browser.new_context(viewport={"width": 1100, "height": 1400}, locale="en-GB").new_page()
        outside.goto(live_server.url + sharing.path_for(conversation["link"]))
        outside.screenshot(path=str(ARTIFACTS / "share-page.png"))
        outside.context.close()
    finally:
        context.close()
