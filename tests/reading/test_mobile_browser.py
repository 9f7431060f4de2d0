"""Reading on a phone (390 px wide): a compact header, figures that open full size, tables that say they scroll.

On the demo article, which has a lead figure and a five-column table, in Chromium at the width
of a common phone.
"""

from __future__ import annotations

import os

import pytest

from tests.page_types import demo_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TIMEOUT = 15_000
# Set to a directory to keep a screenshot of each page checked (to look at, never committed).
SHOTS = os.environ.get("MOBILE_SCREENSHOTS", "")


@pytest.fixture
def site(live_server, settings):
    settings.SITE_URL = live_server.url
    return demo_site()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    yield page
    context.close()


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=False)


@pytest.mark.parametrize("prefix", ["", "/fr"])
def test_header_is_compact_and_keeps_its_navigation(site, live_server, phone, prefix):
    phone.goto(f"{live_server.url}{prefix}/articles/{site.article.slug}/")
    _shot(phone, f"article{prefix.replace('/', '-')}")
    header = phone.locator(".site-header").bounding_box()
    assert header["height"] <= 110, f"the header takes {header['height']} px of a 844 px screen"
    # Nothing hidden: every navigation link, the search box and the language switcher are on screen.
    for link in phone.locator(".site-nav a").all():
        assert link.is_visible()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # Search stays one tap away: a link to the search page, whose box is on screen.
    search = phone.locator(".site-header a.search-link")
    assert search.is_visible()
    assert search.bounding_box()["height"] >= 44
    search.click()
    phone.locator("#search-page-q").wait_for(state="visible")
    phone.go_back()
    assert phone.locator(".language-switcher a").first.is_visible()
    phone.wait_for_load_state()
    # Nothing wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_lead_figure_is_legible_and_opens_full_size(site, live_server, phone):
    phone.goto(f"{live_server.url}/articles/{site.article.slug}/")
    figure = phone.locator(".lead-figure")
    link = figure.locator("a.figure-full-size")
    assert link.count() == 1
    full_size = site.article.lead_figure.image.url
    assert link.get_attribute("href") == full_size
    assert link.get_attribute("aria-label") or link.locator(".visually-hidden").count()
    # Legible: the demo's wide timeline keeps about 700 px, in a box that scrolls sideways (its text
    # would be 4 px high squeezed into 390 px); the page itself does not scroll sideways.
    image = figure.locator("img").bounding_box()
    assert image["width"] >= 700
    media = figure.locator(".figure-media")
    assert media.evaluate("node => node.scrollWidth > node.clientWidth && getComputedStyle(node).overflowX") == "auto"
    assert figure.locator(".figure-scroll-hint").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    response = phone.request.get(live_server.url + full_size)
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/")
    _shot(phone, "lead-figure")


def test_wide_table_scrolls_inside_a_labelled_container(site, live_server, phone):
    from articles.models import Section

    # The table's section as published (rendered when it was approved).
    section = Section.objects.get(body__contains="| Resolution |")
    phone.goto(f"{live_server.url}/articles/{site.article.slug}/#{section.anchor}")
    scroller = phone.locator(f"#{section.anchor} .table-scroll")
    assert scroller.count() == 1
    assert scroller.locator("table").count() == 1
    scroller.scroll_into_view_if_needed()
    _shot(phone, "table")
    sizes = scroller.evaluate("node => [node.scrollWidth, node.clientWidth]")
    assert sizes[0] > sizes[1], "the demo table should be wider than a phone"
    # It says it scrolls: the right edge, which hides columns, is shaded.
    assert "gradient" in scroller.evaluate("node => getComputedStyle(node).backgroundImage")
    assert "local" in scroller.evaluate("node => getComputedStyle(node).backgroundAttachment")
    # Reachable with the keyboard (it scrolls with the arrow keys once focused), and named.
    assert scroller.get_attribute("tabindex") == "0"
    assert scroller.get_attribute("role") == "region"
    assert scroller.get_attribute("aria-label")
    scroller.focus()
    phone.keyboard.press("ArrowRight")
    phone.wait_for_function("node => node.scrollLeft > 0", arg=scroller.element_handle(), timeout=TIMEOUT)
    # Stored that way when published: the reading path adds nothing.
    assert 'class="table-scroll"' in Section.objects.get(pk=section.pk).body_html


def test_favicon(site, live_server, phone):
    phone.goto(f"{live_server.url}/")
    icons = phone.locator("link[rel~='icon']")
    assert icons.count() >= 2
    types = set()
    for href in (icon.get_attribute("href") for icon in icons.all()):
        assert href.startswith("/"), "icons come from this site"
        response = phone.request.get(live_server.url + href)
        assert response.status == 200, href
        types.add(response.headers["content-type"].split(";")[0])
    assert {"image/svg+xml", "image/png"} <= types
    # Browsers ask for /favicon.ico whatever the page says.
    assert phone.request.get(live_server.url + "/favicon.ico").status == 200
