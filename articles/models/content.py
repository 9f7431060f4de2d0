"""The content readers see: articles and their sections, topics, figures, timeline events."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from articles.content import dates, figure_files
from articles.models.base import ModeratedContent, ModeratedQuerySet, PublicationState
from articles.models.sources import Source


@dataclass(frozen=True)
class TopicLink:
    """A topic as a page links it: a section's topic on the live page or in a frozen version."""

    name: str
    slug: str
    pk: int | None = None

    def get_absolute_url(self):
        return reverse("articles:topic_detail", kwargs={"slug": self.slug})


class Figure(ModeratedContent):
    REVISION_FIELDS = ("image", "alt_text", "caption", "credit", "licence")

    image = models.ImageField(
        _("image"),
        upload_to="figures/",
        # Kept private until the figure is approved (articles.content.figure_files).
        storage=figure_files.figure_storage,
        width_field="width",
        height_field="height",
        help_text=_("PNG, JPEG or WebP, at most 5 MB. Location data and other metadata are removed."),
    )
    width = models.PositiveIntegerField(_("width"), null=True, editable=False)
    height = models.PositiveIntegerField(_("height"), null=True, editable=False)
    alt_text = models.CharField(
        _("alt text"),
        max_length=300,
        help_text=_("What the image shows, for readers who cannot see it. Required."),
    )
    caption = models.CharField(_("caption"), max_length=500, blank=True)
    credit = models.CharField(_("credit"), max_length=200, blank=True, help_text=_("Who made the image."))
    licence = models.CharField(_("licence"), max_length=200, blank=True, help_text=_("For example CC BY 4.0."))
    # --- Responsive renditions (articles.publishing.renditions) ---
    # Derived at publish time, like rendered HTML: never in a snapshot, never made on a public GET.
    renditions = models.JSONField(
        _("renditions"),
        default=list,
        blank=True,
        editable=False,
        help_text=_("Smaller copies for phones and screens, made when the figure is published."),
    )

    class Meta:
        verbose_name = _("figure")
        verbose_name_plural = _("figures")
        ordering = ["-created_at"]

    def __str__(self):
        # An upload has neither caption nor alt text yet: its file name still names it in lists.
        return self.caption or self.alt_text or (self.image.name.rsplit("/", 1)[-1] if self.image else "")

    def get_absolute_url(self):
        return self.image.url if self.image else ""

    @property
    def picture(self):
        """The figure's responsive renditions for templates, or None when there are none (yet)."""
        from articles.content.pictures import Picture

        return Picture.for_figure(self)


class Topic(ModeratedContent):
    REVISION_FIELDS = ("name", "slug", "summary", "body")
    SLUG_FIELD = "slug"

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True, help_text=_("Used in the page address."))
    summary = models.CharField(_("summary"), max_length=300, blank=True, help_text=_("One sentence shown in lists."))
    body = models.TextField(_("body"), blank=True, help_text=_("Markdown. Cite sources as [@key]."))
    body_html = models.TextField(editable=False, blank=True)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:topic_detail", kwargs={"slug": self.slug})


class Article(ModeratedContent):
    REVISION_FIELDS = ("title", "slug", "dek", "lead_figure")
    SLUG_FIELD = "slug"

    title = models.CharField(_("title"), max_length=300)
    slug = models.SlugField(_("slug"), max_length=200, unique=True, help_text=_("Used in the page address."))
    dek = models.TextField(
        _("introduction"),
        blank=True,
        help_text=_("A short introduction in Markdown, shown under the title and in lists."),
    )
    dek_html = models.TextField(editable=False, blank=True)
    # The notes the introduction cites, in its own order (see Section.notes).
    dek_notes = models.JSONField(editable=False, default=list, blank=True)
    lead_figure = models.ForeignKey(
        Figure,
        verbose_name=_("lead figure"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Optional image shown at the top of the article."),
    )
    published_at = models.DateTimeField(_("last published"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["title"]
        # The admin lists and filters articles most recently changed first.
        indexes = [models.Index(fields=["updated_at", "id"], name="article_recently_changed")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("articles:article_detail", kwargs={"slug": self.slug})

    def owning_article(self):
        return self


class SectionQuerySet(ModeratedQuerySet):
    def visible(self):
        """Published sections of published articles: what readers can reach."""
        return self.published().filter(article__state=PublicationState.LIVE)

    def for_reading(self):
        """Published sections in reading order; ``article_page.compose`` adds their topics."""
        return self.published().order_by("position", "pk")


class Section(ModeratedContent):
    REVISION_FIELDS = ("article", "parent", "title", "anchor", "position", "body", "topics")

    article = models.ForeignKey(Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="sections")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent section"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subsections",
        help_text=_("Leave empty for a main section; choose one to make this a subsection of it."),
    )
    title = models.CharField(_("title"), max_length=300)
    anchor = models.SlugField(
        _("anchor"),
        max_length=200,
        help_text=_("The #name in the link to this section. Keep it stable: other sites may link to it."),
    )
    position = models.PositiveIntegerField(_("position"), default=0, help_text=_("Lower numbers come first."))
    body = models.TextField(_("text"), blank=True, help_text=_("Markdown. Cite sources as [@key] or [@key, p. 4]."))
    body_html = models.TextField(editable=False, blank=True)
    # The notes ``body_html`` cites, numbered 1, 2… within the section: each {"source": id or None,
    # "key", "locator", "count"}. The article page renumbers them in reading order (articles.publishing.article_page).
    notes = models.JSONField(editable=False, default=list, blank=True)
    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), blank=True, related_name="sections")
    # Derived when published: the topics whose timeline the text embeds ({{timeline:slug}}), so
    # that publishing an event finds the articles showing it through an index.
    timelines = models.ManyToManyField(
        Topic, verbose_name=_("timelines shown"), blank=True, editable=False, related_name="embedding_sections"
    )
    sources = models.ManyToManyField(
        Source, through="Citation", verbose_name=_("sources cited"), related_name="cited_in_sections", blank=True
    )

    objects = SectionQuerySet.as_manager()
    _topic_links = None  # see topic_list

    class Meta:
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ["article", "position", "pk"]
        indexes = [
            # An article's sections in reading order; the admin's list, most recently changed first.
            models.Index(fields=["article", "position", "id"], name="section_reading_order"),
            models.Index(fields=["updated_at", "id"], name="section_recently_changed"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["article", "anchor"], name="section_anchor_unique_in_article"),
            models.CheckConstraint(condition=~Q(parent=models.F("pk")), name="section_not_own_parent"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return f"{self.article.get_absolute_url()}#{self.anchor}"

    def owning_article(self):
        return self.article

    @property
    def level(self):
        return 3 if self.parent_id else 2

    @property
    def topic_list(self):
        """The published topics the article page links: ``article_page.compose`` sets them for a whole
        page in one query; an unsaved section in a preview has none."""
        if self._topic_links is None:
            self._topic_links = [TopicLink(t.name, t.slug, t.pk) for t in self.topics.published()] if self.pk else []
        return self._topic_links

    @topic_list.setter
    def topic_list(self, links):
        self._topic_links = links

    def clean(self):
        super().clean()
        if self.parent_id:
            parent = self.parent
            if parent.parent_id:
                raise ValidationError(
                    {"parent": _("Subsections cannot have subsections of their own: choose a main section.")}
                )
            if self.article_id and parent.article_id != self.article_id:
                raise ValidationError({"parent": _("The parent section belongs to another article.")})
            if self.pk and parent.pk == self.pk:
                raise ValidationError({"parent": _("A section cannot be its own parent.")})


class Citation(models.Model):
    """Derived from section Markdown at publish time: which sources a section cites."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="citations")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="citations")
    locator = models.CharField(max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("citation")
        verbose_name_plural = _("citations")
        ordering = ["section", "position"]
        constraints = [
            models.UniqueConstraint(fields=["section", "position"], name="citation_position_unique_in_section"),
        ]

    def __str__(self):
        return f"{self.section} → {self.source.key}"


# --- Timeline (reading and discovery) -----------------------------------------------------


class TimelineEventQuerySet(ModeratedQuerySet):
    def for_timeline(self):
        """Published events in date order, with the published topics each one is tagged with."""
        return self.published().prefetch_related(
            models.Prefetch("topics", queryset=Topic.objects.published().only("name", "slug").order_by("name"))
        )


class TimelineEvent(ModeratedContent):
    """A dated event, shown on the site's timeline and on the timelines of its topics.

    The date has the precision that is known: a year, a month or a day. An event known only by
    its year sorts before the events of that year with a month, and a month before its days.
    ``text_html`` and ``cited_sources`` are derived from ``text`` when the event is published.
    """

    REVISION_FIELDS = ("title", "date_year", "date_month", "date_day", "text", "topics")

    title = models.CharField(
        _("title"), max_length=200, help_text=_("What happened, in a few words, e.g. “MINUSMA created”.")
    )
    date_year = models.PositiveSmallIntegerField(_("year"))
    date_month = models.PositiveSmallIntegerField(
        _("month"), null=True, blank=True, help_text=_("1 to 12. Leave empty when only the year is known.")
    )
    date_day = models.PositiveSmallIntegerField(
        _("day"), null=True, blank=True, help_text=_("Leave empty when only the month is known.")
    )
    text = models.TextField(
        _("text"), blank=True, help_text=_("One or two sentences in Markdown. Cite sources as [@key].")
    )
    text_html = models.TextField(editable=False, blank=True)
    topics = models.ManyToManyField(
        Topic,
        verbose_name=_("topics"),
        blank=True,
        related_name="timeline_events",
        help_text=_("The event also shows on the timeline of each topic chosen here."),
    )
    cited_sources = models.ManyToManyField(
        Source, verbose_name=_("sources cited"), blank=True, editable=False, related_name="timeline_events"
    )

    objects = TimelineEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        ordering = [
            "date_year",
            models.F("date_month").asc(nulls_first=True),
            models.F("date_day").asc(nulls_first=True),
            "title",
            "pk",
        ]
        constraints = dates.check_constraints("timelineevent", year_required=True)

    def __str__(self):
        return f"{self.date_display}: {self.title}"

    def get_absolute_url(self):
        return reverse("articles:timeline") + f"#event-{self.pk}"

    def clean(self):
        super().clean()
        self.date.validate(year_required=True)

    @property
    def date(self) -> dates.PartialDate:
        return dates.PartialDate(self.date_year, self.date_month, self.date_day)

    @property
    def date_display(self) -> str:
        """“2013”, “April 2013” or “25 April 2013”: only the precision that is known, in the interface language."""
        return self.date.display()

    @property
    def date_iso(self) -> str:
        """The date for ``<time datetime>``: “2013”, “2013-04” or “2013-04-25”."""
        return self.date.iso()
