"""Share links: pending proposals shown to reviewers without an account, who may comment but never approve.

A moderator shares one proposal, or everything pending for an article (the proposals pending when
the link is made). The address carries ``<pk>.<nonce>`` signed with the site's secret
(django.core.signing), so it cannot be guessed or altered, and the list on the review page can
show it again. A link works until it expires (``SHARE_LINK_DAYS``, 14 days by default), is
revoked, or every proposal it shows has been decided. Making and revoking one are recorded on
each proposal's trail.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from articles.models import Article, ModerationEvent, Revision, ShareLink
from articles.revisions import audit
from articles.revisions.permissions import can_moderate, display_name

SALT = "articles.share-link"
MAX_DAYS = 90

ACTIVE, EXPIRED, REVOKED, DECIDED = "active", "expired", "revoked", "decided"


def default_days() -> int:
    return int(getattr(settings, "SHARE_LINK_DAYS", 14))


def token_for(link: ShareLink) -> str:
    return signing.Signer(salt=SALT).sign(f"{link.pk}.{link.nonce}")


def link_for_token(token: str) -> ShareLink | None:
    """The link a token names; None for a token that was altered, made up or never issued."""
    try:
        value = signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        return None
    pk, _dot, nonce = value.partition(".")
    if not pk.isdigit():
        return None
    link = ShareLink.objects.select_related("article").filter(pk=int(pk)).first()
    if link is None or not constant_time_compare(link.nonce, nonce):
        return None
    return link


def path_for(link: ShareLink) -> str:
    return reverse("articles:outside_review", kwargs={"token": token_for(link)})


def shown_revisions(link: ShareLink) -> QuerySet[Revision]:
    """What the link still shows: its proposals not decided yet (pending, or back with their author), oldest first."""
    return link.revisions.amendable().select_related("content_type", "article").order_by("created_at", "pk")


def state(link: ShareLink) -> str:
    if link.is_revoked:
        return REVOKED
    if link.is_expired:
        return EXPIRED
    if not shown_revisions(link).exists():
        return DECIDED
    return ACTIVE


@transaction.atomic
def share(
    *,
    moderator: User,
    revisions: Iterable[Revision],
    article: Article | None = None,
    label: str = "",
    days: int | None = None,
) -> ShareLink:
    """A new link to ``revisions`` (those still pending), valid for ``days``."""
    if not can_moderate(moderator):
        raise PermissionDenied(_("Only moderators can share proposals outside the editorial team."))
    days = default_days() if days is None else days
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError({"days": _("A link lasts from 1 to %(max)s days.") % {"max": MAX_DAYS}})
    pending = [r for r in revisions if r.is_amendable]
    if not pending:
        raise ValidationError(_("Nothing pending to share: a link shows proposals waiting for review."))
    link = ShareLink.objects.create(
        article=article,
        nonce=secrets.token_urlsafe(16),
        label=label.strip()[:200],
        created_by=moderator,
        created_by_name=display_name(moderator),
        expires_at=timezone.now() + datetime.timedelta(days=days),
    )
    link.revisions.set(pending)
    note = _("Link #%(number)s, until %(date)s") % {
        "number": link.pk,
        "date": date_format(link.expires_at, "SHORT_DATETIME_FORMAT"),
    }
    if link.label:
        note += f" ({link.label})"
    for revision in pending:
        audit.record(revision, ModerationEvent.Kind.SHARED, moderator, note)
    return link


@transaction.atomic
def revoke(*, link: ShareLink, moderator: User) -> ShareLink:
    if not can_moderate(moderator):
        raise PermissionDenied(_("Only moderators can revoke share links."))
    link = ShareLink.objects.select_for_update().get(pk=link.pk)
    if link.is_revoked:
        return link
    link.revoked_at = timezone.now()
    link.revoked_by = moderator
    link.save(update_fields=["revoked_at", "revoked_by"])
    note = _("Link #%(number)s") % {"number": link.pk}
    for revision in link.revisions.amendable():
        audit.record(revision, ModerationEvent.Kind.SHARE_REVOKED, moderator, note)
    return link


def links_for_revision(revision: Revision) -> QuerySet[ShareLink]:
    return revision.share_links.order_by("-created_at", "-pk")


def links_for_article(article: Article) -> QuerySet[ShareLink]:
    return ShareLink.objects.filter(article=article).order_by("-created_at", "-pk")
