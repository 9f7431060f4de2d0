"""Public pages. Views only fetch and render: HTML was rendered when the content was published."""
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from . import publishing
from .models import Article, Revision, Section, Source, Topic


def home(request):
    articles = Article.objects.published().select_related("lead_figure")
    return render(request, "articles/home.html", {"articles": articles})


def article_detail(request, slug):
    article = get_object_or_404(Article.objects.published().select_related("lead_figure"), slug=slug)
    sections = publishing.reading_order(article.sections.for_reading())
    for section in sections:
        section.html = section.body_html
    return render(request, "articles/article_detail.html", {
        "article": article,
        "sections": sections,
        "notes_html": article.notes_html,
        "bibliography": Source.objects.cited_in_article(article),
    })


@never_cache
def article_preview(request, slug, revision_id):
    """The article with one pending proposal applied, for staff; never cached, never saved."""
    if not (request.user.is_active and request.user.is_staff):
        raise Http404  # Not even a login redirect: previews do not exist for the public.
    article = get_object_or_404(Article.objects.select_related("lead_figure"), slug=slug)
    revision = get_object_or_404(Revision.objects.select_related("content_type"), pk=revision_id)
    if revision.article_id != article.pk and not (
        revision.model_class is Article and revision.object_id == article.pk
    ):
        raise Http404("This revision does not belong to this article.")
    sections, rendered = publishing.preview_article(article, revision)
    for section in sections:
        section.html = rendered.section_html[section.pk or id(section)]
    return render(request, "articles/article_detail.html", {
        "article": article,
        "sections": sections,
        "dek_html": rendered.dek_html,
        "notes_html": rendered.notes_html,
        "bibliography": Source.objects.cited_in_article(article),
        "preview_revision": revision,
    })


def topic_list(request):
    topics = Topic.objects.published()
    return render(request, "articles/topic_list.html", {"topics": topics})


def topic_detail(request, slug):
    topic = get_object_or_404(Topic.objects.published(), slug=slug)
    sections = (
        Section.objects.visible()
        .filter(topics=topic)
        .select_related("article")
        .order_by("article__title", "position", "pk")
    )
    sources = Source.objects.published().filter(
        citations__section__in=sections
    ).distinct().order_by("title")
    return render(request, "articles/topic_detail.html", {"topic": topic, "sections": sections, "sources": sources})


def source_list(request):
    sources = Source.objects.published().order_by("title")
    return render(request, "articles/source_list.html", {"sources": sources})


def source_detail(request, key):
    source = get_object_or_404(Source.objects.published(), key=key)
    sections = (
        Section.objects.visible()
        .filter(citations__source=source)
        .select_related("article")
        .distinct()
        .order_by("article__title", "position")
    )
    return render(request, "articles/source_detail.html", {"source": source, "sections": sections})
