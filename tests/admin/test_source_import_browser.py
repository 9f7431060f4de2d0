"""In Chromium: an editor downloads a source's BibTeX, then imports a Zotero-style file from the source list."""

import pytest

from articles.models import PublicationState, Revision, Source
from tests import factories
from tests.reading.test_accessibility_browser import AXE, RUN_AXE, _session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZOTERO = r"""
@book{traore_sahel_2021,
    title = {Le {Sahel} en guerre},
    author = {Traor{\'e}, Aminata},
    publisher = {Karthala},
    year = {2021},
    isbn = {978-2-8111-2345-6},
}
@techreport{un_again,
    title = {Resolution 2100 (2013)},
    institution = {United Nations Security Council},
    number = {S/RES/2100 (2013)},
    year = {2013},
}
"""


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"], ids=["english", "french"])
def test_an_editor_imports_a_file_and_sees_what_was_proposed_and_skipped(browser, live_server, tmp_path, locale):
    moderator = factories.make_user("moderator", group="Moderator")
    editor = factories.make_user("editor", group="Editor")
    factories.source(moderator, key="unsc-res-2100", title="Resolution 2100 (2013)", url="https://un.org/r2100")
    context = browser.new_context(bypass_csp=True, locale=locale)
    context.add_cookies([_session_cookie(editor, live_server)])
    page = context.new_page()
    try:
        # The source's own file, as a reader's browser downloads it.
        page.goto(f"{live_server.url}/sources/unsc-res-2100/")
        with page.expect_download() as download:
            page.get_by_role("link", name="BibTeX").click()
        assert download.value.suggested_filename == "unsc-res-2100.bib"
        assert "@techreport{unsc-res-2100," in download.value.path().read_text()

        page.goto(f"{live_server.url}/admin/articles/source/")
        import_link = "Import citations" if locale == "en-GB" else "Importer des références"
        page.get_by_role("link", name=import_link).click()
        bib = tmp_path / "zotero.bib"
        bib.write_text(ZOTERO)
        page.set_input_files("input[type=file]", str(bib))
        with page.expect_navigation():
            page.locator("input[type=submit]").click()
        text = page.locator("#content-main").inner_text()
        if locale == "en-GB":
            assert "1 source proposed" in text and "1 duplicate skipped" in text
            assert "same title as the source “unsc-res-2100”" in text
        else:
            assert "1 source proposée" in text and "1 doublon ignoré" in text
            assert "même titre que la source « unsc-res-2100 »" in text
        assert "Le Sahel en guerre" in text
        page.add_script_tag(path=str(AXE))
        assert page.evaluate(RUN_AXE) == []
    finally:
        context.close()
    source = Source.objects.get(key="traore_sahel_2021")
    assert source.state == PublicationState.DRAFT and source.authors == ["Aminata Traoré"]
    assert Revision.objects.for_object(source).pending().get().author == editor
