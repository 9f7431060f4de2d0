"""What every moderated content model shares: its publication state and live revision."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PublicationState(models.TextChoices):
    DRAFT = "draft", _("Draft (never published)")
    LIVE = "live", _("Published")
    UNPUBLISHED = "unpublished", _("Unpublished")
    DELETED = "deleted", _("Deleted")


class ModeratedQuerySet(models.QuerySet):
    def published(self):
        """The one definition of what readers may see."""
        return self.filter(state=PublicationState.LIVE)


class ModeratedContent(models.Model):
    """Fields shared by every moderated content model.

    ``REVISION_FIELDS`` names what a revision snapshot carries (many-to-many fields as lists of
    primary keys). Derived fields (rendered HTML, citations) are never in a snapshot: they are
    recomputed when a revision is published.
    """

    REVISION_FIELDS: tuple[str, ...] = ()
    # The field the object's public address is made from, for kinds that have a page of their own:
    # when a publish changes it, the old value is kept as a RetiredSlug (articles.models.addresses).
    SLUG_FIELD: str | None = None

    state = models.CharField(
        _("state"),
        max_length=16,
        choices=PublicationState.choices,
        default=PublicationState.DRAFT,
        editable=False,
        db_index=True,
    )
    live_revision = models.ForeignKey(
        "articles.Revision",
        verbose_name=_("live revision"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last updated"), auto_now=True)

    objects = ModeratedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_live(self):
        return self.state == PublicationState.LIVE

    def owning_article(self):
        """The article a change to this object affects most directly, if any."""
        return None

    def snapshot(self) -> dict:
        """The object's content fields as JSON-ready data."""
        data = {}
        for name in self.REVISION_FIELDS:
            field = self._meta.get_field(name)
            if field.many_to_many:
                if self.pk is None:
                    data[name] = []
                else:
                    data[name] = sorted(getattr(self, name).values_list("pk", flat=True))
            elif field.is_relation:
                data[name] = getattr(self, field.attname)
            else:
                data[name] = (
                    field.value_to_string(self)
                    if isinstance(field, (models.DateField, models.DateTimeField))
                    else getattr(self, name)
                )
                if isinstance(field, models.FileField):
                    data[name] = getattr(self, name).name or ""
        return data

    def apply_snapshot(self, data: dict) -> dict:
        """Set the concrete fields from a snapshot; return the many-to-many values to set after save."""
        m2m = {}
        for name in self.REVISION_FIELDS:
            if name not in data:
                continue
            field = self._meta.get_field(name)
            value = data[name]
            if field.many_to_many:
                m2m[name] = value
            elif field.is_relation:
                setattr(self, field.attname, value)
            elif isinstance(field, models.DateField) and isinstance(value, str):
                setattr(self, name, field.to_python(value) if value else None)
            else:
                setattr(self, name, value)
        return m2m
