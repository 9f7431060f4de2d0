"""Content and revision models.

Live content (Article, Section, Topic, Source, Figure) is what readers see. Every change to it
is a Revision: a JSON snapshot of the proposed fields plus the revision it was based on.
Publishing (articles.publishing) applies a revision in one transaction and moves the object's
``live_revision`` pointer; nothing here writes live content on its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from . import dates, markup


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
                data[name] = field.value_to_string(self) if isinstance(
                    field, (models.DateField, models.DateTimeField)
                ) else getattr(self, name)
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


class Figure(ModeratedContent):
    REVISION_FIELDS = ("image", "alt_text", "caption", "credit", "licence")

    image = models.ImageField(
        _("image"),
        upload_to="figures/",
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
    # --- Responsive renditions (articles.renditions) ---
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
        return self.caption or self.alt_text

    def get_absolute_url(self):
        return self.image.url if self.image else ""

    @property
    def picture(self):
        """The figure's responsive renditions for templates, or None when there are none (yet)."""
        from .renditions import Picture

        return Picture.for_figure(self)


class Topic(ModeratedContent):
    REVISION_FIELDS = ("name", "slug", "summary", "body")

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


class SourceKind(models.TextChoices):
    BOOK = "book", _("Book")
    JOURNAL_ARTICLE = "journal", _("Journal article")
    REPORT = "report", _("Report")
    UN_DOCUMENT = "un_document", _("UN document")
    NEWS_ARTICLE = "news", _("News article")
    WEB_PAGE = "web", _("Web page")
    DATASET = "dataset", _("Dataset")
    OTHER = "other", _("Other")


class SourceQuerySet(ModeratedQuerySet):
    def cited_in_article(self, article):
        """The article's bibliography: published sources its published sections cite."""
        return (
            self.published()
            .filter(citations__section__article=article, citations__section__state=PublicationState.LIVE)
            .distinct()
            .order_by("title")
        )


class Source(ModeratedContent):
    REVISION_FIELDS = (
        "key", "kind", "title", "authors", "publisher", "container_title",
        "date_year", "date_month", "date_day", "url", "accessed_on", "identifier", "notes",
    )

    key = models.SlugField(
        _("citation key"),
        max_length=100,
        unique=True,
        help_text=_("Short, stable name used to cite this source in Markdown as [@key], e.g. unsc-res-2100."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=SourceKind.choices, default=SourceKind.WEB_PAGE)
    title = models.CharField(_("title"), max_length=500)
    authors = models.JSONField(
        _("authors"),
        default=list,
        blank=True,
        help_text=_("People, in order. Leave empty when an organisation is the author."),
    )
    publisher = models.CharField(
        _("organisation or publisher"),
        max_length=300,
        blank=True,
        help_text=_("E.g. United Nations Security Council."),
    )
    container_title = models.CharField(
        _("published in"),
        max_length=300,
        blank=True,
        help_text=_("The journal, newspaper or website the item appeared in, if any."),
    )
    date_year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    date_month = models.PositiveSmallIntegerField(_("month"), null=True, blank=True)
    date_day = models.PositiveSmallIntegerField(_("day"), null=True, blank=True)
    url = models.URLField(_("URL"), max_length=500, blank=True)
    accessed_on = models.DateField(_("accessed on"), null=True, blank=True, help_text=_("When the URL was last checked."))
    identifier = models.CharField(
        _("identifier"),
        max_length=200,
        blank=True,
        help_text=_("DOI, ISBN, or a UN document symbol such as S/RES/2100 (2013)."),
    )
    notes = models.TextField(_("notes"), blank=True, help_text=_("For editors; not shown to readers."))
    # --- Stored fragments (articles.fragments) ---
    # Formatted when the source is published; article pages put them together at read time, so a
    # new title reaches every citing page without touching those articles.
    note_html = models.TextField(_("note (HTML)"), editable=False, blank=True)
    note_with_locator_html = models.TextField(
        _("note with a place cited (HTML)"), editable=False, blank=True,
        help_text=_("The note with a mark where the page or paragraph cited goes."),
    )
    bibliography_html = models.TextField(_("bibliography entry (HTML)"), editable=False, blank=True)

    objects = SourceQuerySet.as_manager()

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["key"]
        constraints = dates.check_constraints("source")

    def __str__(self):
        return f"{self.title} [{self.key}]"

    def get_absolute_url(self):
        return reverse("articles:source_detail", kwargs={"key": self.key})

    def clean(self):
        super().clean()
        if not isinstance(self.authors, list) or not all(isinstance(a, str) and a.strip() for a in self.authors):
            raise ValidationError({"authors": _("Give the authors as a list of names.")})
        self.date.validate()

    @property
    def date(self) -> dates.PartialDate:
        return dates.PartialDate(self.date_year, self.date_month, self.date_day)

    # Citation formatting (Chicago notes-bibliography) -------------------------------------

    @property
    def date_display(self) -> str:
        return self.date.display(citation=True)

    def _authors_for_note(self) -> str:
        names = [a.strip() for a in self.authors]
        if not names:
            return ""
        if len(names) == 1:
            return names[0]
        if len(names) == 2:
            return f"{names[0]} and {names[1]}"
        if len(names) > 3:
            return f"{names[0]} et al."
        return ", ".join(names[:-1]) + f", and {names[-1]}"

    def _authors_for_bibliography(self) -> str:
        names = [a.strip() for a in self.authors]
        if not names:
            return ""

        def inverted(name):
            parts = name.rsplit(" ", 1)
            return f"{parts[1]}, {parts[0]}" if len(parts) == 2 else name

        if len(names) == 1:
            return inverted(names[0])
        return ", ".join([inverted(names[0])] + names[1:-1]) + f", and {names[-1]}"

    @property
    def _title_is_quoted(self) -> bool:
        # Books, reports and datasets are italicised; shorter works are quoted.
        return self.kind not in (SourceKind.BOOK, SourceKind.REPORT, SourceKind.DATASET)

    def _creator(self, *, note: bool) -> str:
        creator = self._authors_for_note() if note else self._authors_for_bibliography()
        if not creator and self.publisher and self.kind != SourceKind.UN_DOCUMENT:
            creator = self.publisher
        return creator

    def _title_with(self, punctuation: str):
        """The title, with the punctuation that follows it inside the quotes, as Chicago wants."""
        if self._title_is_quoted:
            return format_html("“{}{}”", self.title, punctuation)
        return format_html("<cite>{}</cite>{}", self.title, punctuation)

    def _facts(self, creator: str) -> list[str]:
        facts = []
        if self.publisher and self.publisher != creator:
            facts.append(self.publisher)
        if self.identifier:
            facts.append(self.identifier)
        if self.date_display:
            facts.append(self.date_display)
        return facts

    @property
    def sort_key(self) -> tuple:
        """Bibliographies are ordered by what each entry starts with."""
        return (self._creator(note=False) or self.title).casefold(), self.title.casefold()

    def _url_html(self):
        if not self.url:
            return ""
        accessed = ""
        if self.accessed_on:
            accessed = f"Accessed {self.accessed_on.strftime('%B')} {self.accessed_on.day}, {self.accessed_on.year}. "
        return format_html('{}<a href="{}">{}</a>', accessed, self.url, self.url)

    def format_note(self, locator: str = "") -> str:
        """A Chicago-style note, as safe HTML: Creator, “Title,” Container, Publisher, Date, locator."""
        creator = self._creator(note=True)
        rest = ([format_html("<cite>{}</cite>", self.container_title)] if self.container_title else [])
        rest += self._facts(creator) + ([locator] if locator else [])
        html = format_html("{}, ", creator) if creator else mark_safe("")
        html += self._title_with("," if rest else ".")
        if rest:
            html += mark_safe(" ") + format_html_join(", ", "{}", ((p,) for p in rest)) + mark_safe(".")
        if self.url:
            html += mark_safe(" ") + self._url_html()
        return mark_safe(html)

    def format_bibliography(self) -> str:
        """A Chicago-style bibliography entry, as safe HTML: Creator. “Title.” Container. Publisher, Date."""
        creator = self._creator(note=False)
        html = format_html("{}. ", creator.rstrip(".")) if creator else mark_safe("")
        html += self._title_with(".")
        if self.container_title:
            html += format_html(" <cite>{}</cite>.", self.container_title)
        facts = self._facts(creator)
        if facts:
            html += mark_safe(" ") + format_html_join(", ", "{}", ((p,) for p in facts)) + mark_safe(".")
        if self.url:
            html += mark_safe(" ") + self._url_html()
        return mark_safe(html)


class Article(ModeratedContent):
    REVISION_FIELDS = ("title", "slug", "dek", "lead_figure")

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
        """Published sections in reading order with everything the article page shows."""
        return (
            self.published()
            .select_related("parent")
            .prefetch_related(
                models.Prefetch("topics", queryset=Topic.objects.published().only("name", "slug"))
            )
            .order_by("position", "pk")
        )


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
    # "key", "locator", "count"}. The article page renumbers them in reading order (articles.article_page).
    notes = models.JSONField(editable=False, default=list, blank=True)
    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), blank=True, related_name="sections")
    sources = models.ManyToManyField(
        Source, through="Citation", verbose_name=_("sources cited"), related_name="cited_in_sections", blank=True
    )

    objects = SectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ["article", "position", "pk"]
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
        """The topics the article page links (prefetched there); an unsaved section in a preview has none."""
        return self.topics.all() if self.pk else []

    def clean(self):
        super().clean()
        if self.parent_id:
            parent = self.parent
            if parent.parent_id:
                raise ValidationError({"parent": _("Subsections cannot have subsections of their own: choose a main section.")})
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


# --- Revisions ----------------------------------------------------------------------------


class RevisionAction(models.TextChoices):
    CREATE = "create", _("Create")
    CHANGE = "change", _("Change")
    DELETE = "delete", _("Delete")
    UNPUBLISH = "unpublish", _("Unpublish")
    RESTORE = "restore", _("Restore")


class RevisionStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    SCHEDULED = "scheduled", _("Approved, scheduled")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class RevisionQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=RevisionStatus.PENDING)

    def scheduled(self):
        return self.filter(status=RevisionStatus.SCHEDULED)

    def due(self, now=None):
        """Scheduled revisions whose time has come, earliest first."""
        from django.utils import timezone

        return self.scheduled().filter(scheduled_for__lte=now or timezone.now()).order_by("scheduled_for", "pk")

    def published(self):
        return self.filter(status=RevisionStatus.PUBLISHED)

    def for_object(self, obj):
        return self.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)

    def for_queue(self):
        """Pending proposals, oldest first, with what the queue shows on each row."""
        return self.pending().select_related("content_type", "author", "article", "base").order_by("created_at", "pk")

    def pending_for_article(self, article):
        """Everything pending that would change how ``article`` reads: its own proposals and those
        for the topics, sources and lead figure it uses (including sources its pending sections cite)."""
        def ids(model, pks):
            return Q(content_type=ContentType.objects.get_for_model(model), object_id__in=list(pks))

        pending = self.pending()
        own = pending.filter(article=article)
        cited_keys = {
            key
            for body in own.filter(content_type=ContentType.objects.get_for_model(Section))
            .values_list("data__body", flat=True)
            for key in markup.citation_keys(body or "")
        }
        sources = Source.objects.filter(
            Q(citations__section__article=article) | Q(key__in=cited_keys)
        ).values_list("pk", flat=True)
        topics = Topic.objects.filter(sections__article=article).values_list("pk", flat=True)
        figures = [article.lead_figure_id] if article.lead_figure_id else []
        return (
            pending.filter(Q(article=article) | ids(Source, sources) | ids(Topic, topics) | ids(Figure, figures))
            .select_related("content_type", "author", "base")
            .order_by("created_at", "pk")
            .distinct()
        )


class Revision(models.Model):
    """One proposed or published state of a content object. Never changed once decided."""

    content_type = models.ForeignKey(ContentType, verbose_name=_("kind"), on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField(_("object id"), db_index=True)
    object_repr = models.CharField(_("object"), max_length=300)
    article = models.ForeignKey(
        Article,
        verbose_name=_("article"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="revisions",
        help_text=_("The article this change belongs to, for grouping in the queue."),
    )
    action = models.CharField(_("action"), max_length=16, choices=RevisionAction.choices, default=RevisionAction.CHANGE)
    status = models.CharField(
        _("status"), max_length=16, choices=RevisionStatus.choices, default=RevisionStatus.PENDING, db_index=True
    )
    data = models.JSONField(_("content"), default=dict)
    base = models.ForeignKey(
        "self",
        verbose_name=_("based on"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The live revision the author was editing."),
    )
    summary = models.CharField(_("edit summary"), max_length=300)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="revisions",
    )
    author_name = models.CharField(_("author name"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("proposed at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("last amended"), auto_now=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decided_revisions",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("reason"), blank=True)
    scheduled_for = models.DateTimeField(
        _("publish at"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("When an approved proposal goes live; empty means at once."),
    )
    original_data = models.JSONField(
        _("content as proposed"),
        null=True,
        blank=True,
        help_text=_("The author's own version, kept when a moderator merged or resolved it with newer changes."),
    )
    original_base = models.ForeignKey(
        "self",
        verbose_name=_("originally based on"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reverted_from = models.ForeignKey(
        "self",
        verbose_name=_("reverts to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = RevisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("moderate_revision", _("Can approve, reject, publish directly and revert revisions")),
            ("propose_revision", _("Can propose revisions")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=RevisionStatus.REJECTED) | ~Q(decision_note=""),
                name="revision_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status=RevisionStatus.PENDING) | Q(decided_at__isnull=False),
                name="revision_decision_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status=RevisionStatus.SCHEDULED) | Q(scheduled_for__isnull=False),
                name="revision_schedule_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id", "status"], name="revision_object_status"),
            # The review queue: pending first, oldest first, without sorting the whole table.
            models.Index(fields=["status", "created_at", "id"], name="revision_queue_order"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.content_type.name} “{self.object_repr}” #{self.pk}"

    @property
    def model_class(self):
        return self.content_type.model_class()

    def get_object(self):
        return self.model_class._default_manager.filter(pk=self.object_id).first()

    def as_object(self):
        """A detached copy of the object with this revision's content, for previews and forms.

        Fetched afresh and never saved: a live row held in memory elsewhere is never changed
        (like Wagtail's ``with_content_json``). Many-to-many values are on ``pending_m2m``.
        """
        obj = self.get_object()
        if obj is not None:
            obj.pending_m2m = obj.apply_snapshot(self.data)
        return obj

    @property
    def is_pending(self):
        return self.status == RevisionStatus.PENDING

    def get_admin_url(self):
        return reverse("admin:articles_revision_change", args=[self.pk])

    def delete(self, *args, **kwargs):
        raise PermissionDenied(_("Revisions are the history of the site and are never deleted."))


class ModerationEvent(models.Model):
    """The audit trail: who did what to which revision, and when."""

    class Kind(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        AMENDED = "amended", _("Amended")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        APPROVED = "approved", _("Approved and published")
        PUBLISHED_DIRECTLY = "published_directly", _("Published directly")
        MERGED = "merged", _("Merged with newer changes")
        SCHEDULED = "scheduled", _("Approved for a later time")
        SCHEDULE_FAILED = "schedule_failed", _("Scheduled publishing failed")
        REJECTED = "rejected", _("Rejected")
        REVERTED = "reverted", _("Reverted")
        OVERRIDDEN = "overridden", _("Changed by a superuser")
        PUBLISHED_OVER = "published_over", _("Published over newer changes")

    revision = models.ForeignKey(Revision, verbose_name=_("revision"), on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("by (name)"), max_length=150, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("moderation event")
        verbose_name_plural = _("moderation events")
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.revision}"


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


MODERATED_MODELS = (Article, Section, Topic, Source, Figure, TimelineEvent)


# --- Published versions -------------------------------------------------------------------


@dataclass(frozen=True)
class VersionTopic:
    name: str
    slug: str

    def get_absolute_url(self):
        return reverse("articles:topic_detail", kwargs={"slug": self.slug})


@dataclass(frozen=True)
class VersionSection:
    """One section of an ArticleVersion, with the attributes the article template reads."""

    anchor: str
    title: str
    level: int
    html: str
    body: str = ""
    topics: tuple[VersionTopic, ...] = field(default_factory=tuple)

    @classmethod
    def from_json(cls, data: dict) -> VersionSection:
        return cls(
            anchor=data["anchor"],
            title=data["title"],
            level=data["level"],
            html=data["html"],
            body=data.get("body", ""),
            topics=tuple(VersionTopic(t["name"], t["slug"]) for t in data.get("topics", ())),
        )

    @property
    def topic_list(self):
        return self.topics


class ArticleVersionQuerySet(models.QuerySet):
    def for_article(self, article):
        """The article's published versions, newest first (each knows its article, for its URL)."""
        return self.filter(article=article).select_related("article").order_by("-number")

    def for_listing(self):
        """Only what lists and links show: not the frozen content, nor the article's stored HTML."""
        return self.only("number", "created_at", "editor_name", "summary", "title", "article__slug")


class ArticleVersion(models.Model):
    """A published state of an article, frozen as readers saw it: the target of a permalink.

    The content is stored rendered (and the Markdown beside it, for comparing) rather than as
    links to live rows, because sections, sources and figures keep changing after publication,
    and a citation must keep pointing at the text the reader cited. Recorded by
    ``articles.publishing.record_version`` when the article's own content (its fields or a section)
    is published; a later change to a source, topic or figure it shows does not touch it. Never edited.
    """

    # What readers see: a new version is recorded only when these differ from the latest one.
    CONTENT_FIELDS = ("title", "dek", "dek_html", "sections", "notes_html", "bibliography_html", "lead_figure")

    article = models.ForeignKey(Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"), help_text=_("1, 2, 3… per article, in order of publication."))
    created_at = models.DateTimeField(_("published at"), auto_now_add=True)
    revision = models.ForeignKey(
        Revision,
        verbose_name=_("revision"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The revision whose publication produced this version."),
    )
    # Copied from the revision so that the public history needs no joins to users.
    editor_name = models.CharField(_("editor"), max_length=150, blank=True)
    summary = models.CharField(_("edit summary"), max_length=300, blank=True)

    title = models.CharField(_("title"), max_length=300)
    dek = models.TextField(_("introduction"), blank=True, help_text=_("The Markdown, for comparing versions."))
    dek_html = models.TextField(_("introduction (HTML)"), blank=True)
    sections = models.JSONField(
        _("sections"),
        default=list,
        blank=True,
        help_text=_("In reading order: anchor, title, level, html, body (Markdown) and topics (name, slug)."),
    )
    notes_html = models.TextField(_("notes (HTML)"), blank=True)
    bibliography_html = models.TextField(_("bibliography (HTML)"), blank=True)
    lead_figure = models.JSONField(
        _("lead figure"),
        null=True,
        blank=True,
        help_text=_("The stored image name, its size, alt text, caption, credit and licence, or empty."),
    )

    objects = ArticleVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_version_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="article_version_number_positive"),
        ]

    def __str__(self):
        return f"{self.title} (version {self.number})"

    def get_absolute_url(self):
        return reverse("articles:article_version", kwargs={"slug": self.article.slug, "number": self.number})

    def content(self) -> dict:
        return {name: getattr(self, name) for name in self.CONTENT_FIELDS}

    @property
    def section_list(self) -> list[VersionSection]:
        return [VersionSection.from_json(data) for data in self.sections]

    @property
    def lead_figure_url(self) -> str:
        # The stored name, not a URL, is frozen: the storage's URLs may move or expire (signed URLs).
        if not self.lead_figure or not self.lead_figure.get("image"):
            return ""
        return Figure._meta.get_field("image").storage.url(self.lead_figure["image"])


class CorrectionStatus(models.TextChoices):
    OPEN = "open", _("Waiting")
    PROPOSED = "proposed", _("Turned into a proposal")
    ACCEPTED = "accepted", _("Accepted")
    DISMISSED = "dismissed", _("Dismissed")


class CorrectionSuggestionQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=[CorrectionStatus.OPEN, CorrectionStatus.PROPOSED])


class CorrectionSuggestion(models.Model):
    """A reader's "Suggest a correction": it waits for a moderator like an editor's proposal."""

    section = models.ForeignKey(Section, verbose_name=_("section"), on_delete=models.PROTECT,
                                related_name="corrections")
    problem = models.TextField(_("what is wrong"), max_length=2000)
    suggested_text = models.TextField(_("suggested text"), max_length=5000, blank=True)
    source_reference = models.CharField(_("source"), max_length=500, blank=True)
    email = models.EmailField(_("reader's e-mail"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=CorrectionStatus.choices,
                              default=CorrectionStatus.OPEN, db_index=True)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True, db_index=True)
    revision = models.ForeignKey(Revision, verbose_name=_("proposal made from it"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="corrections")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("note to the reader"), blank=True)

    objects = CorrectionSuggestionQuerySet.as_manager()

    class Meta:
        verbose_name = _("reader correction")
        verbose_name_plural = _("reader corrections")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.section}: {self.problem[:60]}"


# --- Search -------------------------------------------------------------------------------


class SearchEntryKind(models.TextChoices):
    ARTICLE = "article", _("Article")
    SECTION = "section", _("Section")
    TOPIC = "topic", _("Topic")
    SOURCE = "source", _("Source")


class SearchEntry(models.Model):
    """One published article, section, topic or source as the site search finds it.

    Derived data, never edited: ``articles.search_index`` writes it when content is published,
    from the same ``published()`` querysets the pages use, and ``articles.search`` reads it.
    ``text`` is the plain text readers see, kept so that snippets need no Markdown at query time.
    PostgreSQL matches ``vector`` (GIN-indexed by migration 0005); SQLite leaves it empty and
    matches an FTS5 table whose rowid is this row's id (also created by 0005). The GIN index is
    created there rather than declared in ``Meta.indexes`` because SQLite cannot build it.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=SearchEntryKind.choices)
    object_id = models.PositiveBigIntegerField(_("object id"))
    article = models.ForeignKey(
        Article,
        verbose_name=_("article"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("The article itself, or the article a section belongs to."),
    )
    title = models.CharField(_("title"), max_length=500)
    context = models.CharField(
        _("context"), max_length=300, blank=True, help_text=_("Shown beside the title: a section's article, a source's kind.")
    )
    url = models.CharField(_("address"), max_length=500)
    text = models.TextField(_("plain text"), blank=True)
    vector = SearchVectorField(null=True, editable=False)
    indexed_at = models.DateTimeField(_("indexed at"), auto_now=True)

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")
        ordering = ["kind", "object_id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="search_entry_unique_object"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.title}"

    def get_absolute_url(self):
        return self.url


# --- Follow-up work -----------------------------------------------------------------------


class FollowUpQuerySet(models.QuerySet):
    def unfinished(self):
        return self.filter(finished_at__isnull=True)


class FollowUp(models.Model):
    """What is left to do after a publish, once it has committed: written in the publish transaction.

    The transaction holds only the change; re-baking the static pages that show the object, and
    anything else that grows with the number of pages showing it, is done by a background task
    (articles.followups) in small batches. The row is the task's memory: ``cursor`` is the last
    article done, so a worker that dies between two batches loses nothing, and the next run (a
    retry, or ``manage.py run_follow_ups``) carries on from there.
    """

    content_type = models.ForeignKey(ContentType, verbose_name=_("kind"), on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField(_("object id"))
    # Where the object showed before this publish (old slug, old article, old topics…).
    before = models.JSONField(_("content before"), default=dict, blank=True)
    revision = models.ForeignKey(
        Revision, verbose_name=_("revision"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True, db_index=True)
    stale_pages_removed = models.BooleanField(_("stale pages removed"), default=False)
    cursor = models.PositiveBigIntegerField(_("last article done"), default=0)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, db_index=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.content_type.model} #{self.object_id} ({self.created_at:%Y-%m-%d %H:%M})"

    def get_object(self):
        return self.content_type.model_class()._default_manager.filter(pk=self.object_id).first()
