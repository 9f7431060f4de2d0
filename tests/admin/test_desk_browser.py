"""In Chromium: the admin index leads a moderator through the queue and shows an editor their
proposals; public pages offer "Edit" to signed-in editors only; the suggestion page looks like the site."""

from __future__ import annotations

import pytest

from articles.revisions import moderation
from tests import factories
from tests.reading.test_accessibility_browser import _session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(live_server, settings):
    settings.SITE_URL = live_server.url
    moderator = factories.make_user("moderator", group="Moderator")
    editor = factories.make_user("editor", group="Editor")
    article = factories.article(moderator, title="Deployments", slug="deployments")
    parts = [
        factories.section(moderator, article, title=f"Part {n}", anchor=f"part-{n}", body=f"Text {n}.", position=n)
        for n in range(3)
    ]
    proposals = [
        moderation.propose(
            obj=part, author=editor, summary=f"Change part {n}", data={**part.snapshot(), "body": f"New {n}."}
        )
        for n, part in enumerate(parts)
    ]
    return {"moderator": moderator, "editor": editor, "parts": parts, "proposals": proposals}


def signed_in(browser, live_server, user):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([_session_cookie(user, live_server)])
    return context.new_page()


def test_the_index_leads_the_moderator_from_proposal_to_proposal(browser, live_server, desk):
    first, second, third = desk["proposals"]
    moderation.reject(revision=third, moderator=desk["moderator"], reason="Unsourced claim.")
    page = signed_in(browser, live_server, desk["moderator"])
    page.goto(live_server.url + "/admin/")
    summary = page.locator(".waiting-work")
    assert summary.is_visible() and "2 proposals waiting" in summary.inner_text()
    assert summary.bounding_box()["y"] < page.locator("#content-main").bounding_box()["y"], "above the menu"
    page.screenshot(path="test-artifacts/admin-index.png")
    page.get_by_role("link", name="review the oldest").click()
    assert page.url.endswith(f"/admin/articles/revision/{first.pk}/change/")
    page.get_by_role("button", name="Approve and publish").click()
    page.wait_for_url(f"**/admin/articles/revision/{second.pk}/change/")
    assert "Next in the review queue: “Part 1”." in page.locator(".messagelist").inner_text()
    page.fill("#id_reason", "Please cite a source.")
    page.get_by_role("button", name="Reject").click()
    page.wait_for_url("**/admin/articles/revision/")
    assert "Nothing else is waiting in the review queue." in page.locator(".messagelist").inner_text()
    assert page.locator("h1").inner_text() == "Review queue"
    page.context.close()

    page = signed_in(browser, live_server, desk["editor"])
    page.goto(live_server.url + "/admin/")
    summary = page.locator(".waiting-work").inner_text()
    assert "proposals waiting" not in summary
    assert "Change part 2" in summary and "Unsourced claim." in summary
    assert "Change part 1" in summary and "Please cite a source." in summary
    page.context.close()


def test_edit_links_only_for_signed_in_editors_and_a_suggestion_page_in_the_sites_style(browser, live_server, desk):
    url = live_server.url + "/articles/deployments/"
    reader = browser.new_context().new_page()
    reader.goto(url)
    assert reader.get_by_role("link", name="Edit section “Part 0”").count() == 0
    assert reader.get_by_role("link", name="Suggest a correction to “Part 0”").is_visible()
    reader.context.close()

    editor = signed_in(browser, live_server, desk["editor"])
    editor.goto(url)
    edit = editor.get_by_role("link", name="Edit section “Part 0”")
    assert edit.is_visible()
    edit.click()
    assert "/admin/articles/section/" in editor.url and "next=" in editor.url
    editor.context.close()

    style = """(selector) => { const s = getComputedStyle(document.querySelector(selector));
        return [s.fontFamily, s.color, s.backgroundColor, s.borderTopColor, s.borderRadius]; }"""
    for scheme in ("light", "dark"):
        page = browser.new_context(color_scheme=scheme).new_page()
        page.goto(live_server.url + "/search/")
        search_button = page.evaluate(style, ".page-search .page-header .search-form button")
        search_box = page.evaluate(style, ".page-search .page-header .search-form input[type=search]")
        page.goto(url + "sections/part-0/suggest/")
        assert page.locator(".page .page-header h1").inner_text() == "Suggest a correction"
        page.screenshot(path=f"test-artifacts/suggest-{scheme}.png", full_page=True)
        assert page.evaluate(style, ".correction-form button") == search_button, scheme
        textarea = page.evaluate(style, "#id_problem")
        assert textarea[1:4] == search_box[1:4], f"{scheme}: the fields have the site's colours and borders"
        page.context.close()


def test_figure_proposals_on_the_review_page_pass_axe(browser, live_server, desk):
    from django.test import Client

    from articles.models import Figure, Revision
    from tests.admin.test_markdownx_endpoints import UPLOAD_URL, image_bytes, upload
    from tests.reading.test_accessibility_browser import _axe_violations

    client = Client()
    client.force_login(desk["editor"])
    response = client.post(UPLOAD_URL, {"image": upload("map.png", image_bytes("PNG"), "image/png")})
    figure = Figure.objects.get(pk=response.json()["figure_id"])
    part = desk["parts"][0]
    text = moderation.propose(
        obj=part,
        author=desk["editor"],
        summary="Add a map",
        data={**part.snapshot(), "body": "A map.\n\n" + response.json()["image_code"]},
    )
    pages = {
        "figure proposal": f"/admin/articles/revision/{Revision.objects.for_object(figure).get().pk}/change/",
        "text with its figure": f"/admin/articles/revision/{text.pk}/change/",
    }
    problems = []
    for scheme in ("light", "dark"):
        problems += _axe_violations(
            browser, live_server.url, pages, color_scheme=scheme, user=desk["moderator"], live_server=live_server
        )
    assert not problems, "axe-core found:\n" + "\n".join(problems)
