"""Structured data (schema.org JSON-LD) for the public pages.

Built from objects the view already fetched; emitted by the ``json_ld`` filter in
``articles.templatetags.seo``, which escapes it so that no text in it can close the script
element. ``<script type="application/ld+json">`` is data, never executed, so the site's strict
Content-Security-Policy neither blocks it nor needs a nonce for it (and a nonce would keep the
page out of the page cache).
"""

from __future__ import annotations

import html

from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from articles.content import languages
from articles.models import ArticleVersion, SourceKind

SITE_NAME = "Mali History"
CONTEXT = "https://schema.org"

# schema.org types for the kinds of source; all are kinds of CreativeWork.
CITATION_TYPES = {
    SourceKind.BOOK: "Book",
    SourceKind.JOURNAL_ARTICLE: "ScholarlyArticle",
    SourceKind.REPORT: "Report",
    SourceKind.UN_DOCUMENT: "Legislation",
    SourceKind.NEWS_ARTICLE: "NewsArticle",
    SourceKind.WEB_PAGE: "WebPage",
    SourceKind.DATASET: "Dataset",
    SourceKind.OTHER: "CreativeWork",
}


def summary(rendered_html: str, words: int = 40) -> str:
    """Plain text for a meta description: tags out, entities decoded, at most ``words`` words."""
    text = " ".join(html.unescape(strip_tags(rendered_html or "")).split())
    return Truncator(text).words(words)


def organization(request) -> dict:
    return {"@type": "Organization", "name": SITE_NAME, "url": request.build_absolute_uri("/")}


def breadcrumb_list(request, trail) -> dict:
    """``trail``: (name, path) pairs from the top of the site down to the current page."""
    return {
        "@context": CONTEXT,
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": position, "name": str(name), "item": request.build_absolute_uri(path)}
            for position, (name, path) in enumerate(trail, start=1)
        ],
    }


def _partial_date(source) -> str | None:
    return source.date.iso() or None


def citation(request, source) -> dict:
    page = request.build_absolute_uri(source.get_absolute_url())
    item = {
        "@type": CITATION_TYPES.get(source.kind, "CreativeWork"),
        "@id": page,
        "name": source.title,
        "url": source.url or page,
    }
    if source.identifier:
        item["identifier"] = source.identifier
        if source.kind == SourceKind.UN_DOCUMENT:
            item["legislationIdentifier"] = source.identifier
    if source.authors:
        item["author"] = [{"@type": "Person", "name": name} for name in source.authors]
    if source.publisher:
        item["publisher"] = {"@type": "Organization", "name": source.publisher}
        if not source.authors:
            item["author"] = {"@type": "Organization", "name": source.publisher}
    if source.container_title:
        item["isPartOf"] = {"@type": "CreativeWork", "name": source.container_title}
    date = _partial_date(source)
    if date:
        item["datePublished"] = date
    return item


def article_structured_data(request, article, bibliography) -> list[dict]:
    """The live article page's JSON-LD: an Article citing its bibliography, and its breadcrumbs.

    ``bibliography`` is the queryset the page lists; evaluating it here fills its cache, so the
    template's loop over it costs no second query.
    """
    url = request.build_absolute_uri(article.get_absolute_url())
    site = organization(request)
    first_published = (
        ArticleVersion.objects.filter(article=article).order_by("number").values_list("created_at", flat=True).first()
    )
    modified = article.published_at or article.updated_at
    data = {
        "@context": CONTEXT,
        "@type": "Article",
        "@id": f"{url}#article",
        "url": url,
        "mainEntityOfPage": url,
        "headline": article.title,
        "inLanguage": languages.content_language(),  # the text's, whatever the interface's
        "datePublished": (first_published or modified).isoformat(),
        "dateModified": modified.isoformat(),
        "author": site,
        "publisher": site,
        "citation": [citation(request, source) for source in bibliography],
    }
    description = summary(article.dek_html)
    if description:
        data["description"] = description
    figure = article.lead_figure
    if figure is not None and figure.image and figure.is_live:
        image = {"@type": "ImageObject", "url": request.build_absolute_uri(figure.image.url)}
        if figure.width and figure.height:
            image.update(width=figure.width, height=figure.height)
        if figure.caption:
            image["caption"] = figure.caption
        data["image"] = image
    crumbs = breadcrumb_list(
        request, [(_("Articles"), reverse("articles:home")), (article.title, article.get_absolute_url())]
    )
    return [data, crumbs]
