"""Accessibility in Chromium: axe-core on every page type, in light and dark, and the keyboard paths.

axe-core (tests/vendor/axe.min.js, MPL-2.0, a test asset the site never serves) runs all its
rules but the experimental ones on each public page type, in English and in French, and on the
admin pages this project customised. The pages' Content-Security-Policy would block the injected
script, so the axe runs use a context with ``bypass_csp``; the keyboard tests use a normal one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.page_types import demo_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe.min.js"
TIMEOUT = 15_000

RUN_AXE = """
async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
  }));
}
"""


@pytest.fixture
def site(live_server, settings):
    settings.SITE_URL = live_server.url
    return demo_site()


def _session_cookie(user, live_server) -> dict:
    client = Client()
    client.force_login(user)
    return {
        "name": django_settings.SESSION_COOKIE_NAME,
        "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }


def _axe_violations(
    browser, base_url, pages: dict[str, str], *, color_scheme: str, user=None, live_server=None, locale: str = "en-GB"
) -> list[str]:
    """Run axe on each page; one readable line per failing element."""
    context = browser.new_context(bypass_csp=True, color_scheme=color_scheme, locale=locale)
    if user is not None:
        context.add_cookies([_session_cookie(user, live_server)])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    problems = []
    try:
        for name, path in pages.items():
            page.goto(base_url + path)
            page.add_script_tag(path=str(AXE))
            for violation in page.evaluate(RUN_AXE):
                nodes = violation["nodes"]
                targets = ", ".join(node["target"] for node in nodes[:5]) + (
                    f" and {len(nodes) - 5} more" if len(nodes) > 5 else ""
                )
                problems.append(
                    f"{name} ({path}, {color_scheme}): {violation['id']} [{violation['impact']}] "
                    f"{violation['help']}: {targets}\n    {nodes[0]['summary']}".replace("\n  ", "\n      ")
                )
    finally:
        context.close()
    return problems


@pytest.mark.parametrize("prefix", ["", "/fr"], ids=["english", "french"])
def test_every_public_page_type_has_no_axe_violations(browser, live_server, site, prefix):
    pages = site.public_pages(prefix)
    problems = []
    for scheme in ("light", "dark"):
        problems += _axe_violations(browser, live_server.url, pages, color_scheme=scheme)
    assert not problems, "axe-core found:\n" + "\n".join(problems)


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"], ids=["english", "french"])
def test_customised_admin_pages_have_no_axe_violations(browser, live_server, site, locale):
    problems = []
    for scheme in ("light", "dark"):
        problems += _axe_violations(
            browser,
            live_server.url,
            site.admin_pages(),
            color_scheme=scheme,
            user=site.moderator,
            live_server=live_server,
            locale=locale,
        )
    assert not problems, "axe-core found:\n" + "\n".join(problems)


# --- Keyboard ------------------------------------------------------------------------------


FOCUSED = (
    "() => { const el = document.activeElement; return {tag: el.tagName, id: el.id, cls: el.className, "
    "href: el.getAttribute('href'), outline: getComputedStyle(el).outlineStyle} }"
)


@pytest.mark.parametrize("prefix", ["", "/fr"], ids=["english", "french"])
def test_the_first_tab_reaches_the_skip_link_and_enter_moves_focus_to_the_main_content(page, live_server, site, prefix):
    page.goto(live_server.url + site.public_pages(prefix)["article"])
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    assert "skip-link" in focused["cls"] and focused["href"] == "#content"
    assert focused["outline"] != "none", "the focused skip link shows a focus outline"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED)["id"] == "content"
    # The next Tab continues inside the main content, not back in the header.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.getElementById('content').contains(document.activeElement)")


# Resolves once the page has not scrolled for a few frames (smooth scrolling has finished).
SCROLL_SETTLED = """
() => new Promise((done) => {
  let last = -1, still = 0;
  const tick = () => {
    if (scrollY === last) { if (++still > 5) return done(scrollY); } else { still = 0; last = scrollY; }
    requestAnimationFrame(tick);
  };
  tick();
})
"""


def _tab_to(page, selector: str, limit: int = 200) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    pytest.fail(f"Tab never reached {selector}")


def test_table_of_contents_links_are_reached_by_tab_and_move_to_their_section(page, live_server, site):
    url = live_server.url + site.public_pages()["article"]
    page.goto(url)
    toc_links = page.locator(".toc a")
    count = toc_links.count()
    assert count >= 3
    targets = [toc_links.nth(i).get_attribute("href") for i in range(count)]
    reached = []
    for _ in range(200):  # Tab through the page; the header has a handful of stops before the contents.
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if page.evaluate("() => !!document.activeElement.closest('.toc')"):
            reached.append(focused["href"])
            assert focused["outline"] != "none", f"{focused['href']} shows a focus outline"
        elif reached:
            break
    assert reached == targets, "every entry of the contents is a Tab stop, in order"

    # From the top again, as a reader would: Tab to an entry, Enter, and the page is at its section.
    target = targets[1]
    page.goto(url)
    _tab_to(page, f".toc a[href='{target}']")
    page.evaluate(SCROLL_SETTLED)
    page.keyboard.press("Enter")
    assert page.evaluate("() => location.hash") == target
    page.evaluate(SCROLL_SETTLED)
    top = page.evaluate("(id) => document.querySelector(id).getBoundingClientRect().top", target)
    assert -5 <= top < page.viewport_size["height"] / 2, f"{target} is scrolled into view (its top is at {top}px)"
    page.keyboard.press("Tab")
    assert page.evaluate(f"() => document.querySelector({target!r}).contains(document.activeElement)"), (
        "focus continues inside the section"
    )


# --- The French article at phone and desktop widths -----------------------------------------


@pytest.mark.parametrize("width", [390, 1280])
def test_the_french_article_fits_phone_and_desktop_widths(browser, live_server, site, width):
    """French labels are longer than English ones: nothing may overflow sideways."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(live_server.url + site.public_pages("/fr")["article"])
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        # Nor past the header's margins: the search box, its button and the switcher stay inside.
        outside = page.evaluate("""() => {
          const inner = document.querySelector('.site-header-inner');
          const right = inner.getBoundingClientRect().right - parseFloat(getComputedStyle(inner).paddingRight);
          return [...inner.querySelectorAll('a, input, button')]
            .filter((el) => el.getBoundingClientRect().right > right + 0.5).map((el) => el.outerHTML.slice(0, 80));
        }""")
        assert not outside, outside
        switcher = page.get_by_role("navigation", name="Langue")
        assert switcher.get_by_role("link", name="English").is_visible()
        assert page.get_by_role("heading", name="Sommaire").count() == 1
        Path("test-artifacts").mkdir(exist_ok=True)
        page.screenshot(path=f"test-artifacts/article-fr-{width}.png")
    finally:
        context.close()
