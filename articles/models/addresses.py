"""Old addresses: the slugs an article, topic or source gave up, so that links to them keep working.

Publishing records a slug here when an approved revision changes it
(``articles.publishing.publish.apply_revision``); a public page asked for with a retired slug
answers with a permanent redirect to the same page at the object's current address
(``articles.reading.views``). The lookup runs only when a page was not found, so a page asked
for at its current address costs no query more.

A slug is retired once per kind of object. When another object of that kind takes the slug
later, the live object wins: its page is served at that address and the old owner's redirect
stops (it comes back if nobody holds the slug any longer). When the object that takes it gives it
up in turn, the slug's redirect moves to that object, the latest to have used it.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Exists
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from articles.models.base import ModeratedContent


class RetiredSlugQuerySet(models.QuerySet):
    def of(self, obj: ModeratedContent) -> RetiredSlugQuerySet:
        """The slugs ``obj`` gave up, latest first."""
        return self.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk).order_by(
            "-retired_at", "-pk"
        )

    def retire(self, obj: ModeratedContent, old_slug: str) -> None:
        """Record that ``obj`` gave up ``old_slug`` for its current slug (in the publish transaction)."""
        new_slug = getattr(obj, obj.SLUG_FIELD)
        if not old_slug or old_slug == new_slug:
            return
        content_type = ContentType.objects.get_for_model(obj)
        self.update_or_create(
            content_type=content_type, slug=old_slug, defaults={"object_id": obj.pk, "retired_at": timezone.now()}
        )
        # An object taking back one of its own old slugs: that address is its page again.
        self.filter(content_type=content_type, slug=new_slug, object_id=obj.pk).delete()

    def current_holder(self, model: type[ModeratedContent], slug: str) -> ModeratedContent | None:
        """The published object that gave up ``slug``, unless an object of that kind holds it now: one query."""
        retired = self.filter(content_type=ContentType.objects.get_for_model(model), slug=slug).values("object_id")
        taken = model.objects.filter(**{model.SLUG_FIELD: slug})
        return model.objects.published().filter(pk__in=retired).filter(~Exists(taken)).first()


class RetiredSlug(models.Model):
    """A slug an object gave up: its old address redirects to its current one."""

    content_type = models.ForeignKey(ContentType, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField(_("object id"))
    slug = models.SlugField(_("old slug"), max_length=200)
    retired_at = models.DateTimeField(_("given up on"), default=timezone.now)

    objects = RetiredSlugQuerySet.as_manager()

    class Meta:
        verbose_name = _("old address")
        verbose_name_plural = _("old addresses")
        constraints = [
            models.UniqueConstraint(fields=["content_type", "slug"], name="retired_slug_unique_per_kind"),
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="retired_slug_object")]

    def __str__(self):
        return self.slug
