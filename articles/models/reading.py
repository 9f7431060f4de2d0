"""What readers' pages are made from besides content: frozen versions, corrections, the search index."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from articles.models.content import Article, Figure, Section, Topic, TopicLink
from articles.models.revisions import Revision

# --- Published versions -------------------------------------------------------------------


@dataclass(frozen=True)
class VersionSection:
    """One section of an ArticleVersion, with the attributes the article template reads."""

    anchor: str
    title: str
    level: int
    html: str
    body: str = ""
    topics: tuple[TopicLink, ...] = field(default_factory=tuple)

    @classmethod
    def from_json(cls, data: dict) -> VersionSection:
        return cls(
            anchor=data["anchor"],
            title=data["title"],
            level=data["level"],
            html=data["html"],
            body=data.get("body", ""),
            topics=tuple(TopicLink(t["name"], t["slug"]) for t in data.get("topics", ())),
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
    ``articles.publishing.publish.record_version`` when the article's own content (its fields or a section)
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

    section = models.ForeignKey(
        Section, verbose_name=_("section"), on_delete=models.PROTECT, related_name="corrections"
    )
    problem = models.TextField(_("what is wrong"), max_length=2000)
    suggested_text = models.TextField(_("suggested text"), max_length=5000, blank=True)
    source_reference = models.CharField(_("source"), max_length=500, blank=True)
    email = models.EmailField(_("reader's e-mail"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=CorrectionStatus.choices, default=CorrectionStatus.OPEN, db_index=True
    )
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True, db_index=True)
    revision = models.ForeignKey(
        Revision,
        verbose_name=_("proposal made from it"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="corrections",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
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

    Derived data, never edited: ``articles.publishing.search_index`` writes it when content is published,
    from the same ``published()`` querysets the pages use, and ``articles.reading.search`` reads it.
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
        _("context"),
        max_length=300,
        blank=True,
        help_text=_("Shown beside the title: a section's article, a source's kind."),
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


# --- What topic and source pages list ------------------------------------------------------------


class MentionQuerySet(models.QuerySet):
    def of_source(self, source):
        return self.filter(source=source)

    def of_topic(self, topic):
        return self.filter(topic=topic)

    def in_title_order(self):
        """A page of articles in title order, read along an index: no sort of every mention."""
        return self.select_related("article").only("article__title", "article__slug", "sections", "citations")

    def totals(self) -> dict[str, int]:
        totals = self.aggregate(
            articles=models.Count("pk"), sections=models.Sum("sections"), citations=models.Sum("citations")
        )
        return {name: value or 0 for name, value in totals.items()}


class Mention(models.Model):
    """How much one published article says of one source (citations) or one topic (tagged sections).

    Derived data, counted when the article or one of its sections is published
    (``articles.publishing.mentions``), so that a source cited by every article, or a topic
    tagging a section of each, lists its articles a page at a time along an index, and counts
    them by reading one narrow row per article rather than every citation or section. Only
    published sections of published articles count; an article that is not live has none.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    # The article's title, copied so that the rows of one source or topic are read in title order.
    article_title = models.CharField(max_length=300)
    # Indexed by the constraints and indexes below, which start with them.
    source = models.ForeignKey(
        "articles.Source", null=True, blank=True, on_delete=models.CASCADE, related_name="mentions", db_index=False
    )
    topic = models.ForeignKey(
        Topic, null=True, blank=True, on_delete=models.CASCADE, related_name="mentions", db_index=False
    )
    sections = models.PositiveIntegerField()
    citations = models.PositiveIntegerField(default=0)

    objects = MentionQuerySet.as_manager()

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        ordering = ["article_title", "article"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__isnull=True, topic__isnull=False) | Q(source__isnull=False, topic__isnull=True),
                name="mention_of_a_source_or_a_topic",
            ),
            models.UniqueConstraint(fields=["source", "article"], name="mention_unique_source_article"),
            models.UniqueConstraint(fields=["topic", "article"], name="mention_unique_topic_article"),
        ]
        indexes = [
            models.Index(
                fields=["source", "article_title", "article"],
                condition=Q(source__isnull=False),
                name="mention_source_title_order",
            ),
            models.Index(
                fields=["topic", "article_title", "article"],
                condition=Q(topic__isnull=False),
                name="mention_topic_title_order",
            ),
        ]

    def __str__(self):
        return f"{self.article_title} → {self.source or self.topic}"
