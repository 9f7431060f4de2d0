"""Per-user tokens for the write API: each one lets a program propose changes as its user, nothing more."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Every token starts with this, so a leaked one is recognisable (and secret scanners can find it).
TOKEN_PREFIX = "mh_"


def token_digest(raw: str) -> str:
    """The stored form of a token. A token is 256 random bits, so a plain SHA-256 cannot be reversed
    or guessed; a slow password hash would only slow every API request down."""
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def authenticate(self, raw: str) -> ApiToken | None:
        """The active token ``raw`` is, with its user; None for anything else (revoked, unknown, malformed)."""
        if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
            return None
        return self.active().select_related("user").filter(digest=token_digest(raw)).first()

    def for_user(self, user):
        """The tokens ``user`` may see and revoke: their own; a superuser's are everyone's."""
        return self if user.is_superuser else self.filter(user=user)


class ApiToken(models.Model):
    """A bearer token for ``/api/v1/``. Only its digest is stored: the token itself is shown once, when made."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for, e.g. “Zotero sync script”."))
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    # The first characters, shown in lists so that people can tell their tokens apart.
    hint = models.CharField(_("starts with"), max_length=12, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.name} ({self.hint}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def issue(self) -> str:
        """Give the (unsaved) token a new secret; return it, the one time it can be seen."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.digest = token_digest(raw)
        self.hint = raw[: len(TOKEN_PREFIX) + 6]
        return raw

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def mark_used(self) -> None:
        """Record the use, at most once a minute: a busy script would otherwise write the row on every request."""
        now = timezone.now()
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() >= 60:
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now
