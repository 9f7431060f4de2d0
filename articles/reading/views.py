"""Public pages. Views only fetch and render: HTML was rendered when the content was published.

``@public_page`` caches a page whole for anonymous readers until a publish changes it
(articles.publishing.caching); the staff preview is never cached.
"""

from functools import wraps
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from articles.content import figure_files
from articles.models import Article, ArticleVersion, RetiredSlug, Revision, Section, Source, TimelineEvent, Topic
from articles.publishing import article_page, dependencies, publish
from articles.publishing.caching import depends_on, public_page, signed_in
from articles.reading import lists, metadata, pagination
from articles.reading.forms import CorrectionForm
from articles.revisions import corrections, diffing, permissions


def signed_in_editor(request) -> bool:
    """Whether to offer "Edit" links: signed-in staff who may propose changes.

    Without a session cookie the user is not even looked up (``caching.signed_in``), so an
    anonymous reader's page stays the same for every reader and the page cache may share it.
    """
    if not signed_in(request):
        return False
    user = request.user
    return user.is_active and user.is_staff and permissions.can_propose(user)


def section_edit_url(section, return_to: str) -> str:
    """The section's admin form; saving it brings the editor back to ``return_to`` (a public page)."""
    return f"{reverse('admin:articles_section_change', args=[section.pk])}?{urlencode({'next': return_to})}"


def follows_old_slugs(model, kwarg="slug"):
    """A page asked for with a slug its object gave up redirects (301) to the same page at its current address.

    Only on the way to a 404: a page found at its address costs no query more. The address keeps
    the request's language and query string (a comparison's ``?a=&b=``, for instance).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except Http404:
                obj = RetiredSlug.objects.current_holder(model, kwargs[kwarg])
                if obj is None:
                    raise
            match = request.resolver_match
            url = reverse(match.view_name, kwargs={**match.kwargs, kwarg: getattr(obj, model.SLUG_FIELD)})
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)

        return wrapped

    return decorator


@public_page
def home(request):
    """What is new, and the way to everything else: the index of all articles is paged."""
    depends_on(request, dependencies.ARTICLES, dependencies.FIGURES)
    articles = lists.newest_articles()
    return render(
        request,
        "articles/home.html",
        {"articles": articles, "article_count": Article.objects.published().count()},
    )


@public_page(paged=pagination.PAGE_PARAMETER)
def article_index(request, order=lists.BY_TITLE):
    """Every published article, by title or newest first, a page at a time."""
    depends_on(request, dependencies.ARTICLES)
    page = pagination.paginate(request, lists.article_index(order), lists.INDEX_PER_PAGE)
    return render(request, "articles/article_index.html", {"page_obj": page, "order": order})


@public_page
@follows_old_slugs(Article)
def article_detail(request, slug):
    """The article put together from its stored fragments: a fixed number of queries, no Markdown."""
    article = get_object_or_404(Article.objects.published().select_related("lead_figure"), slug=slug)
    page = article_page.compose(article, Section.objects.for_reading().filter(article=article))
    depends_on(request, *page.cache_tags)
    # Cite the permalink of what the reader sees now; an article published before versions were
    # recorded has none yet, so its own address stands in.
    latest = ArticleVersion.objects.for_article(article).for_listing().first()
    return render(
        request,
        "articles/article_detail.html",
        {
            "article": article,
            "sections": page.sections,
            "dek_html": page.dek_html,
            "notes_html": page.notes_html,
            "bibliography": page.bibliography,
            "cite_version": latest,
            "cite_url": request.build_absolute_uri((latest or article).get_absolute_url()),
            "structured_data": metadata.article_structured_data(request, article, page.bibliography),
            "can_edit": signed_in_editor(request),
        },
    )


# The history pages are not @public_page: an unpublished article's permalinks must stop at once.
# They are cheap: two or three queries and no Markdown.


@follows_old_slugs(Article)
def article_version(request, slug, number):
    """A permalink: the article exactly as one version published it, from the frozen copy."""
    article = get_object_or_404(Article.objects.published(), slug=slug)
    versions = ArticleVersion.objects.for_article(article)
    version = get_object_or_404(versions, number=number)
    return render(
        request,
        "articles/article_detail.html",
        {
            "article": article,
            "version": version,
            "is_latest": not versions.filter(number__gt=number).exists(),
            "sections": version.section_list,
            "dek_html": version.dek_html,
            "notes_html": version.notes_html,
            "bibliography_html": version.bibliography_html,
            "cite_version": version,
            "cite_url": request.build_absolute_uri(version.get_absolute_url()),
        },
    )


@follows_old_slugs(Article)
def article_history(request, slug):
    article = get_object_or_404(Article.objects.published(), slug=slug)
    versions = ArticleVersion.objects.for_article(article).for_listing()
    return render(request, "articles/article_history.html", {"article": article, "versions": versions})


@follows_old_slugs(Article)
def article_compare(request, slug):
    """What changed between two versions, section by section; ``?a=N&b=M`` in either order."""
    article = get_object_or_404(Article.objects.published(), slug=slug)
    try:
        numbers = sorted({int(request.GET["a"]), int(request.GET["b"])})
    except (KeyError, ValueError):
        return render(request, "articles/article_compare.html", {"article": article, "invalid": True}, status=400)
    versions = {v.number: v for v in ArticleVersion.objects.for_article(article).filter(number__in=numbers)}
    if len(versions) != len(numbers):
        raise Http404("This article has no such version.")
    old, new = versions[numbers[0]], versions[numbers[-1]]
    return render(
        request,
        "articles/article_compare.html",
        {
            "article": article,
            "old": old,
            "new": new,
            "comparison": diffing.compare_versions(old, new),
        },
    )


@never_cache
def article_preview(request, slug, revision_id):
    """The article with one pending proposal applied, for staff; never cached, never saved."""
    if not (request.user.is_active and request.user.is_staff):
        raise Http404  # Not even a login redirect: previews do not exist for the public.
    article = get_object_or_404(Article.objects.select_related("lead_figure"), slug=slug)
    revision = get_object_or_404(Revision.objects.select_related("content_type"), pk=revision_id)
    if revision.article_id != article.pk and not (revision.model_class is Article and revision.object_id == article.pk):
        raise Http404("This revision does not belong to this article.")
    page = publish.preview_article(article, revision)
    response = render(
        request,
        "articles/article_detail.html",
        {
            "article": page.article,
            "sections": page.sections,
            "dek_html": page.dek_html,
            "notes_html": page.notes_html,
            "bibliography": page.bibliography,
            "preview_revision": revision,
        },
    )
    # Images uploaded with the proposal are not public yet: staff see them through the staff view.
    response.content = figure_files.for_staff(response.content.decode()).encode()
    return response


@public_page
def topic_list(request):
    depends_on(request, dependencies.TOPICS)
    topics = Topic.objects.published()
    return render(request, "articles/topic_list.html", {"topics": topics})


@public_page(paged=pagination.PAGE_PARAMETER)
@follows_old_slugs(Topic)
def topic_detail(request, slug):
    topic = get_object_or_404(Topic.objects.published(), slug=slug)
    # Its sections, under their articles' titles, with the sources they cite and the events.
    # Every page of the list names the same tags, so a publish retires them together.
    depends_on(request, dependencies.tag(topic), dependencies.ARTICLES, dependencies.SOURCES, dependencies.TIMELINE)
    totals = lists.topic_totals(topic)
    page = pagination.paginate(request, lists.articles_on(topic), lists.ARTICLES_PER_PAGE, count=totals["articles"])
    page.object_list = lists.mentioning_articles(page.object_list)
    shown = lists.attach_sections(
        page.object_list, Section.objects.published().filter(topics=topic), fields=("body_html",)
    )
    # The sources of the sections on this page: bounded by the page, not by the topic.
    sources = Source.objects.published().filter(citations__section__in=[s.pk for s in shown]).distinct()
    # --- Timeline (articles.publishing.timeline): the topic's events, in date order ---
    events = TimelineEvent.objects.published().filter(topics=topic)
    return render(
        request,
        "articles/topic_detail.html",
        {
            "topic": topic,
            "page_obj": page,
            "totals": totals,
            "sources": sources.order_by("title"),
            "events": events,
        },
    )


# --- Timeline (articles.publishing.timeline) --------------------------------------------------------------


@public_page
def timeline(request):
    """Every published event in date order; the HTML of each was rendered when it was published."""
    depends_on(request, dependencies.TIMELINE, dependencies.TOPICS)
    return render(request, "articles/timeline.html", {"events": TimelineEvent.objects.for_timeline()})


@public_page
def source_list(request):
    depends_on(request, dependencies.SOURCES)
    sources = Source.objects.published().order_by("title")
    return render(request, "articles/source_list.html", {"sources": sources})


@public_page(paged=pagination.PAGE_PARAMETER)
@follows_old_slugs(Source, "key")
def source_detail(request, key):
    """The source, how often it is cited, and where: a page of citing articles with their sections."""
    source = get_object_or_404(Source.objects.published(), key=key)
    depends_on(request, dependencies.tag(source), dependencies.ARTICLES)
    totals = lists.citation_totals(source)
    page = pagination.paginate(
        request, lists.articles_citing(source), lists.ARTICLES_PER_PAGE, count=totals["articles"]
    )
    page.object_list = lists.mentioning_articles(page.object_list)
    lists.attach_sections(page.object_list, lists.sections_citing(source))
    return render(request, "articles/source_detail.html", {"source": source, "page_obj": page, "totals": totals})


@never_cache
def suggest_correction(request, slug, anchor):
    """A reader's correction for one section. Never cached: the form carries a CSRF token."""
    section = get_object_or_404(Section.objects.visible().select_related("article"), article__slug=slug, anchor=anchor)
    form = CorrectionForm(request.POST or None)
    sent = False
    if request.method == "POST" and form.is_valid():
        if form.is_spam:
            sent = True  # Tell robots nothing; store nothing.
        else:
            try:
                corrections.submit(
                    section=section,
                    client=corrections.client_key(request),
                    **{k: form.cleaned_data[k] for k in ("problem", "suggested_text", "source_reference", "email")},
                )
                sent = True
            except ValidationError as error:
                form.add_error(None, error)
    status = 429 if form.errors and any(e.code == "rate_limited" for e in form.non_field_errors().as_data()) else 200
    # Editors who arrive signed out sign in here and go straight to the section's form; saving it
    # brings them back to the section.
    return render(
        request,
        "articles/suggest_correction.html",
        {
            "section": section,
            "article": section.article,
            "form": form,
            "sent": sent,
            "can_edit": signed_in_editor(request),
            "edit_url": section_edit_url(section, section.get_absolute_url()),  # in the page's language
        },
        status=status,
    )
