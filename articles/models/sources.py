"""Sources: what the articles cite, formatted in Chicago's notes-and-bibliography style."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from articles.content import dates
from articles.models.base import ModeratedContent, ModeratedQuerySet, PublicationState


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
        "key",
        "kind",
        "title",
        "authors",
        "publisher",
        "container_title",
        "date_year",
        "date_month",
        "date_day",
        "url",
        "accessed_on",
        "identifier",
        "notes",
    )
    SLUG_FIELD = "key"

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
    accessed_on = models.DateField(
        _("accessed on"), null=True, blank=True, help_text=_("When the URL was last checked.")
    )
    identifier = models.CharField(
        _("identifier"),
        max_length=200,
        blank=True,
        help_text=_("DOI, ISBN, or a UN document symbol such as S/RES/2100 (2013)."),
    )
    notes = models.TextField(_("notes"), blank=True, help_text=_("For editors; not shown to readers."))
    # --- Stored fragments (articles.publishing.fragments) ---
    # Formatted when the source is published; article pages put them together at read time, so a
    # new title reaches every citing page without touching those articles.
    note_html = models.TextField(_("note (HTML)"), editable=False, blank=True)
    note_with_locator_html = models.TextField(
        _("note with a place cited (HTML)"),
        editable=False,
        blank=True,
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
        return self.date.display()

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
        rest = [format_html("<cite>{}</cite>", self.container_title)] if self.container_title else []
        rest += self._facts(creator) + ([locator] if locator else [])
        html = format_html("{}, ", creator) if creator else mark_safe("")
        html += self._title_with("," if rest else ".")
        if rest:
            html += mark_safe(" ") + format_html_join(", ", "{}", ((p,) for p in rest)) + mark_safe(".")
        if self.url:
            html += mark_safe(" ") + self._url_html()
        return mark_safe(html)

    def _short_creator(self) -> str:
        """Surnames for a shortened note: “Bergamaschi”, “Boeke and Schuurman”, “Smith et al.”."""
        names = [a.strip().rsplit(" ", 1)[-1] for a in self.authors if a.strip()]
        if not names:
            return self._creator(note=True)
        if len(names) > 3:
            return f"{names[0]} et al."
        if len(names) == 1:
            return names[0]
        return ", ".join(names[:-1]) + ("," if len(names) > 2 else "") + f" and {names[-1]}"

    @property
    def short_title(self) -> str:
        """The title before any subtitle, cut to four words: Chicago's shortened form."""
        main = self.title.split(":", 1)[0].strip()
        words = main.split()
        return main if len(words) <= 4 else " ".join(words[:4]).rstrip(",;")

    def format_short_note(self, locator: str = "") -> str:
        """The shortened note for a source the page cited before: Creator, “Short Title,” locator."""
        creator = self._short_creator()
        html = format_html("{}, ", creator) if creator else mark_safe("")
        if self._title_is_quoted:
            html += format_html("“{}{}”", self.short_title, "," if locator else ".")
        else:
            html += format_html("<cite>{}</cite>{}", self.short_title, "," if locator else ".")
        if locator:
            html += format_html(" {}.", locator.rstrip("."))
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
