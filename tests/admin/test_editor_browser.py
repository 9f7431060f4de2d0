"""The admin's Markdown editor (static/articles/admin/markdown-editor.js) in a real browser.

Live preview, uploads with readable errors, no keyboard trap, inline rows added later, and no
console errors or Content-Security-Policy violations caused by the editor.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from articles.models import Figure, PublicationState
from tests import factories

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
EDITOR_SCRIPT = "markdown-editor.js"
TIMEOUT = 10_000
# The browser logs every non-2xx answer: the refused upload is the test's own doing, and the
# admin has no favicon. Anything else (a missing stylesheet or icon, a failing preview) counts.
EXPECTED_CONSOLE_ERROR = re.compile(
    r"^Failed to load resource: the server responded with a status of "
    r"(400 \(Bad Request\) @ \S+/markdownx/upload/|404 \(Not Found\) @ \S+/favicon\.ico)$"
)

# Init scripts run outside the page's CSP; they only listen.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push({
    directive: event.violatedDirective, blocked: event.blockedURI,
    source: event.sourceFile, line: event.lineNumber, sample: event.sample,
  });
});
"""

MARKDOWN = """Timbuktu was a centre of **scholarship** for centuries.

| City | Founded |
|------|---------|
| Djenné | 250 BC |
| Timbuktu | 1100 |
"""


def png_bytes(size=(120, 80), colour=(20, 110, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def editor_user(db):
    return factories.make_user("browser-editor", group="Editor")


@pytest.fixture
def article(db):
    moderator = factories.make_user("browser-moderator", group="Moderator")
    return factories.article(moderator, title="The Mali Empire")


@pytest.fixture
def watched_page(page):
    """The page, recording console errors, uncaught exceptions and CSP violations."""
    page.set_default_timeout(TIMEOUT)
    page.console_errors = []
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and page.console_errors.append(f"{message.text} @ {message.location.get('url', '')}")
        ),
    )
    page.on("pageerror", lambda error: page.console_errors.append(f"uncaught: {error}\n{error.stack or ''}"))
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    return page


def sign_in(page, live_server, user, next_path):
    page.goto(f"{live_server.url}/admin/login/?next={next_path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", factories.PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_path}")


def assert_editor_caused_no_errors(page):
    violations = page.evaluate("window.__cspViolations")
    ours = [v for v in violations if EDITOR_SCRIPT in (v["source"] or "")]
    assert ours == [], ours
    # The admin pages themselves must be clean too: any violation would break a feature.
    assert violations == [], violations
    assert [e for e in page.console_errors if EDITOR_SCRIPT in e] == []
    unexpected = [e for e in page.console_errors if not EXPECTED_CONSOLE_ERROR.search(e)]
    assert unexpected == [], "\n".join(unexpected)


def test_section_editor_preview_keyboard_and_uploads(live_server, watched_page, editor_user, article):
    page = watched_page
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, live_server, editor_user, "/admin/articles/section/add/")

    container = page.locator(".field-body .markdownx")
    textarea = container.locator("textarea.markdownx-editor")
    status = container.locator(".markdown-editor-status")
    page.wait_for_selector(".field-body .markdownx[data-editor-ready]")

    # Set up once, with a heading for the preview and a way to upload without dragging.
    assert page.locator(".field-body .markdown-editor-preview-heading").count() == 1
    assert container.get_by_text("Preview (as readers will see it)").is_visible()
    upload_button = container.get_by_role("button", name="Upload image…")
    assert upload_button.is_visible()
    assert upload_button.get_attribute("type") == "button"
    assert status.get_attribute("aria-live") == "polite"

    # Live preview, through the readers' renderer.
    textarea.click()
    textarea.fill(MARKDOWN)
    frame = container.frame_locator(".markdownx-preview iframe")
    frame.locator("strong", has_text="scholarship").wait_for()
    assert frame.locator("table td", has_text="Djenné").count() == 1

    # No keyboard trap: Tab and Shift+Tab leave the textarea, and insert nothing.
    before = textarea.input_value()
    textarea.focus()
    page.keyboard.press("Tab")
    assert not textarea.evaluate("el => el === document.activeElement")
    textarea.focus()
    page.keyboard.press("Shift+Tab")
    assert not textarea.evaluate("el => el === document.activeElement")
    assert textarea.input_value() == before

    # Ctrl+] indents the current line; Ctrl+[ takes it back.
    textarea.focus()
    textarea.evaluate("el => el.setSelectionRange(0, 0)")
    page.keyboard.press("Control+BracketRight")
    assert textarea.input_value().startswith("    Timbuktu")
    page.keyboard.press("Control+BracketLeft")
    assert textarea.input_value() == before

    # A file that is not an image: the server's message, shown under the editor, not in the text.
    textarea.evaluate("el => el.setSelectionRange(el.value.length, el.value.length)")
    container.locator("input[type=file]").set_input_files(
        {"name": "x.png", "mimeType": "image/png", "buffer": b"<!doctype html><script>alert(1)</script>"}
    )
    page.wait_for_function("el => el.classList.contains('is-error')", arg=status.element_handle())
    assert status.is_visible()
    assert "not an image" in status.inner_text()
    assert "Invalid response" not in textarea.input_value()
    assert "not an image" not in textarea.input_value()
    assert textarea.input_value() == before
    assert Figure.objects.count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    container.screenshot(path=str(ARTIFACTS / "editor-upload-error.png"))

    # A real image: inserted at the cursor as Markdown, stored as a draft figure.
    container.locator("input[type=file]").set_input_files(
        {"name": "Niger river.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    page.wait_for_function("el => el.value.includes('](/media/figures/')", arg=textarea.element_handle())
    value = textarea.input_value()
    assert re.search(r"\n\n!\[[^\]]*\]\(/media/figures/[\w-]+\.png\)\n$", value), value
    assert value.startswith(before.rstrip("\n"))
    assert "is-success" in status.get_attribute("class")
    assert "Invalid response" not in value
    assert Figure.objects.get().state == PublicationState.DRAFT
    # The preview shows it through the staff view: its public address answers 404 until approval.
    uploaded = frame.locator("img[src^='/admin/pending-figures/figures/']")
    uploaded.wait_for(state="attached")
    page.wait_for_function("img => img.complete && img.naturalWidth === 120", arg=uploaded.element_handle())

    page.screenshot(path=str(ARTIFACTS / "editor.png"), full_page=True)
    assert_editor_caused_no_errors(page)


DROP_FILE = """([selector, bytes, name, type]) => {
  const data = new DataTransfer();
  data.items.add(new File([new Uint8Array(bytes)], name, { type }));
  const target = document.querySelector(selector);
  target.dispatchEvent(new DragEvent("dragover", { dataTransfer: data, bubbles: true, cancelable: true }));
  return target.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
}"""

PASTE_FILE = """([selector, bytes, name, type]) => {
  const data = new DataTransfer();
  data.items.add(new File([new Uint8Array(bytes)], name, { type }));
  const target = document.querySelector(selector);
  return target.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
}"""


def test_drop_and_paste_upload_images(live_server, watched_page, editor_user, article):
    page = watched_page
    sign_in(page, live_server, editor_user, "/admin/articles/section/add/")
    page.wait_for_selector(".field-body .markdownx[data-editor-ready]")
    textarea = page.locator(".field-body textarea.markdownx-editor")
    status = page.locator(".field-body .markdown-editor-status")
    textarea.fill("First paragraph.")
    textarea.blur()

    # Dropped: the browser must not open the file (the drop is handled), the image lands in the text.
    handled = page.evaluate(DROP_FILE, [".field-body textarea", list(png_bytes()), "dropped.png", "image/png"])
    assert handled is False  # default prevented
    page.wait_for_function(
        "el => (el.value.match(/\\]\\(\\/media\\/figures\\//g) || []).length === 1", arg=textarea.element_handle()
    )
    assert textarea.input_value().startswith("First paragraph.\n\n![](/media/figures/")  # alt text: not the file name

    # Pasted from the clipboard.
    page.evaluate(PASTE_FILE, [".field-body textarea", list(png_bytes(colour=(0, 0, 200))), "pasted.png", "image/png"])
    page.wait_for_function("el => el.value.includes('![](/media/figures/pasted')", arg=textarea.element_handle())

    # A dropped file that is not an image: refused with the server's words, text untouched.
    before = textarea.input_value()
    page.evaluate(
        DROP_FILE, [".field-body .markdownx-preview", list(b"%PDF-1.4 not really"), "notes.pdf", "application/pdf"]
    )
    page.wait_for_function("el => el.classList.contains('is-error')", arg=status.element_handle())
    assert "notes.pdf" in status.inner_text()
    assert textarea.input_value() == before
    assert Figure.objects.count() == 2
    assert_editor_caused_no_errors(page)


def test_the_csp_recorder_sees_violations(live_server, watched_page, editor_user, article):
    """Guards the guard: an inline style attribute is what the policy refuses."""
    page = watched_page
    sign_in(page, live_server, editor_user, "/admin/articles/section/add/")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__cspViolations")[0]["directive"].startswith("style-src")


def test_editor_stacks_on_narrow_screens(live_server, watched_page, editor_user, article):
    page = watched_page
    page.set_viewport_size({"width": 480, "height": 900})
    sign_in(page, live_server, editor_user, "/admin/articles/section/add/")
    page.wait_for_selector(".field-body .markdownx[data-editor-ready]")

    text_box = page.locator(".field-body textarea.markdownx-editor").bounding_box()
    preview_box = page.locator(".field-body .markdownx-preview").bounding_box()
    assert preview_box["y"] >= text_box["y"] + text_box["height"]
    assert text_box["x"] + text_box["width"] <= 480
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "editor-narrow.png"), full_page=True)
    assert_editor_caused_no_errors(page)


def test_side_by_side_on_wide_screens(live_server, watched_page, editor_user, article):
    page = watched_page
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, live_server, editor_user, "/admin/articles/section/add/")
    page.wait_for_selector(".field-body .markdownx[data-editor-ready]")

    text_box = page.locator(".field-body textarea.markdownx-editor").bounding_box()
    preview_box = page.locator(".field-body .markdownx-preview").bounding_box()
    assert preview_box["x"] >= text_box["x"] + text_box["width"]
    assert abs(preview_box["y"] - text_box["y"]) < 40


def test_rows_added_with_add_another_get_an_editor(live_server, watched_page, editor_user, article):
    page = watched_page
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, live_server, editor_user, f"/admin/articles/article/{article.pk}/change/")

    # Django's hidden template row is left alone, so that its copies start clean.
    assert page.locator(".empty-form .markdownx[data-editor-ready]").count() == 0

    page.get_by_text("Add another Section").click()
    page.get_by_text("Add another Section").click()
    rows = page.locator(".inline-related:not(.empty-form) .field-body .markdownx")
    rows.nth(1).wait_for()
    for index in range(2):
        row = rows.nth(index)
        assert row.get_attribute("data-editor-ready") is not None
        # Set up once: one heading, one status line and one button per row.
        assert row.locator(".markdown-editor-preview-heading").count() == 1
        assert row.get_by_role("button", name="Upload image…").count() == 1

    second = rows.nth(1)
    second.locator("textarea").fill("A new section about **the Niger**.")
    second.frame_locator(".markdownx-preview iframe").locator("strong", has_text="the Niger").wait_for()
    assert rows.nth(0).frame_locator(".markdownx-preview iframe").locator("strong").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "editor-inline.png"), full_page=True)

    second.locator("textarea").focus()
    page.keyboard.press("Tab")
    assert not second.locator("textarea").evaluate("el => el === document.activeElement")
    assert_editor_caused_no_errors(page)


def test_without_javascript_the_textarea_still_works(live_server, browser, editor_user, article):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, editor_user, "/admin/articles/section/add/")
        textarea = page.locator(".field-body textarea.markdownx-editor")
        textarea.fill("Plain **text**")
        assert textarea.input_value() == "Plain **text**"
        assert not page.locator(".field-body .markdownx-preview").is_visible()
    finally:
        context.close()


def test_only_the_project_editor_script_is_loaded(live_server, watched_page, editor_user, article):
    page = watched_page
    sign_in(page, live_server, editor_user, "/admin/articles/section/add/")

    scripts = page.eval_on_selector_all("script[src]", "nodes => nodes.map(n => n.getAttribute('src'))")
    assert any(src.endswith("articles/admin/markdown-editor.js") for src in scripts)
    assert not [src for src in scripts if "markdownx/js/markdownx" in src], scripts
