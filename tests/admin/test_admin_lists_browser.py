"""In Chromium at 1280 px: every admin list fits the window, and the forms start safe."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests import factories
from tests.page_types import demo_site
from tests.reading.test_accessibility_browser import _session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 1280
WIDTHS = """() => {
  const page = document.documentElement, results = document.querySelector("#changelist .results");
  const found = [["the page", page.scrollWidth, page.clientWidth]];
  if (results) found.push(["the list", results.scrollWidth, results.clientWidth]);
  return found;
}"""


def changelist_paths():
    return sorted(
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    )


def test_every_admin_list_fits_a_1280_px_window(browser, live_server, settings):
    settings.SITE_URL = live_server.url
    site = demo_site()
    root = factories.make_user("root", superuser=True)
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    context.add_cookies([_session_cookie(root, live_server)])
    page = context.new_page()
    too_wide = []
    try:
        for path in changelist_paths():
            page.goto(live_server.url + path)
            # The page itself, and the results table's own scrolling box (the admin lets it scroll).
            for what, scroll, client in page.evaluate(WIDTHS):
                if scroll > client:
                    too_wide.append(f"{path}: {what} has {scroll} px of content in {client} px")
        # The review queue shows what a moderator decides on, without scrolling sideways.
        page.goto(live_server.url + "/admin/articles/revision/?status=all")
        for column in ("column-summary", "column-size_of_change", "column-status_display"):
            header = page.locator(f"th.{column}")
            box = header.bounding_box() if header.is_visible() else None
            if box is None or box["x"] + box["width"] > WIDTH:
                too_wide.append(f"review queue: {column} is not within the window ({box})")
        # One "By author" filter, not two.
        titles = [t.strip().lower() for t in page.locator("#changelist-filter details > summary").all_inner_texts()]
        assert titles.count("by author") == 1, titles
    finally:
        context.close()
    assert site.revision.pk
    assert not too_wide, "wider than the window:\n" + "\n".join(too_wide)


def test_moderators_forms_start_unpublished_and_offer_no_delete_beside_the_parent_section(
    browser, live_server, settings
):
    settings.SITE_URL = live_server.url
    site = demo_site()
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    context.add_cookies([_session_cookie(site.moderator, live_server)])
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/admin/articles/section/{site.section.pk}/change/")
        assert page.locator("#id_publish_now").is_visible()
        assert not page.locator("#id_publish_now").is_checked(), "a save must not publish unless asked"
        assert page.locator("#id_parent").count() == 1
        assert page.locator(".field-parent .delete-related").count() == 0
        assert page.locator(".field-parent .add-related").count() == 1, "adding a parent is still offered"
        page.goto(f"{live_server.url}/admin/articles/article/{site.article.pk}/change/")
        assert not page.locator("#id_publish_now").is_checked()
        assert page.locator("[id$='-parent']").count() > 0
        assert page.locator(".field-parent .delete-related").count() == 0
    finally:
        context.close()
