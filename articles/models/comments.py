"""Review comments on proposals, and share links that let people without an account review them.

A comment belongs to one revision, as a whole or anchored to a passage of one of its fields (the
quoted words, with some text before and after them to find the same place again). Comments follow
their proposal: when its content changes (an amendment, a merge), ``articles.revisions.comments``
finds the quoted words again or marks the comment outdated. What was said never changes: the words,
who said them and when are frozen by database triggers (migration 0017), like the audit trail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from articles.models.content import Article
from articles.models.revisions import Revision

COMMENT_MAX_LENGTH = 5000
QUOTE_MAX_LENGTH = 2000


class ShareLinkQuerySet(models.QuerySet):
    def active(self, now=None):
        """Not revoked and not expired (whether anything it shows is still pending is asked separately)."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class ShareLink(models.Model):
    """A link that shows pending proposals to someone without an account, who may comment on them.

    The address carries a token signed with the site's secret (``articles.revisions.sharing``): the
    primary key and a random nonce. It works until it expires, is revoked, or every proposal it
    shows has been decided; it never allows approving anything.
    """

    revisions = models.ManyToManyField(Revision, verbose_name=_("proposals"), related_name="share_links")
    article = models.ForeignKey(
        Article,
        verbose_name=_("article"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Set when the link shows everything pending for an article."),
    )
    nonce = models.CharField(_("nonce"), max_length=32, editable=False)
    label = models.CharField(
        _("for"), max_length=200, blank=True, help_text=_("Who the link is for, to recognise it in the list.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(_("created by (name)"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("share link")
        verbose_name_plural = _("share links")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.label or f"#{self.pk}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class ReviewCommentQuerySet(models.QuerySet):
    def threads(self):
        """The thread-starting comments, oldest first, with their replies and who wrote them."""
        return (
            self.filter(parent__isnull=True)
            .select_related("author", "resolved_by")
            .prefetch_related(
                models.Prefetch("replies", queryset=ReviewComment.objects.select_related("author").order_by("pk"))
            )
            .order_by("created_at", "pk")
        )

    def open(self):
        return self.filter(parent__isnull=True, resolved_at__isnull=True)


class ReviewComment(models.Model):
    """A remark on a proposal, by a member of staff or by an outside reviewer through a share link."""

    revision = models.ForeignKey(
        Revision, verbose_name=_("proposal"), on_delete=models.PROTECT, related_name="comments"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("in reply to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replies",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author_name = models.CharField(_("name"), max_length=150)
    author_email = models.EmailField(
        _("e-mail"), blank=True, help_text=_("An outside reviewer's address, for the editors to answer.")
    )
    share_link = models.ForeignKey(
        ShareLink,
        verbose_name=_("share link"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="comments",
        help_text=_("Set for a comment from an outside reviewer."),
    )
    body = models.TextField(_("comment"), max_length=COMMENT_MAX_LENGTH)
    # The passage the comment is about: a field of the proposal and the words quoted from it.
    field = models.CharField(_("field"), max_length=64, blank=True)
    quote = models.TextField(_("quoted passage"), max_length=QUOTE_MAX_LENGTH, blank=True)
    # Where the words are in the proposal's current text; updated when its content changes.
    prefix = models.CharField(_("text before"), max_length=100, blank=True)
    suffix = models.CharField(_("text after"), max_length=100, blank=True)
    start = models.PositiveIntegerField(_("position"), null=True, blank=True)
    outdated = models.BooleanField(
        _("outdated"), default=False, help_text=_("The quoted words are no longer in the proposal.")
    )
    created_at = models.DateTimeField(_("written at"), auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_by_name = models.CharField(_("resolved by (name)"), max_length=150, blank=True)

    objects = ReviewCommentQuerySet.as_manager()

    class Meta:
        verbose_name = _("review comment")
        verbose_name_plural = _("review comments")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="reviewcomment_has_text"),
            models.CheckConstraint(condition=Q(quote="") | ~Q(field=""), name="reviewcomment_quote_has_field"),
        ]
        indexes = [models.Index(fields=["revision", "parent", "created_at"], name="reviewcomment_thread")]

    def __str__(self):
        return f"{self.author_name}: {self.body[:60]}"

    @property
    def is_outside(self) -> bool:
        return self.share_link_id is not None

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def html_id(self) -> str:
        return f"comment-{self.pk}"

    def get_admin_url(self) -> str:
        return f"{reverse('admin:articles_revision_change', args=[self.revision_id])}#{self.html_id}"
