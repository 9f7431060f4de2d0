"""Write an article as Markdown, in the format ``import_article --format markdown`` reads back.

    python manage.py export_article SLUG [--output FILE]

What is exported:

* A published article: what readers see. Its title and dek, its published sections in reading
  order (subsections as ``###``), their anchors, bodies with citations intact, and the slugs of
  their published topics. Pending proposals are not included.
* An article that is not published (a draft, or unpublished): the values stored on its rows, so
  that a draft can be reviewed or moved; every section that is not deleted, drafts included, and
  every topic that is not deleted. The command says so on stderr.

A deleted article is not exported.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Prefetch

from articles.models import Article, PublicationState, Topic
from articles.ops import article_markdown, importing
from articles.publishing import article_page


def article_as_parsed(article: Article) -> importing.ParsedArticle:
    """The article's exported content, as the structure article_markdown.article_to_markdown writes."""
    if article.is_live:
        sections = article.sections.published()
        topics = Topic.objects.published()
    else:
        sections = article.sections.exclude(state=PublicationState.DELETED)
        topics = Topic.objects.exclude(state=PublicationState.DELETED)
    sections = article_page.reading_order(
        sections.prefetch_related(Prefetch("topics", queryset=topics.only("slug").order_by("slug")))
    )
    exported = {s.pk for s in sections}
    return importing.ParsedArticle(
        title=article.title,
        dek=article.dek,
        sections=[
            importing.ParsedSection(
                title=section.title,
                body=section.body,
                # A subsection whose main section is not exported reads as a main section, as on the page.
                level=3 if section.parent_id in exported else 2,
                anchor=section.anchor,
                topics=[topic.slug for topic in section.topics.all()],
            )
            for section in sections
        ],
        dropped_lines=[],
        paragraphs=0,
        list_items=0,
    )


class Command(BaseCommand):
    help = "Write an article as Markdown (readable by import_article --format markdown)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The article's slug, as in its page address.")
        parser.add_argument("--output", "-o", help="Write to this file (UTF-8) instead of standard output.")

    def handle(self, *args, slug, output, **options):
        article = Article.objects.filter(slug=slug).first()
        if article is None:
            raise CommandError(f"No article has the slug “{slug}”.")
        if article.state == PublicationState.DELETED:
            raise CommandError(f"The article “{article.title}” ({slug}) is deleted; there is nothing to export.")
        if not article.is_live:
            self.stderr.write(
                f"Note: “{article.title}” is not published; exporting its stored draft values and unpublished sections."
            )
        parsed = article_as_parsed(article)
        try:
            markdown = article_markdown.article_to_markdown(parsed)
        except importing.ArticleFormatError as error:
            raise CommandError(f"Cannot export “{article.title}”: {error}") from error
        if not output:
            self.stdout.write(markdown, ending="")
            return
        try:
            Path(output).write_text(markdown, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror or error}") from error
        self.stdout.write(f"Wrote “{article.title}” ({len(parsed.sections)} sections) to {output}")
