"""The review's conversation in the admin: comments on a proposal, and share links for outside reviewers.

``ReviewConversationViews`` adds the URLs to the review queue's admin (articles.admin.review): each
view only checks who may, calls the service (articles.revisions.comments, sharing) and goes back to
the review page. ``conversation_context`` is what the review page shows of it.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from articles.models import COMMENT_MAX_LENGTH, QUOTE_MAX_LENGTH, Article, ReviewComment, Revision, ShareLink
from articles.revisions import comments, moderation, sharing

# Share links listed on a review page, newest first; older ones stay in the proposal's trail.
LINKS_SHOWN = 20


class CommentForm(forms.Form):
    """A comment on the whole proposal or on a passage; without JavaScript the passage is pasted."""

    field = forms.ChoiceField(label=_("On the field (optional)"), required=False)
    quote = forms.CharField(
        label=_("Quoted passage (optional)"),
        required=False,
        max_length=QUOTE_MAX_LENGTH,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text=_(
            "Paste the words you comment on, as they read in the proposal, or select them in the changes above."
        ),
    )
    start = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    body = forms.CharField(
        label=_("Comment"), max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4, "cols": 80})
    )

    def __init__(self, *args, revision: Revision, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [("", _("The whole proposal")), *comments.commentable_fields(revision)]


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply"), max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2, "cols": 80})
    )


class ShareForm(forms.Form):
    label = forms.CharField(
        label=_("For (optional)"),
        required=False,
        max_length=200,
        help_text=_("Who the link is for, to recognise it in the list."),
    )
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=sharing.MAX_DAYS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].initial = sharing.default_days()


def _errors(error: ValidationError) -> list[str]:
    return error.messages


def share_links_context(request, links) -> dict:
    """The links a review page lists, each with its address and whether it still works."""
    shown = []
    for link in links[:LINKS_SHOWN]:
        link.url = request.build_absolute_uri(sharing.path_for(link))
        link.state = sharing.state(link)
        shown.append(link)
    return {
        "share_links": shown,
        "share_form": ShareForm(),
        "can_share": moderation.can_moderate(request.user),
        "share_revoke_next": request.get_full_path(),
    }


def conversation_context(request, revision: Revision, comment_form: CommentForm | None = None) -> dict:
    threads = list(revision.comments.threads())
    for thread in threads:
        thread.can_resolve = comments.may_resolve(thread, request.user)
        thread.field_label = comments.field_label(revision, thread.field) if thread.field else ""
    links = share_links_context(request, sharing.links_for_revision(revision))
    links["can_share"] = links["can_share"] and revision.is_amendable
    return {
        "threads": threads,
        "open_threads": sum(1 for t in threads if not t.is_resolved),
        "comment_form": comment_form or CommentForm(revision=revision),
        "reply_form": ReplyForm(),
        "can_comment": moderation.can_propose(request.user),
        **links,
        "share_url": reverse("admin:articles_revision_share", args=[revision.pk]),
    }


def article_share_context(request, article: Article) -> dict:
    return {
        **share_links_context(request, sharing.links_for_article(article)),
        "share_url": reverse("admin:articles_revision_share_article", args=[article.pk]),
    }


class ReviewConversationViews:
    """Mixed into RevisionAdmin: posting comments and replies, resolving threads, sharing."""

    def conversation_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:revision_id>/comments/", view(self.comment_view), name="articles_revision_comment"),
            path(
                "<int:revision_id>/comments/<int:comment_id>/resolve/",
                view(self.resolve_comment_view),
                name="articles_revision_resolve_comment",
            ),
            path("<int:revision_id>/share/", view(self.share_view), name="articles_revision_share"),
            path(
                "share-article/<int:article_id>/", view(self.share_article_view), name="articles_revision_share_article"
            ),
            path(
                "share-links/<int:link_id>/revoke/", view(self.revoke_share_view), name="articles_revision_revoke_share"
            ),
        ]

    def _review_url(self, revision_id: int, fragment: str = "") -> str:
        url = reverse("admin:articles_revision_change", args=[revision_id])
        return f"{url}#{fragment}" if fragment else url

    def comment_view(self, request, revision_id):
        if request.method != "POST" or not moderation.can_propose(request.user):
            raise PermissionDenied
        revision = get_object_or_404(Revision.objects.select_related("content_type"), pk=revision_id)
        parent = None
        if "parent" in request.POST:
            if not request.POST["parent"].isdigit():
                raise Http404(_("No such comment."))
            parent = get_object_or_404(ReviewComment, pk=request.POST["parent"], revision=revision)
            form = ReplyForm(request.POST)
        else:
            form = CommentForm(request.POST, revision=revision)
        if form.is_valid():
            data = form.cleaned_data
            try:
                comment = comments.add_comment(
                    revision=revision,
                    user=request.user,
                    body=data["body"],
                    field=data.get("field", ""),
                    quote=data.get("quote", ""),
                    start=data.get("start"),
                    parent=parent,
                )
            except ValidationError as error:
                if parent is None and hasattr(error, "error_dict"):
                    for name, errors in error.error_dict.items():
                        form.add_error(name if name in form.fields else None, errors)
                else:
                    self.message_user(request, " ".join(_errors(error)), messages.ERROR)
                    return HttpResponseRedirect(self._review_url(revision.pk, "comments"))
            else:
                self.message_user(request, _("Comment added. The people in the discussion are told."), messages.SUCCESS)
                return HttpResponseRedirect(self._review_url(revision.pk, comment.html_id))
        if parent is not None:
            self.message_user(request, _("Write the reply."), messages.ERROR)
            return HttpResponseRedirect(self._review_url(revision.pk, parent.html_id))
        # The review page again, with the form as it was sent and what to fix.
        response = self.change_view(request, str(revision.pk), extra_context={"comment_form": form})
        response.status_code = 400
        return response

    def resolve_comment_view(self, request, revision_id, comment_id):
        if request.method != "POST" or not moderation.can_propose(request.user):
            raise PermissionDenied
        comment = get_object_or_404(
            ReviewComment.objects.select_related("revision"), pk=comment_id, revision_id=revision_id
        )
        try:
            if request.POST.get("reopen"):
                comments.reopen(comment=comment, user=request.user)
                self.message_user(request, _("The discussion is open again."), messages.SUCCESS)
            else:
                comments.resolve(comment=comment, user=request.user)
                self.message_user(request, _("Resolved. The discussion stays on the page, folded."), messages.SUCCESS)
        except ValidationError as error:
            self.message_user(request, " ".join(_errors(error)), messages.ERROR)
        return HttpResponseRedirect(self._review_url(revision_id, comment.html_id))

    def _share(self, request, revisions, back: str, article: Article | None = None):
        if request.method != "POST" or not moderation.can_moderate(request.user):
            raise PermissionDenied
        form = ShareForm(request.POST)
        if not form.is_valid():
            self.message_user(request, " ".join(m for errors in form.errors.values() for m in errors), messages.ERROR)
            return HttpResponseRedirect(back)
        try:
            link = sharing.share(
                moderator=request.user,
                revisions=revisions,
                article=article,
                label=form.cleaned_data["label"],
                days=form.cleaned_data["days"],
            )
        except ValidationError as error:
            self.message_user(request, " ".join(_errors(error)), messages.ERROR)
            return HttpResponseRedirect(back)
        self.message_user(
            request,
            _("Share link made. Send it to the reviewer: %(url)s")
            % {"url": request.build_absolute_uri(sharing.path_for(link))},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(back)

    def share_view(self, request, revision_id):
        revision = get_object_or_404(Revision, pk=revision_id)
        return self._share(request, [revision], self._review_url(revision.pk, "share-links"))

    def share_article_view(self, request, article_id):
        article = get_object_or_404(Article, pk=article_id)
        back = reverse("admin:articles_article_review", args=[article.pk]) + "#share-links"
        return self._share(request, list(Revision.objects.pending_for_article(article)), back, article=article)

    def revoke_share_view(self, request, link_id):
        if request.method != "POST" or not moderation.can_moderate(request.user):
            raise PermissionDenied
        link = get_object_or_404(ShareLink, pk=link_id)
        sharing.revoke(link=link, moderator=request.user)
        self.message_user(request, _("The link is revoked: it no longer opens the proposals."), messages.SUCCESS)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
            back = reverse("admin:articles_revision_changelist")
        return HttpResponseRedirect(back)
