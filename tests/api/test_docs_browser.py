"""In Chromium: the API's docs page works under the site's CSP with files from this site only; the token page is accessible."""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import factories
from tests.reading.test_accessibility_browser import AXE, RUN_AXE, _session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))


def test_the_docs_page_shows_every_operation_and_loads_nothing_from_another_host(browser, live_server):
    moderator = factories.make_user("moderator", group="Moderator")
    factories.mandate_site(moderator)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    hosts, errors = set(), []
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{live_server.url}/api/v1/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=15_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert len(paths) == 19
        assert {"/api/v1/articles", "/api/v1/proposals/sections/{section_id}"} <= {p.strip() for p in paths}
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
        # A reader tries a read from the page itself.
        page.locator(".opblock-summary-path", has_text="/api/v1/sources/{key}/csl").click()
        page.get_by_role("button", name="Try it out").click()
        page.locator("input[placeholder='key']").fill("unsc-res-2100")
        page.get_by_role("button", name="Execute").click()
        page.wait_for_selector(".live-responses-table .response-col_status", timeout=15_000)
        assert "unsc-res-2100" in page.locator(".live-responses-table").inner_text()
        page.locator(".opblock-body").first.screenshot(path=str(ARTIFACTS / "api-docs-csl.png"))
    finally:
        context.close()
    assert hosts == {urlsplit(live_server.url).netloc}
    assert errors == []


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"], ids=["english", "french"])
def test_an_editor_makes_a_token_and_the_page_showing_it_is_accessible(browser, live_server, locale):
    editor = factories.make_user("editor", group="Editor")
    context = browser.new_context(bypass_csp=True, locale=locale)
    context.add_cookies([_session_cookie(editor, live_server)])
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/admin/articles/apitoken/add/")
        page.locator("#id_name").fill("Zotero sync")
        with page.expect_navigation():
            page.locator("input[name=_save]").click()
        token = page.locator("#api-token").input_value()
        assert token.startswith("mh_")
        page.add_script_tag(path=str(AXE))
        assert page.evaluate(RUN_AXE) == []
        page.goto(f"{live_server.url}/admin/articles/apitoken/")
        assert token[:9] in page.locator("#result_list").inner_text()
        page.add_script_tag(path=str(AXE))
        assert page.evaluate(RUN_AXE) == []
    finally:
        context.close()
