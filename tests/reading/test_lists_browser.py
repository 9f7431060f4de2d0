"""In Chromium with JavaScript off: a reader pages through a source's citing articles and back."""

import pytest

from articles.reading import lists
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_paging_through_a_list_without_javascript(browser, live_server, monkeypatch):
    monkeypatch.setattr(lists, "ARTICLES_PER_PAGE", 2)
    moderator = factories.make_user("moderator", group="Moderator")
    factories.source(moderator, key="unsc-res-2100", title="Resolution 2100 (2013)")
    for n in range(5):
        article = factories.article(moderator, title=f"Deployment {n}", slug=f"deployment-{n}")
        factories.section(moderator, article, title="Arrival", anchor="arrival", body="Troops [@unsc-res-2100].")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/sources/unsc-res-2100/")
        titles = page.locator("h3.group-title a")
        assert titles.all_inner_texts() == ["Deployment 0", "Deployment 1"]
        pages = page.get_by_role("navigation", name="Pages of articles citing this source")
        for expected in (["Deployment 2", "Deployment 3"], ["Deployment 4"]):
            with page.expect_navigation():
                pages.get_by_role("link", name="Next page").click()
            assert titles.all_inner_texts() == expected
        assert pages.get_by_role("link", name="Next page").count() == 0
        assert "Page 3 of 3" in pages.inner_text()
        with page.expect_navigation():
            pages.get_by_role("link", name="Previous page").click()
        assert page.url.endswith("/sources/unsc-res-2100/?page=2")
        with page.expect_navigation():
            pages.get_by_role("link", name="Previous page").click()
        assert page.url.endswith("/sources/unsc-res-2100/")
        assert titles.all_inner_texts() == ["Deployment 0", "Deployment 1"]
    finally:
        context.close()
