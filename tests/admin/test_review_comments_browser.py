"""In Chromium: an outside reviewer's comment reaches the author; a passage comment follows an amendment."""

import pytest
from django.conf import settings as django_settings
from django.test import Client

from articles.models import ReviewComment
from articles.revisions import moderation, sharing
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT = 15_000
BODY = "The Council set up the mission in April 2013. Its mandate was renewed in June 2014. It left in 2023."


@pytest.fixture
def proposal(live_server, settings):
    settings.SITE_URL = live_server.url
    moderator = factories.make_user("moderator", group="Moderator")
    editor = factories.make_user("editor", group="Editor")
    article = factories.article(moderator, title="MINUSMA", slug="minusma")
    section = factories.section(
        moderator, article, title="Mandate", anchor="mandate", body="The mission began in 2013."
    )
    return moderation.propose(obj=section, author=editor, summary="Dates", data={**section.snapshot(), "body": BODY})


def _signed_in(browser, live_server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context()
    context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    return page


def test_an_outside_reviewers_comment_reaches_the_author(browser, live_server, proposal):
    link = sharing.share(moderator=proposal.get_object().live_revision.author, revisions=[proposal], label="Awa")
    outsider = browser.new_context().new_page()
    outsider.set_default_timeout(TIMEOUT)
    outsider.goto(live_server.url + sharing.path_for(link))
    assert outsider.get_by_role("heading", name="Proposed changes for review").is_visible()
    assert outsider.get_by_role("heading", name="The article with these changes").is_visible()
    assert outsider.get_by_role("button", name="Approve").count() == 0
    outsider.get_by_label("Your name").fill("Awa Diallo")
    outsider.get_by_label("Your e-mail").fill("awa@example.net")
    outsider.get_by_label("The passage you comment on (optional)").fill("renewed in June 2014")
    outsider.get_by_label("Your comment", exact=True).fill("Resolution 2164 renewed it, on 25 June 2014.")
    with outsider.expect_navigation():
        outsider.get_by_role("button", name="Send the comment").click()
    assert outsider.get_by_role("status").filter(has_text="Thank you.").is_visible()
    outsider.context.close()

    author = _signed_in(browser, live_server, proposal.author)
    author.goto(f"{live_server.url}/admin/articles/revision/{proposal.pk}/change/")
    thread = author.locator(".comment-thread").filter(has_text="Resolution 2164")
    assert thread.is_visible()
    assert "Awa Diallo" in thread.inner_text() and "outside reviewer" in thread.inner_text()
    assert thread.locator("mark").inner_text() == "renewed in June 2014"
    author.context.close()


SELECT_IN_DIFF = """
(words) => {
  // Select the words as a reader would, across the diff's <ins> and plain text, skipping removed words.
  const pre = document.querySelector("#proposal-changes [data-field='body'] .diff-text");
  const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
  const nodes = [];
  let node, text = "";
  while ((node = walker.nextNode())) {
    if (node.parentElement.closest("del, .visually-hidden")) continue;
    nodes.push([node, text.length]);
    text += node.data;
  }
  const at = text.indexOf(words);
  if (at < 0) return false;
  const point = (offset) => {
    for (const [n, from] of nodes) if (offset <= from + n.data.length) return [n, offset - from];
  };
  const range = document.createRange();
  range.setStart(...point(at));
  range.setEnd(...point(at + words.length));
  const selection = getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  pre.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
  return true;
}
"""


def _comment_on_selection(page, words, text):
    assert page.evaluate(SELECT_IN_DIFF, words)
    assert page.get_by_label("On the field (optional)").input_value() == "body"
    assert page.get_by_label("Quoted passage (optional)").input_value() == words
    assert "Passage selected" in page.locator("#comment-selection-status").inner_text()
    page.locator("#id_body").fill(text)
    with page.expect_navigation():
        page.get_by_role("button", name="Add the comment").click()


def test_a_passage_comment_follows_an_amendment_or_says_it_is_outdated(browser, live_server, proposal):
    moderator_page = _signed_in(browser, live_server, proposal.get_object().live_revision.author)
    review = f"{live_server.url}/admin/articles/revision/{proposal.pk}/change/"
    moderator_page.goto(review)
    _comment_on_selection(moderator_page, "renewed in June 2014", "Which resolution?")
    _comment_on_selection(moderator_page, "It left in 2023.", "Left when, exactly?")
    kept, gone = ReviewComment.objects.order_by("pk")
    assert kept.start == BODY.index("renewed in June 2014")

    # The author amends: a sentence before the first passage, the second passage rewritten.
    amended = "Resolution 2100 founded it. " + BODY.replace("It left in 2023.", "It withdrew by December 2023.")
    moderation.amend(revision=proposal, user=proposal.author, summary="Dates", data={**proposal.data, "body": amended})

    moderator_page.goto(review)
    first = moderator_page.locator(f"#comment-{kept.pk}")
    assert first.locator("mark").inner_text() == "renewed in June 2014"
    assert "Outdated" not in first.inner_text()
    second = moderator_page.locator(f"#comment-{gone.pk}")
    assert "Outdated" in second.inner_text()
    assert "These words are no longer in the proposed “Text”" in second.inner_text()
    kept.refresh_from_db()
    assert amended[kept.start :].startswith("renewed in June 2014")
    moderator_page.context.close()
