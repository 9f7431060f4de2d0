"""In Chromium: an editor fixes a typo, a moderator approves it, readers see it — counting page loads and clicks."""

from urllib.parse import urlparse

import pytest
from django.core import mail

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TYPO = "The mission was deployd in July 2013."
FIX = "The mission was deployed in July 2013."


class Counted:
    """Wraps a page so that every navigation and every click is counted."""

    def __init__(self, page):
        self.page = page
        self.loads = 0
        self.clicks = 0
        page.on("framenavigated", self._navigated)

    def _navigated(self, frame):
        if frame == self.page.main_frame:
            self.loads += 1

    def click(self, locator):
        self.clicks += 1
        with self.page.expect_navigation():
            locator.click()

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

    # The editor is reading the public page and spots the typo.
    editor_page = browser.new_page()
    editor_page.goto(article_url)
    editor_view = Counted(editor_page)
    editor_view.click(editor_page.get_by_role("link", name="Edit section “Arrival”"))
    editor_page.fill("#id_username", "editor")
    editor_page.fill("#id_password", factories.PASSWORD)
    editor_view.click(editor_page.locator("input[type=submit]"))
    editor_page.fill("#id_body", FIX)
    editor_page.fill("#id_edit_summary", "Fix a typo")
    editor_view.click(editor_page.locator("input[name=_save]"))
    assert "Submitted for review" in editor_page.content()
    editor_page.close()
    run_worker()  # the notification e-mail goes out in the background

    # The moderator follows the link in the notification e-mail.
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/admin/articles/revision/" in line)
    moderator_page = browser.new_page()
    moderator_view = Counted(moderator_page)
    moderator_view.open_link(live_server.url + urlparse(link.split()[-1]).path)
    moderator_page.fill("#id_username", "moderator")
    moderator_page.fill("#id_password", factories.PASSWORD)
    moderator_view.click(moderator_page.locator("input[type=submit]"))
    assert moderator_page.locator(".diff-text ins").first.inner_text().strip() == "deployed"
    assert moderator_page.locator(".diff-text del").first.inner_text().strip() == "deployd"
    moderator_page.screenshot(path="test-artifacts/review.png", full_page=True)
    moderator_view.click(moderator_page.get_by_role("button", name="Approve and publish"))
    assert "Approved and published" in moderator_page.content()
    moderator_page.close()

    reader = browser.new_page()
    reader.goto(article_url)
    assert FIX in reader.content() and TYPO not in reader.content()
    reader.close()

    loads = editor_view.loads + moderator_view.loads
    clicks = editor_view.clicks + moderator_view.clicks
    print(f"page loads: {loads}, clicks: {clicks}")
    assert loads <= 6 and clicks <= 8
