"""Citations out: a source, an article's bibliography or a page of the site as BibTeX, RIS or CSL-JSON.

Files beside the pages they cite (``/sources/<key>/cite.bib``, ``/articles/<slug>/bibliography.ris``,
``/articles/<slug>/cite.json``, ``/articles/<slug>/revisions/<n>/cite.bib``), written by
``articles.content.citation_formats`` and offered for download under the citation key. The
source and article files are cached like their pages, under the same dependency tags; a
permalink's file, like the permalink page, is not (an unpublished article's must stop at once).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import register_converter
from django.utils import timezone

from articles.content.citation_formats import MEDIA_TYPES, SITE_NAME, SOURCE_FIELDS, Reference, write
from articles.models import Article, ArticleVersion, Section, Source
from articles.publishing import article_page, dependencies
from articles.publishing.caching import depends_on, public_page


class CitationFormatConverter:
    """``bib``, ``ris`` or ``json``: the extensions of the citation files."""

    regex = "bib|ris|json"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CitationFormatConverter, "citefmt")


def source_reference(source: Source) -> Reference:
    return Reference(**{name: getattr(source, name) for name in SOURCE_FIELDS} | {"authors": list(source.authors)})


def page_reference(*, key: str, title: str, url: str, version: ArticleVersion | None) -> Reference:
    """A page of this site cited as a web page: what the "Cite this page" box says, as data."""
    ref = Reference(
        key=key,
        kind="web",
        title=title,
        container_title=SITE_NAME,
        url=url,
        accessed_on=timezone.localdate(),
    )
    if version is not None:
        published = timezone.localtime(version.created_at).date()
        ref.version = str(version.number)
        ref.date_year, ref.date_month, ref.date_day = published.year, published.month, published.day
    return ref


def citation_response(fmt: str, references: list[Reference], filename: str) -> HttpResponse:
    response = HttpResponse(write(fmt, references), content_type=MEDIA_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


@public_page
def source_citation(request, key, fmt):
    source = get_object_or_404(Source.objects.published(), key=key)
    depends_on(request, dependencies.tag(source))
    return citation_response(fmt, [source_reference(source)], source.key)


@public_page
def article_bibliography(request, slug, fmt):
    """Every source the article's published sections cite, in the bibliography's order."""
    article = get_object_or_404(Article.objects.published(), slug=slug)
    page = article_page.compose(article, Section.objects.for_reading().filter(article=article))
    depends_on(request, *page.cache_tags)
    return citation_response(fmt, [source_reference(s) for s in page.bibliography], f"{article.slug}-bibliography")


@public_page
def article_citation(request, slug, fmt):
    """The article itself, cited at its latest version's permalink, as the page's "Cite this page" box does."""
    article = get_object_or_404(Article.objects.published(), slug=slug)
    depends_on(request, dependencies.tag(article))
    latest = ArticleVersion.objects.for_article(article).for_listing().first()
    url = request.build_absolute_uri((latest or article).get_absolute_url())
    key = f"{article.slug}-v{latest.number}" if latest else article.slug
    reference = page_reference(key=key, title=latest.title if latest else article.title, url=url, version=latest)
    return citation_response(fmt, [reference], key)


def article_version_citation(request, slug, number, fmt):
    article = get_object_or_404(Article.objects.published(), slug=slug)
    version = get_object_or_404(ArticleVersion.objects.for_article(article), number=number)
    key = f"{article.slug}-v{version.number}"
    url = request.build_absolute_uri(version.get_absolute_url())
    return citation_response(fmt, [page_reference(key=key, title=version.title, url=url, version=version)], key)
