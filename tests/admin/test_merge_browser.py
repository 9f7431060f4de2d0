"""In Chromium: two editors change different paragraphs of one section; the moderator approves both."""

import pytest

from articles.models import Revision
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BODY = "Paragraph one: MINUSMA was set up in 2013.\n\nParagraph two: the G5 Sahel force followed in 2017.\n"


def sign_in(page, live_server, username, next_path):
    page.goto(f"{live_server.url}/admin/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", factories.PASSWORD)
    page.click("input[type=submit]")


def edit_body(browser, live_server, username, section, old, new, summary):
    page = browser.new_page()
    sign_in(page, live_server, username, f"/admin/articles/section/{section.pk}/change/")
    page.fill("#id_body", page.input_value("#id_body").replace(old, new))
    page.fill("#id_edit_summary", summary)
    return page


def test_two_editors_different_paragraphs_both_reach_readers(browser, live_server):
    moderator = factories.make_user("moderator", group="Moderator")
    factories.make_user("amina", group="Editor")
    factories.make_user("bakary", group="Editor")
    article = factories.article(moderator, title="Two editors", slug="two-editors")
    section = factories.section(moderator, article, title="Missions", body=BODY)

    # Both open the same version of the section before either saves.
    first = edit_body(
        browser, live_server, "amina", section, "set up in 2013", "established in April 2013", "Date of establishment"
    )
    second = edit_body(browser, live_server, "bakary", section, "followed in 2017", "was launched in 2017", "Wording")
    first.click("input[name=_save]")
    second.click("input[name=_save]")
    first.close(), second.close()
    one, two = Revision.objects.filter(status="pending").order_by("pk")

    page = browser.new_page()
    sign_in(page, live_server, "moderator", "/admin/articles/revision/")
    page.click(f"a[href='/admin/articles/revision/{one.pk}/change/']")
    page.get_by_role("button", name="Approve and publish").click()
    page.get_by_text("Approved and published").wait_for()
    # The next proposal in the queue opens by itself.
    page.wait_for_url(f"**/admin/articles/revision/{two.pk}/change/")
    assert page.get_by_text("This proposal is stale.").is_visible()
    assert page.get_by_role("heading", name="Merged result").is_visible()
    page.screenshot(path="test-artifacts/merge-review.png", full_page=True)
    page.get_by_role("button", name="Approve the merged version").click()
    page.get_by_text("Approved and published").wait_for()
    page.close()

    reader = browser.new_page()
    reader.goto(f"{live_server.url}/articles/two-editors/")
    text = reader.locator("article").inner_text()
    assert "established in April 2013" in text and "was launched in 2017" in text
    reader.close()
