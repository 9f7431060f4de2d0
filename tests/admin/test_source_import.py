"""Citations in: a BibTeX, RIS or CSL-JSON file uploaded in the admin becomes source proposals, duplicates skipped."""

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from articles.content.citation_formats import SOURCE_FIELDS, Reference, write
from articles.models import ModerationEvent, PublicationState, Revision, RevisionAction, RevisionStatus, Source
from articles.ops import demo
from articles.revisions import moderation
from tests import factories
from tests.page_types import demo_site

pytestmark = pytest.mark.django_db

URL = "/admin/articles/source/import/"
FIELDS = SOURCE_FIELDS


def upload(client, name, content, **data):
    content = content.encode() if isinstance(content, str) else content
    return client.post(URL, {"file": SimpleUploadedFile(name, content), **data})


def counts():
    return Source.objects.count(), Revision.objects.count(), ModerationEvent.objects.count()


def demo_file(fmt):
    refs = [Reference(**{name: source[name] for name in FIELDS if name in source}) for source in demo.SOURCES]
    return write(fmt, refs)


@pytest.mark.parametrize("fmt", ["bib", "ris", "json"])
def test_an_exported_file_comes_back_as_proposals_with_the_same_fields(editor_client, editor, fmt):
    response = upload(editor_client, f"demo.{fmt}", demo_file(fmt))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{len(demo.SOURCES)} sources proposed" in html
    for expected in demo.SOURCES:
        source = Source.objects.get(key=expected["key"])
        assert source.state == PublicationState.DRAFT  # readers see nothing until a moderator approves
        for name in FIELDS:
            assert getattr(source, name) == expected.get(name, source._meta.get_field(name).get_default()), name
        revision = Revision.objects.for_object(source).get()
        assert (revision.status, revision.action, revision.author) == (RevisionStatus.PENDING, "create", editor)
        assert revision.summary == f"Imported from demo.{fmt}"
        assert revision.data["title"] == expected["title"]


@pytest.mark.parametrize("fmt", ["bib", "ris", "json"])
def test_the_demo_bibliography_downloaded_and_uploaded_again_is_all_duplicates(client, fmt):
    site = demo_site()
    exported = client.get(f"/articles/{site.article.slug}/bibliography.{fmt}").content
    single = client.get(f"/sources/{site.source.key}/cite.{fmt}").content
    client.force_login(site.editor)
    before = counts()
    response = upload(client, f"bibliography.{fmt}", exported)
    html = response.content.decode()
    cited = Source.objects.cited_in_article(site.article).count()
    assert "0 sources proposed" in html
    assert f"{cited} duplicates skipped" in html
    assert f"as the source “{site.source.key}”" in html
    assert counts() == before
    assert "1 duplicate skipped" in upload(client, f"one.{fmt}", single).content.decode()
    assert counts() == before


def test_duplicates_by_doi_isbn_url_and_title_against_the_site_and_within_the_file(editor_client, moderator):
    factories.source(moderator, key="jezequel", title="Le Mali en crise", identifier="2-07-036822-X")
    factories.source(moderator, key="smith", title="Other", identifier="https://doi.org/10.1000/ABC")
    factories.source(moderator, key="minusma", title="Mandate", kind="web", url="https://www.minusma.org/mandat/")
    factories.source(moderator, key="history", title="A History of Mali")
    text = """
@book{a, title = {Mali en crise, le}, isbn = {978-2-07-036822-8}}
@article{b, title = {Something}, doi = {10.1000/abc}}
@online{c, title = {Le mandat}, url = {http://minusma.org/mandat}}
@book{d, title = {A history of MALI!}}
@book{e, title = {Brand new}, doi = {10.5555/new}}
@book{f, title = {Brand new again}, doi = {10.5555/NEW}}
"""
    before = Source.objects.count()
    html = upload(editor_client, "zotero.bib", text).content.decode()
    assert "1 source proposed" in html
    assert "5 duplicates skipped" in html
    assert "same ISBN as the source “jezequel”" in html
    assert "same DOI as the source “smith”" in html
    assert "same URL as the source “minusma”" in html
    assert "same title as the source “history”" in html
    assert "same DOI as the entry “e” earlier in the file" in html
    assert Source.objects.count() == before + 1
    assert Source.objects.get(key="e").identifier == "10.5555/new"


def test_keys_are_made_from_author_and_year_when_missing_or_taken(editor_client, moderator):
    factories.source(moderator, key="smith-2020", title="Taken")
    factories.source(moderator, key="taken", title="Taken too")
    ris = (
        "TY  - JOUR\nAU  - Smith, Ann\nTI  - First paper\nPY  - 2020\nER  - \n\n"
        "TY  - JOUR\nAU  - Smith, Ann\nTI  - Second paper\nPY  - 2020\nER  - \n\n"
        "TY  - RPRT\nID  - taken\nTI  - Field report\nPB  - Médecins Sans Frontières\nPY  - 2013\nER  - \n"
    )
    assert upload(editor_client, "refs.ris", ris).status_code == 200
    titles = dict(Source.objects.filter(state=PublicationState.DRAFT).values_list("title", "key"))
    assert titles == {
        "First paper": "smith-2020a",
        "Second paper": "smith-2020b",
        "Field report": "medecins-sans-frontieres-2013",
    }


@pytest.mark.parametrize(
    "name,content,problem",
    [
        ("broken.bib", "@book{ok, title={Fine}}\n@book{broken, title={unclosed\n", "line 2: it is not valid BibTeX"),
        (
            "dates.json",
            '[{"id": "ok", "title": "Fine"}, {"id": "bad", "title": "X", "issued": {"date-parts": [[2001, 13]]}}]',
            "item 2 “bad”: the month 13 does not exist",
        ),
        (
            "untitled.ris",
            "TY  - BOOK\nTI  - Fine\nER  - \n\nTY  - BOOK\nID  - nameless\nER  - \n",
            "entry 2 “nameless”: it has no title",
        ),
        (
            "script.bib",
            "@book{ok, title={Fine}}\n@online{evil, title={Evil}, url={javascript:alert(1)}}",
            "entry “evil”: url: Enter a valid URL.",
        ),
        ("binary.bib", b"\xff\xfe\x00@\x00b", "not UTF-8"),
        ("huge.bib", "@book{big, title={" + "x" * (1024 * 1024) + "}}", "larger than 1 MB"),
    ],
)
def test_malformed_files_are_refused_with_the_entry_named_and_nothing_written(editor_client, name, content, problem):
    before = counts()
    response = upload(editor_client, name, content)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was imported." in html
    assert problem.replace("“", "&ldquo;") in html or problem in html, html[-3000:]
    assert counts() == before


def test_an_imported_proposal_reaches_the_queue_and_a_moderator_publishes_it(editor_client, moderator):
    upload(
        editor_client,
        "one.json",
        '[{"id": "keita-2021", "type": "book", "title": "Sahel", "issued": {"date-parts": [[2021]]}}]',
    )
    revision = Revision.objects.pending().get()
    assert revision.action == RevisionAction.CREATE
    assert Client().get("/sources/keita-2021/").status_code == 404
    moderation.approve(revision=revision, moderator=moderator)
    assert Client().get("/sources/keita-2021/").status_code == 200


def test_staff_without_the_add_permission_are_refused(client):
    clerk = User.objects.create_user("clerk", password=factories.PASSWORD, is_staff=True)
    client.force_login(clerk)
    assert client.get(URL).status_code == 403
    before = counts()
    assert upload(client, "one.bib", "@book{x, title={X}}").status_code == 403
    assert counts() == before


def test_the_upload_needs_the_csrf_token(editor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    before = counts()
    assert upload(client, "one.bib", "@book{x, title={X}}").status_code == 403
    assert counts() == before


def test_the_source_list_offers_the_import_page_in_both_languages(editor_client):
    assert f'href="{URL}"' in editor_client.get("/admin/articles/source/").content.decode()
    page = editor_client.get(URL, headers={"accept-language": "fr"}).content.decode()
    assert "Importer des références" in page
    assert 'enctype="multipart/form-data"' in page
