"""Admins of the moderated content: articles, sections, topics, sources, figures, timeline events."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from articles.admin import comments as conversation
from articles.admin import workflows as workflow_admin
from articles.admin.addresses import OldAddressesAdmin
from articles.admin.base import ModeratedAdmin, markdown_widget, without_delete_icon
from articles.admin.filters import RecentArticleFilter
from articles.admin.forms import (
    FigureForm,
    InlineModelForm,
    RejectForm,
    SourceForm,
)
from articles.admin.source_import import SourceImportMixin
from articles.models import (
    Article,
    Figure,
    PublicationState,
    Revision,
    RevisionAction,
    Section,
    Source,
    TimelineEvent,
    Topic,
)
from articles.revisions import diffing, merging, moderation, review_steps

# --- Content admins ----------------------------------------------------------------------

# Above this many sections the article's change form lists them instead of inlining a form for each.
INLINE_SECTIONS_LIMIT = 30


class SectionInline(admin.StackedInline):
    model = Section
    fk_name = "article"
    form = InlineModelForm
    extra = 0
    fields = ("title", "anchor", "parent", "position", "body", "topics", "base_revision")
    prepopulated_fields = {"anchor": ("title",)}
    autocomplete_fields = ("topics",)
    show_change_link = True

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "body":
            kwargs.update(markdown_widget(request, db_field, in_article_form=True))
        return without_delete_icon(super().formfield_for_dbfield(db_field, request, **kwargs))

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(state=PublicationState.DELETED).select_related("parent")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = (
                Section.objects.filter(article_id=object_id, parent__isnull=True).exclude(
                    state=PublicationState.DELETED
                )
                if object_id
                else Section.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class StateListFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return PublicationState.choices

    def queryset(self, request, queryset):
        return queryset.filter(state=self.value()) if self.value() else queryset


@admin.register(Article)
class ArticleAdmin(OldAddressesAdmin, ModeratedAdmin):
    list_display = ("title", "state", "section_count", "published_at", "updated_at")
    list_filter = (StateListFilter,)
    # Rendering a row costs more than finding it: a page of 25 keeps the list as quick with
    # 5,000 articles as with 10. The search box and the "by state" filter find the rest.
    list_per_page = 25
    search_fields = ("title", "slug", "dek")
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("lead_figure",)
    inlines = [SectionInline]
    fieldsets = (
        (None, {"fields": ("title", "dek", "lead_figure")}),
        (_("Advanced"), {"fields": ("slug", "state_display"), "classes": ("collapse",)}),
    )

    def get_queryset(self, request):
        # A subquery per listed row rather than a join grouped over every section of the site:
        # only the page of articles shown is counted.
        live = (
            Section.objects.filter(article=OuterRef("pk"), state=PublicationState.LIVE)
            .order_by()
            .values("article")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return super().get_queryset(request).annotate(live_sections=Coalesce(Subquery(live), 0))

    @admin.display(description=_("Published sections"), ordering="live_sections")
    def section_count(self, obj):
        return obj.live_sections

    # --- Long articles: a list of their sections instead of a form for each ----------------------

    def _section_total(self, request, obj) -> int:
        """The article's sections (deleted ones aside), counted once per request."""
        totals = request.__dict__.setdefault("_article_section_totals", {})
        if obj.pk not in totals:
            totals[obj.pk] = Section.objects.filter(article_id=obj.pk).exclude(state=PublicationState.DELETED).count()
        return totals[obj.pk]

    def _is_long(self, request, obj) -> bool:
        return obj is not None and obj.pk is not None and self._section_total(request, obj) > INLINE_SECTIONS_LIMIT

    def get_inlines(self, request, obj):
        # A form per section is fine for a short article; for a long one the page would weigh
        # megabytes and take minutes. Its sections are then edited on their own change pages.
        return [] if self._is_long(request, obj) else super().get_inlines(request, obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self._is_long(request, obj):
            fieldsets = [*fieldsets[:-1], (_("Sections"), {"fields": ("section_overview",)}), fieldsets[-1]]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "section_overview")

    @admin.display(description=_("Sections in reading order"))
    def section_overview(self, obj):
        """Position, title (linking to the section's change page), state: one query, one line each."""
        if obj is None or obj.pk is None:
            return "—"
        sections = (
            Section.objects.filter(article_id=obj.pk)
            .exclude(state=PublicationState.DELETED)
            .order_by("position", "pk")
            .values_list("pk", "position", "title", "state", "parent_id")
        )
        states = dict(PublicationState.choices)
        rows = format_html_join(
            "\n",
            '<tr{}><td class="position">{}</td><td><a href="{}">{}</a></td><td>{}</td></tr>',
            (
                (
                    mark_safe(' class="subsection"') if parent_id else "",
                    position,
                    reverse("admin:articles_section_change", args=[pk]),
                    title,
                    states.get(state, state),
                )
                for pk, position, title, state, parent_id in sections
            ),
        )
        changelist = reverse("admin:articles_section_changelist") + f"?article__id__exact={obj.pk}"
        return format_html(
            '<p>{} <a href="{}">{}</a> · <a href="{}">{}</a></p>'
            '<table class="section-overview"><thead><tr><th scope="col">{}</th><th scope="col">{}</th>'
            '<th scope="col">{}</th></tr></thead><tbody>{}</tbody></table>',
            _("This article is long: edit each section on its own page."),
            changelist,
            _("Search and filter its sections"),
            reverse("admin:articles_section_add") + f"?article={obj.pk}",
            _("Add a section"),
            _("Position"),
            _("Title"),
            _("State"),
            rows,
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/review/", self.admin_site.admin_view(self.review_view), name="articles_article_review"
            ),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "review_url": reverse("admin:articles_article_review", args=[object_id]),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def review_view(self, request, object_id):
        """Everything pending for one article, as one diff, approved or rejected in one go."""
        article = self.get_object(request, unquote(object_id))
        if article is None:
            raise Http404
        if not self.has_view_or_change_permission(request, article):
            raise PermissionDenied
        pending = list(Revision.objects.pending_for_article(article))
        if request.method == "POST":
            if not review_steps.may_review(request.user):
                raise PermissionDenied
            chosen = [r for r in pending if str(r.pk) in request.POST.getlist("revision")]
            if not chosen:
                self.message_user(request, _("Select at least one proposal."), messages.WARNING)
            elif "reject" in request.POST:
                form = RejectForm(request.POST)
                if form.is_valid():
                    with transaction.atomic():
                        for revision in chosen:
                            moderation.reject(
                                revision=revision, moderator=request.user, reason=form.cleaned_data["reason"]
                            )
                    self.message_user(
                        request,
                        ngettext("%d proposal rejected.", "%d proposals rejected.", len(chosen)) % len(chosen),
                        messages.SUCCESS,
                    )
                else:
                    self.message_user(
                        request, _("Give a reason for rejecting: the authors will see it."), messages.ERROR
                    )
            else:
                try:
                    approved = moderation.approve_many(revisions=chosen, moderator=request.user)
                except ValidationError as error:
                    self.message_user(request, " ".join(error.messages), messages.ERROR)
                else:
                    self.message_user(request, workflow_admin.decisions_message(approved), messages.SUCCESS)
            return HttpResponseRedirect(request.path)
        items = []
        for revision in pending:
            obj = revision.get_object()
            live = obj.snapshot() if obj is not None and obj.live_revision_id else {}
            proposed = {} if revision.action == RevisionAction.DELETE else revision.data
            items.append(
                {
                    "revision": revision,
                    "stale": merging.is_stale(revision, obj),
                    "changes": diffing.compare(revision.model_class, live, proposed),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Review everything pending for “%s”") % article,
            "opts": self.opts,
            "object": article,
            "items": items,
            "can_moderate": moderation.can_moderate(request.user),
            "reject_form": RejectForm(),
            # Share links to everything pending here, for reviewers without an account.
            **conversation.article_share_context(request, article),
        }
        context["can_share"] = context["can_share"] and bool(items)
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/articles/article_review.html", context)


@admin.register(Section)
class SectionAdmin(ModeratedAdmin):
    list_display = ("title", "article", "parent", "position", "state", "updated_at")
    list_filter = (StateListFilter, RecentArticleFilter, "topics")
    list_select_related = ("article", "parent")
    show_full_result_count = False  # One count of tens of thousands of rows per page is enough.
    # An article's title finds its sections: the filter above lists only recent articles.
    search_fields = ("title", "anchor", "body", "article__title")
    autocomplete_fields = ("article", "parent", "topics")
    prepopulated_fields = {"anchor": ("title",)}
    # Most recently changed first, read along an index however many sections there are; one
    # article's sections in reading order.
    ordering = ("-updated_at", "-pk")

    def get_ordering(self, request):
        if request.GET.get(RecentArticleFilter.parameter_name):
            return ("position", "pk")
        return super().get_ordering(request)

    fieldsets = (
        (None, {"fields": ("article", "title", "body", "topics")}),
        (_("Placement"), {"fields": ("parent", "position")}),
        (_("Advanced"), {"fields": ("anchor", "state_display"), "classes": ("collapse",)}),
    )


@admin.register(Topic)
class TopicAdmin(OldAddressesAdmin, ModeratedAdmin):
    list_display = ("name", "slug", "state", "updated_at")
    list_filter = (StateListFilter,)
    search_fields = ("name", "slug", "summary")
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = (
        (None, {"fields": ("name", "summary", "body")}),
        (_("Advanced"), {"fields": ("slug", "state_display"), "classes": ("collapse",)}),
    )


@admin.register(Source)
class SourceAdmin(SourceImportMixin, OldAddressesAdmin, ModeratedAdmin):
    form = SourceForm
    list_display = ("key", "title", "kind", "publisher", "date_display", "state")
    list_filter = (StateListFilter, "kind")
    search_fields = ("key", "title", "publisher", "identifier", "authors")
    fieldsets = (
        (None, {"fields": ("key", "kind", "title", "authors", "publisher", "container_title")}),
        (_("Date (fill in as much as is known)"), {"fields": (("date_year", "date_month", "date_day"),)}),
        (_("Where to find it"), {"fields": ("url", "accessed_on", "identifier")}),
        (_("Advanced"), {"fields": ("notes", "state_display"), "classes": ("collapse",)}),
    )

    @admin.display(description=_("Date"))
    def date_display(self, obj):
        return obj.date_display


@admin.register(Figure)
class FigureAdmin(ModeratedAdmin):
    form = FigureForm
    list_display = ("thumbnail", "alt_text", "caption", "credit", "state")
    list_filter = (StateListFilter,)
    search_fields = ("alt_text", "caption", "credit")
    fieldsets = (
        (None, {"fields": ("image", "alt_text", "caption")}),
        (_("Rights"), {"fields": ("credit", "licence")}),
        (_("Advanced"), {"fields": ("state_display",), "classes": ("collapse",)}),
    )

    @admin.display(description=_("Image"))
    def thumbnail(self, obj):
        if not obj.image:
            return "—"
        # A figure not (yet) approved has its file in the private storage, shown to staff by its own view.
        url = obj.image.url if obj.is_live else reverse("pending_figure_image", args=[obj.image.name])
        return format_html('<img src="{}" alt="" width="80" class="figure-thumbnail">', url)


# --- Timeline events (articles.publishing.timeline) ---------------------------------------------------


@admin.register(TimelineEvent)
class TimelineEventAdmin(ModeratedAdmin):
    list_display = ("title", "date_column", "topic_names", "state", "updated_at")
    list_filter = (StateListFilter, "topics", "date_year")
    search_fields = ("title", "text")
    autocomplete_fields = ("topics",)
    fieldsets = (
        (None, {"fields": ("title", "text", "topics")}),
        (_("Date (fill in as much as is known)"), {"fields": (("date_year", "date_month", "date_day"),)}),
        (_("Advanced"), {"fields": ("state_display",), "classes": ("collapse",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("topics")

    @admin.display(description=_("Date"), ordering="date_year")
    def date_column(self, obj):
        return obj.date_display

    @admin.display(description=_("Topics"))
    def topic_names(self, obj):
        return ", ".join(topic.name for topic in obj.topics.all()) or "—"
