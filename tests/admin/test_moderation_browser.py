"""In Chromium: an editor fixes a typo, a moderator approves it, readers see it — counting page loads, clicks and fills.

Both start signed out: the editor on the public page, the moderator from the link in the
notification e-mail. Every page load counts (``load`` events, the result pages of form posts
included, the editor's first view of the article too), every click and every filled field.
"""

from urllib.parse import urlparse

import pytest
from django.core import mail

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TYPO = "The mission was deployd in July 2013."
FIX = "The mission was deployed in July 2013."
# The target: editor and moderator together.
MAX_LOADS, MAX_CLICKS = 7, 6


class Counted:
    """Wraps a page so that every page load, click and fill is counted."""

    def __init__(self, page):
        self.page = page
        self.loads = self.clicks = self.fills = 0
        page.on("load", self._loaded)

    def _loaded(self, _page):
        self.loads += 1

    def click(self, locator):
        self.clicks += 1
        with self.page.expect_navigation(wait_until="load"):
            locator.click()

    def fill(self, selector, value):
        self.fills += 1
        self.page.fill(selector, value)

    def open_link(self, url):
        """Following a link from outside the browser (the notification e-mail) is one click."""
        self.clicks += 1
        self.page.goto(url)


def test_typo_fix_from_public_page_to_readers_in_few_steps(browser, live_server, settings, run_worker):
    settings.SITE_URL = live_server.url
    moderator = factories.make_user("moderator", group="Moderator")
    factories.make_user("editor", group="Editor")
    article = factories.article(moderator, title="Deployments", slug="deployments")
    factories.section(moderator, article, title="Arrival", anchor="arrival", body=TYPO)
    article_url = f"{live_server.url}/articles/deployments/"

    # The editor, signed out, is reading the public page and spots the typo.
    editor_page = browser.new_context().new_page()
    editor = Counted(editor_page)
    editor_page.goto(article_url)
    assert editor_page.get_by_role("link", name="Edit section “Arrival”").count() == 0, "readers get no Edit link"
    editor.click(editor_page.get_by_role("link", name="Suggest a correction to “Arrival”"))
    editor.fill("#editor-username", "editor")
    editor.fill("#editor-password", factories.PASSWORD)
    editor.click(editor_page.get_by_role("button", name="Sign in and edit"))
    editor.fill("#id_body", FIX)
    editor.fill("#id_edit_summary", "Fix a typo")
    editor.click(editor_page.locator("input[name=_save]"))
    # Back on the public page, at the section, told that the change waits for review.
    assert urlparse(editor_page.url).path == "/articles/deployments/"
    assert "Submitted for review" in editor_page.locator(".messages").inner_text()
    assert TYPO in editor_page.content(), "readers still see the published text"
    editor_page.context.close()
    run_worker()  # the notification e-mail goes out in the background

    # The moderator, signed out, follows the link in the notification e-mail.
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/admin/articles/revision/" in line)
    url = link.split()[-1]
    assert url.startswith(live_server.url), "an absolute link"
    moderator_page = browser.new_context().new_page()
    moderator_view = Counted(moderator_page)
    moderator_view.open_link(url)
    moderator_view.fill("#id_username", "moderator")
    moderator_view.fill("#id_password", factories.PASSWORD)
    moderator_view.click(moderator_page.locator("input[type=submit]"))
    assert moderator_page.locator(".diff-text ins").first.inner_text().strip() == "deployed"
    assert moderator_page.locator(".diff-text del").first.inner_text().strip() == "deployd"
    moderator_page.screenshot(path="test-artifacts/review.png", full_page=True)
    moderator_view.click(moderator_page.get_by_role("button", name="Approve and publish"))
    assert "Approved and published" in moderator_page.content()
    moderator_page.context.close()

    reader = browser.new_context().new_page()
    reader.goto(article_url)
    assert FIX in reader.content() and TYPO not in reader.content()
    reader.context.close()

    loads = editor.loads + moderator_view.loads
    clicks = editor.clicks + moderator_view.clicks
    fills = editor.fills + moderator_view.fills
    counts = (
        f"editor {editor.loads} loads, {editor.clicks} clicks, {editor.fills} fills; "
        f"moderator {moderator_view.loads} loads, {moderator_view.clicks} clicks, {moderator_view.fills} fills; "
        f"together {loads} loads (target ≤ {MAX_LOADS}), {clicks} clicks (target ≤ {MAX_CLICKS}), {fills} fills"
    )
    print(counts)
    assert loads <= MAX_LOADS and clicks <= MAX_CLICKS, counts
