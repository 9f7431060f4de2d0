"""The share page: pending proposals shown to a reviewer without an account, who may comment.

Reached only through a signed link (articles.revisions.sharing). Never cached (not a
``public_page``, and ``never_cache``), never indexed (``noindex`` in the page and in
``X-Robots-Tag``), and its address is never sent on to other sites (``Referrer-Policy: same-origin``). Once the
link is revoked or expired, or everything it shows is decided, it answers 410 Gone with a page that
says so. It offers nothing but reading and commenting.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from articles.models import Article, RevisionAction, Section
from articles.publishing import publish
from articles.reading.forms import OutsideCommentForm
from articles.revisions import comments, corrections, diffing, sharing

NOT_FOR_ROBOTS = "noindex, nofollow, noarchive"


def _private(response):
    response["X-Robots-Tag"] = NOT_FOR_ROBOTS
    response["Referrer-Policy"] = (
        "same-origin"  # not "no-referrer": browsers then send "Origin: null", which CSRF refuses
    )
    return response


def _article_of(link, revisions) -> Article | None:
    """The article the proposals change, shown as it would read with them; None for a source, a topic…"""
    if link.article_id:
        return link.article
    for revision in revisions:
        if revision.article_id:
            return revision.article
        if revision.model_class is Article:
            return Article.objects.filter(pk=revision.object_id).first()
    return None


def _items(revisions) -> list[dict]:
    items = []
    for revision in revisions:
        obj = revision.get_object()
        live = obj.snapshot() if obj is not None and obj.live_revision_id else {}
        proposed = {} if revision.action == RevisionAction.DELETE else revision.data
        items.append({"revision": revision, "changes": diffing.compare(revision.model_class, live, proposed)})
    return items


@never_cache
def outside_review(request, token):
    link = sharing.link_for_token(token)
    if link is None:
        raise Http404("No such review link.")
    state = sharing.state(link)
    if state != sharing.ACTIVE:
        return _private(render(request, "articles/outside_review_gone.html", {"state": state}, status=410))
    revisions = list(sharing.shown_revisions(link))
    form = OutsideCommentForm(request.POST or None, revisions=revisions)
    status = 200
    if request.method == "POST" and form.is_valid():
        if form.is_spam:
            return HttpResponseRedirect(f"{request.path}?sent=1#comment-form")  # tell robots nothing; store nothing
        data = form.cleaned_data
        try:
            comments.add_outside_comment(
                link=link,
                revision=next(r for r in revisions if r.pk == data["revision"]),
                name=data["name"],
                email=data["email"],
                body=data["body"],
                quote=data["quote"],
                client=corrections.client_key(request),
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for name, errors in error.error_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, error)
                if any(e.code == "rate_limited" for e in error.error_list):
                    status = 429
        else:
            return HttpResponseRedirect(f"{request.path}?sent=1#comment-form")
    elif request.method == "POST":
        status = 400
    article = _article_of(link, revisions)
    page = None
    if article is not None:
        shown = [r for r in revisions if r.model_class in (Article, Section)]
        page = publish.preview_article(article, *shown)
    response = render(
        request,
        "articles/outside_review.html",
        {
            "link": link,
            "items": _items(revisions),
            "form": form,
            "sent": request.GET.get("sent") == "1" and request.method == "GET",
            "article": page.article if page else None,
            "sections": page.sections if page else [],
            "dek_html": page.dek_html if page else "",
            "notes_html": page.notes_html if page else "",
            "bibliography": page.bibliography if page else [],
            # The article tags read it: no edit or correction links in a preview.
            "preview_revision": revisions[0],
        },
        status=status,
    )
    return _private(response)
