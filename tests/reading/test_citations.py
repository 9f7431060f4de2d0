"""Citations out: each source, an article's bibliography and each "Cite this page" box as BibTeX, RIS and CSL-JSON."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.content.citation_formats import SOURCE_FIELDS
from articles.content.citation_parsing import parse
from articles.models import ArticleVersion, Source
from articles.revisions import moderation
from tests import factories
from tests.page_types import demo_site

pytestmark = pytest.mark.django_db

MEDIA_TYPES = {
    "bib": "application/x-bibtex; charset=utf-8",
    "ris": "application/x-research-info-systems; charset=utf-8",
    "json": "application/vnd.citationstyles.csl+json; charset=utf-8",
}


@pytest.fixture
def site():
    return demo_site()


def fields_of(source):
    return {name: getattr(source, name) for name in SOURCE_FIELDS}


def fields_of_reference(ref):
    return {name: getattr(ref, name) for name in SOURCE_FIELDS}


@pytest.mark.parametrize("fmt", ["bib", "ris", "json"])
def test_every_demo_source_downloads_in_each_format_with_its_own_fields(client, site, fmt):
    sources = list(Source.objects.published())
    assert len(sources) >= 8
    for source in sources:
        response = client.get(f"/sources/{source.key}/cite.{fmt}")
        assert response.status_code == 200
        assert response["Content-Type"] == MEDIA_TYPES[fmt]
        assert response["Content-Disposition"] == f'attachment; filename="{source.key}.{fmt}"'
        assert response["X-Content-Type-Options"] == "nosniff"
        (ref,) = parse(f"download.{fmt}", response.content.decode())
        assert fields_of_reference(ref) == fields_of(source)


def test_the_source_page_links_to_its_three_files(client, site):
    html = client.get(f"/sources/{site.source.key}/").content.decode()
    assert "Cite this source:" in html
    for fmt in ("bib", "ris", "json"):
        assert f'href="/sources/{site.source.key}/cite.{fmt}"' in html


def test_french_addresses_and_labels(client, site):
    english = client.get(f"/sources/{site.source.key}/cite.bib")
    french = client.get(f"/fr/sources/{site.source.key}/cite.bib")
    assert french.status_code == 200 and french["Content-Type"] == MEDIA_TYPES["bib"]
    assert french.content == english.content  # the citation is in the content's language
    html = client.get(f"/fr/sources/{site.source.key}/").content.decode()
    assert "Citer cette source :" in html
    assert f'href="/fr/sources/{site.source.key}/cite.ris"' in html
    article_html = client.get(f"/fr/articles/{site.article.slug}/").content.decode()
    assert "Télécharger la bibliographie :" in article_html
    assert f'href="/fr/articles/{site.article.slug}/bibliography.json"' in article_html
    assert "Citer cette page dans un gestionnaire de références :" in article_html
    assert client.get(f"/fr/articles/{site.article.slug}/cite.ris").status_code == 200


@pytest.mark.parametrize("fmt", ["bib", "ris", "json"])
def test_the_article_bibliography_holds_every_source_the_article_cites(client, site, fmt):
    cited = Source.objects.cited_in_article(site.article)
    response = client.get(f"/articles/{site.article.slug}/bibliography.{fmt}")
    assert response["Content-Type"] == MEDIA_TYPES[fmt]
    assert response["Content-Disposition"] == f'attachment; filename="{site.article.slug}-bibliography.{fmt}"'
    refs = parse(f"bibliography.{fmt}", response.content.decode())
    assert sorted(r.key for r in refs) == sorted(s.key for s in cited)
    assert len(refs) >= 7
    html = client.get(f"/articles/{site.article.slug}/").content.decode()
    assert f'href="/articles/{site.article.slug}/bibliography.{fmt}"' in html


@pytest.mark.parametrize("fmt", ["bib", "ris", "json"])
def test_cite_this_page_as_a_file_says_what_the_box_says(client, site, fmt):
    latest = ArticleVersion.objects.for_article(site.article).first()
    html = client.get(f"/articles/{site.article.slug}/").content.decode()
    assert f'href="/articles/{site.article.slug}/cite.{fmt}"' in html
    response = client.get(f"/articles/{site.article.slug}/cite.{fmt}")
    assert response["Content-Type"] == MEDIA_TYPES[fmt]
    (ref,) = parse(f"page.{fmt}", response.content.decode())
    published = timezone.localtime(latest.created_at).date()
    assert ref.title == latest.title
    assert ref.kind == "web" and ref.container_title == "Mali History"
    assert ref.version == str(latest.number)
    assert (ref.date_year, ref.date_month, ref.date_day) == (published.year, published.month, published.day)
    assert ref.url == f"http://testserver/articles/{site.article.slug}/revisions/{latest.number}/"
    assert ref.accessed_on == timezone.localdate()
    assert ref.key == f"{site.article.slug}-v{latest.number}"


def test_a_permalink_cites_its_own_version(client, site):
    html = client.get(f"/articles/{site.article.slug}/revisions/1/").content.decode()
    assert f'href="/articles/{site.article.slug}/revisions/1/cite.json"' in html
    item = json.loads(client.get(f"/articles/{site.article.slug}/revisions/1/cite.json").content)[0]
    assert item["version"] == "1"
    assert item["URL"] == f"http://testserver/articles/{site.article.slug}/revisions/1/"
    assert item["container-title"] == "Mali History"
    assert item["type"] == "webpage"
    today = timezone.localdate()
    assert item["accessed"] == {"date-parts": [[today.year, today.month, today.day]]}
    assert client.get(f"/articles/{site.article.slug}/revisions/99/cite.json").status_code == 404


def test_unpublished_sources_and_unknown_formats_are_not_found(client, moderator):
    draft = Source.objects.create(key="draft-source", title="Not yet", state="draft")
    assert client.get(f"/sources/{draft.key}/cite.bib").status_code == 404
    source = factories.source(moderator, key="live-source")
    assert client.get(f"/sources/{source.key}/cite.bib").status_code == 200
    assert client.get(f"/sources/{source.key}/cite.xml").status_code == 404
    assert client.get("/articles/no-such-article/bibliography.bib").status_code == 404


def test_a_source_file_is_cached_until_the_source_changes(
    client, moderator, settings, django_capture_on_commit_callbacks
):
    settings.PUBLIC_PAGE_CACHE = True
    source = factories.source(moderator, key="cached-source", title="First title")
    url = "/sources/cached-source/cite.ris"
    assert b"First title" in client.get(url).content
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url)
    assert len(queries) == 0 and b"First title" in again.content
    assert again["Content-Type"] == MEDIA_TYPES["ris"] and "attachment" in again["Content-Disposition"]
    with django_capture_on_commit_callbacks(execute=True):
        moderation.publish_directly(
            obj=source, moderator=moderator, summary="Retitle", data={**source.snapshot(), "title": "Second title"}
        )
    assert b"Second title" in client.get(url).content


def test_bibtex_download_escapes_what_tex_would_misread(client, moderator):
    factories.source(
        moderator,
        key="escaped",
        kind="book",
        title="Guns & Money: 100% of $5_000 {sic}",
        authors=["Jean-Hervé Jézéquel"],
        accessed_on=datetime.date(2024, 1, 5),
        url="https://example.org/x?a=1&b=2",
    )
    text = client.get("/sources/escaped/cite.bib").content.decode()
    assert r"title = {{Guns \& Money: 100\% of \$5\_000 \{sic\}}}" in text
    assert "author = {Jézéquel, Jean-Hervé}" in text
    assert "url = {https://example.org/x?a=1&b=2}" in text
    assert "urldate = {2024-01-05}" in text
