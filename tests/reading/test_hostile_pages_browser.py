"""Hostile Markdown in Chromium: the published pages, the staff preview and the editor's live preview.

Every payload of tests/hostile.py is published (through the moderation services), each in one of
the Markdown contexts in turn, and the pages are loaded with listeners for dialogs (alert/confirm/prompt), uncaught errors, console errors and
Content-Security-Policy violations. The DOM the browser built, after its own parsing, must hold no
script-capable element, no on* attribute and no javascript:/vbscript:/data: URL.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from articles.revisions import moderation
from tests import factories, hostile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT = 15_000
PAYLOADS_PER_SECTION = 30

RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push({directive: event.violatedDirective, blocked: event.blockedURI,
                               sample: event.sample});
});
"""

# Run in the page after the browser parsed it: what the DOM holds, not what the server sent.
DOM_AUDIT = """
(root) => {
  const scope = root ? document.querySelector(root) : document;
  const urlAttributes = new Set(["href", "src", "action", "formaction", "xlink:href", "background",
                                 "lowsrc", "dynsrc", "poster", "data", "codebase", "srcset"]);
  const problems = [];
  for (const el of scope.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on")) problems.push(`${el.tagName} ${name}`);
      if (name === "style") problems.push(`${el.tagName} style`);
      const value = attr.value.replace(/[\\x00-\\x20\\x7f]+/g, "");
      if (urlAttributes.has(name) && /^(javascript|vbscript|livescript|data):/i.test(value)) {
        problems.push(`${el.tagName} ${name}=${attr.value}`);
      }
    }
  }
  // Forms are the templates' own (search, corrections); rendered content is checked for them below.
  const active = "script, iframe, object, embed, style, frame, frameset, applet, base, svg, math, "
               + "template, noscript, meta[http-equiv], video, audio"
               + (root ? "" : ", .prose form, .prose input, .prose button, .prose textarea, .prose select");
  for (const el of scope.querySelectorAll(active)) {
    if (el.matches('script[type="application/ld+json"]') && !root) {
      // Structured data is never run; content must not have closed it early or broken its JSON.
      try { JSON.parse(el.textContent); continue; } catch (error) { /* reported below */ }
    }
    problems.push(el.outerHTML.slice(0, 200));
  }
  return problems;
}
"""


SETTLE_IMAGES = """
async () => {
  const images = [...document.images];
  for (const image of images) image.loading = "eager";
  await Promise.all(images.map((image) => image.complete ? null : new Promise((done) => {
    image.addEventListener("load", done, {once: true});
    image.addEventListener("error", done, {once: true});
    setTimeout(done, 3000);
  })));
  return images.length;
}
"""


class Watched:
    """A page with every listener this test needs."""

    def __init__(self, page):
        self.page = page
        self.dialogs, self.errors = [], []
        self.missing_images = 0
        self.images = 0
        page.set_default_timeout(TIMEOUT)
        # Payload images point at made-up paths (x.png, /, …): answer those 404s here rather than
        # have the test server render a 404 page for each. The browser still sees a failed image.
        page.route("**/*", self._route)
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("console", self._console)
        page.add_init_script(RECORD_CSP_VIOLATIONS)

    def _route(self, route):
        request = route.request
        path = request.url.split("://", 1)[-1].partition("/")[2]
        if request.resource_type == "image" and not path.startswith(("static/", "media/")):
            self.missing_images += 1
            route.fulfill(status=404, body="")
        else:
            route.continue_()

    def _dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _console(self, message):
        if message.type != "error":
            return
        text = message.text
        # Relative image URLs from the payloads (x.png, /, ...) are 404s; images from other hosts are
        # refused by the policy (counted below as img-src violations). Anything else is a failure.
        # The editor's preview frame runs no script: not even this test's own listener (the init script).
        if text.startswith("Blocked script execution in 'about:srcdoc' because the document's frame is sandboxed"):
            return
        if text.startswith("Failed to load resource: the server responded with a status of 404") or re.match(
            r"(Refused to load|Loading) the image .* Content Security Policy directive: \"img-src ", text
        ):
            return
        self.errors.append(text)

    def load(self, url):
        response = self.page.goto(url)
        assert response.status == 200, url
        # Load every lazy image now and wait until each has loaded or failed, so that any handler
        # on one would have had its chance to run.
        self.images += self.page.evaluate(SETTLE_IMAGES)

    def csp_violations(self):
        return self.page.evaluate("window.__cspViolations")

    def assert_inert(self, root=None, frame=None):
        """No script ran, nothing was blocked but images, and the DOM under ``root`` (of ``frame``) is inert."""
        violations = self.csp_violations()
        blocked_images = [v for v in violations if v["directive"].startswith("img-src")]
        assert [v for v in violations if v not in blocked_images] == []
        assert self.dialogs == []
        assert self.errors == []
        assert (frame or self.page).evaluate(DOM_AUDIT, root) == []
        return len(blocked_images)


@pytest.fixture
def hostile_site(db):
    moderator = factories.make_user("moderator", group="Moderator")
    editor = factories.make_user("editor", group="Editor")
    factories.source(
        moderator, key="x", title="<script>alert('source')</script>", publisher='<img src=x onerror="alert(1)">'
    )
    topic = factories.topic(
        moderator,
        name="<svg onload=alert(1)>",
        slug="hostile-topic",
        body="\n\n".join(map(hostile.storable, hostile.owasp_vectors())),
    )
    article = factories.article(
        moderator,
        title="Hostile <script>alert(1)</script>",
        slug="hostile",
        dek="\n\n".join(map(hostile.storable, hostile.owasp_vectors()[:40])),
    )
    # Each payload in one of the Markdown contexts in turn (as text, link, image, autolink, table cell,
    # footnote, citation…): what reaches the browser is what the sanitiser let through of each.
    # (A citation's place is at most 200 characters: a longer payload stays plain text there.)
    contexts = hostile.MARKDOWN_CONTEXTS
    payloads = []
    for i, payload in enumerate(hostile.payloads()):
        context = contexts[i % len(contexts)]
        if context.startswith("[@") and len(payload) > 150:
            context = "{p}"
        payloads.append(context.replace("{p}", hostile.storable(payload)))
    sections = []
    for i in range(0, len(payloads), PAYLOADS_PER_SECTION):
        sections.append(
            factories.section(
                moderator,
                article,
                topics=[topic],
                title=f"Batch {i} <img src=x onerror=alert({i})>",
                anchor=f"batch-{i}",
                position=i,
                body="\n\n".join(payloads[i : i + PAYLOADS_PER_SECTION]),
            )
        )
    pending = moderation.propose(
        obj=sections[0],
        author=editor,
        summary="<script>alert('summary')</script>",
        data={**sections[0].snapshot(), "body": "\n\n".join(map(hostile.storable, hostile.naughty_strings()))},
    )
    return {
        "moderator": moderator,
        "editor": editor,
        "article": article,
        "topic": topic,
        "pending": pending,
        "sections": sections,
    }


def signed_in(browser, live_server, user):
    """A browser context carrying ``user``'s session."""
    client = Client()
    client.force_login(user)
    context = browser.new_context()
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return context


def test_hostile_content_runs_no_script_anywhere_it_is_shown(browser, live_server, hostile_site):
    """One site built once (publishing 25 sections takes a while), three places it is read."""
    check_published_pages(browser, live_server, hostile_site)
    check_staff_preview_and_review(browser, live_server, hostile_site)
    check_the_editors_live_preview(browser, live_server, hostile_site)


def check_published_pages(browser, live_server, hostile_site):
    context = browser.new_context()
    watched = Watched(context.new_page())
    blocked = 0
    watched.load(live_server.url + "/articles/hostile/")
    blocked += watched.assert_inert()
    assert watched.page.locator(".article-section").count() == len(hostile_site["sections"])
    for path in ("/topics/hostile-topic/", "/sources/x/", "/", "/topics/"):
        watched.load(live_server.url + path)
        blocked += watched.assert_inert()
    context.close()
    print(
        f"hostile pages: {len(hostile.payloads())} payloads, {watched.images} images settled "
        f"({watched.missing_images} answered 404, {blocked} from other hosts blocked by the CSP)"
    )


def check_staff_preview_and_review(browser, live_server, hostile_site):
    pending = hostile_site["pending"]
    context = signed_in(browser, live_server, hostile_site["moderator"])
    watched = Watched(context.new_page())
    watched.load(f"{live_server.url}/articles/hostile/preview/{pending.pk}/")
    watched.assert_inert()
    # The review page is the admin's: its own scripts are allowed, so only the diff is audited.
    watched.load(f"{live_server.url}/admin/articles/revision/{pending.pk}/")
    watched.assert_inert(root="#content-main")
    context.close()


def check_the_editors_live_preview(browser, live_server, hostile_site):
    context = signed_in(browser, live_server, hostile_site["editor"])
    watched = Watched(context.new_page())
    watched.load(f"{live_server.url}/admin/articles/section/add/")
    page = watched.page
    page.wait_for_selector(".field-body .markdownx[data-editor-ready]")
    textarea = page.locator(".field-body textarea.markdownx-editor")
    # The preview is a page of its own in a frame that may run no script at all.
    frame_element = page.locator(".field-body .markdownx-preview iframe")
    assert frame_element.get_attribute("sandbox") == "allow-same-origin"
    body = "\n\n".join(hostile.storable(p) for p in hostile.payloads())
    with page.expect_response("**/markdownx/markdownify/") as answer:
        textarea.fill(body + "\n\nEND-OF-PAYLOADS")
    assert answer.value.status == 200
    page.frame_locator(".field-body .markdownx-preview iframe").get_by_text("END-OF-PAYLOADS").wait_for()
    frame = frame_element.element_handle().content_frame()
    frame.evaluate(SETTLE_IMAGES)
    watched.assert_inert(root="main", frame=frame)
    context.close()
