"""Import an article file (plain text or Markdown) through the moderation services.

    python manage.py import_article PATH [--publish] [--replace] [--format text|markdown] [--user NAME]
                                         [--max-bytes N] [--max-sections N]

Every object the import touches gets a revision authored by the acting user: proposals that wait
in the moderators' queue, or, with --publish, revisions published at once. Nothing is written to
live content any other way, nothing is ever hard-deleted, and the whole import is one
transaction: if any step fails, nothing at all is recorded.

--replace updates the existing article with the same title (case-insensitive). Sections are
matched by anchor; a section whose content already matches the file gets no revision, so
re-importing an unchanged file adds nothing to the moderators' queue. A published section missing
from the file gets a delete revision; draft and unpublished sections are not compared (readers do
not see them, and export_article does not write them) and are only listed. Plain text has no way to
name topics, so a text re-import keeps each matched section's topics; in Markdown the
``<!-- topics: ... -->`` line is authoritative.

A file above the size limit (5 MB), with more sections than the limit (500), or with no text
(only headings) is refused before anything is written; see articles/ops/article_import.py. A long
import shows its progress on a terminal, or with --verbosity 2.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from articles.models import Article, PublicationState
from articles.ops.article_import import (
    MARKDOWN_SUFFIXES,
    PARSERS,
    ArticleImport,
    ImportLimits,
    ImportRefused,
    ImportResult,
    check_limits,
    parse_article,
    read_article_file,
)
from articles.ops.progress import Progress
from articles.revisions import moderation


class Command(BaseCommand):
    help = (
        "Import an article from a plain-text or Markdown file. Every object becomes a revision by the "
        "acting user: pending proposals for the moderators, or published at once with --publish."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The file to import (UTF-8).")
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Publish everything at once (the user must be a moderator). "
            "Without it the import waits in the review queue.",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Update the existing article with the same title instead of refusing.",
        )
        parser.add_argument(
            "--format",
            choices=sorted(PARSERS),
            dest="text_format",
            help="How to read the file. Default: markdown for .md/.markdown files, text otherwise.",
        )
        parser.add_argument(
            "--user",
            dest="username",
            help="Who the revisions are recorded for. Default: the first active superuser.",
        )
        parser.add_argument(
            "--max-bytes",
            type=int,
            help="Refuse a file larger than this many bytes. Default: ARTICLE_IMPORT_MAX_BYTES in settings (5 MB).",
        )
        parser.add_argument(
            "--max-sections",
            type=int,
            help="Refuse a file with more sections than this. Default: ARTICLE_IMPORT_MAX_SECTIONS in settings (500).",
        )

    def handle(self, *args, path, publish, replace, text_format, username, max_bytes, max_sections, **options):
        path = Path(path)
        text_format = text_format or ("markdown" if path.suffix.lower() in MARKDOWN_SUFFIXES else "text")
        for name, value in (("--max-bytes", max_bytes), ("--max-sections", max_sections)):
            if value is not None and value < 1:
                raise CommandError(f"{name} must be a positive number.")
        limits = ImportLimits.from_settings(max_bytes=max_bytes, max_sections=max_sections)
        progress = Progress.for_command(self, options["verbosity"])
        try:
            text = read_article_file(path, limits, progress)
            parsed = parse_article(text, text_format=text_format, name=path.name)
            del text
            check_limits(parsed, limits, name=path.name)
            user = self.acting_user(username, publish)
            importer = ArticleImport(
                user=user,
                publish=publish,
                summary=f"Imported from {path.name}",
                keep_topics=text_format == "text",
                progress=progress,
            )
            with transaction.atomic():
                existing = self.existing_article(parsed.title, replace)
                result = importer.run(parsed, existing)
        except ImportRefused as error:
            raise CommandError(str(error)) from error
        finally:
            progress.done()

        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))
        self.report(parsed, result, user, publish)

    # --- Steps ------------------------------------------------------------------------------

    def acting_user(self, username, publish):
        User = get_user_model()
        if username:
            user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
            if user is None:
                raise CommandError(f"No user is called “{username}”.")
            if not user.is_active:
                raise CommandError(f"The user “{username}” is not active.")
        else:
            user = User._default_manager.filter(is_superuser=True, is_active=True).order_by("pk").first()
            if user is None:
                raise CommandError(
                    "No active superuser to record the import for: pass --user USERNAME, "
                    "or create one with 'manage.py createsuperuser'."
                )
        name = user.get_username()
        if publish and not moderation.can_moderate(user):
            raise CommandError(
                f"“{name}” may not publish: only moderators can. Leave out --publish to send the "
                "import to the review queue, or pass --user with a moderator."
            )
        if not moderation.can_propose(user):
            raise CommandError(f"“{name}” may not propose changes: add them to the Editor group first.")
        return user

    def existing_article(self, title: str, replace: bool) -> Article | None:
        matches = list(
            Article.objects.exclude(state=PublicationState.DELETED).filter(title__iexact=title).order_by("pk")
        )
        if not matches:
            return None
        if not replace:
            found = matches[0]
            raise CommandError(
                f"An article titled “{found.title}” already exists ({found.get_absolute_url()}, "
                f"{found.get_state_display().lower()}). Nothing was imported. Pass --replace to update "
                "it from this file, or change the title in the file."
            )
        if len(matches) > 1:
            slugs = ", ".join(a.slug for a in matches)
            raise CommandError(
                f"Several articles are titled “{title}” ({slugs}): --replace cannot tell which one to update."
            )
        return matches[0]

    def report(self, parsed, result: ImportResult, user, publish):
        article = result.article
        write = self.stdout.write
        verb = "Imported" if result.new_article else "Updated"
        write(f"{verb} “{parsed.title}”")
        detail = ", ".join(f"{n} {kind}" for kind, n in result.sections.items() if n)
        write(f"  Sections: {len(parsed.sections)}" + (f" ({detail})" if detail else ""))
        write(f"  Paragraphs: {parsed.paragraphs}")
        write(f"  List items: {parsed.list_items}")
        write(f"  Dropped lines: {len(parsed.dropped_lines)}")
        for line in parsed.dropped_lines:
            write(f"      {line}")
        if result.left_alone:
            write(f"  Not in the file but left alone, because readers do not see them: {len(result.left_alone)}")
            for section in result.left_alone:
                write(f"      {section.title} (#{section.anchor}, {section.get_state_display().lower()})")
        name = user.get_username()
        plural = "s" if result.revisions != 1 else ""
        if result.revisions == 0:
            write("Nothing to change: the article already matches the file.")
        elif publish:
            write(self.style.SUCCESS(f"Published by {name} ({result.revisions} revision{plural})."))
        else:
            write(
                f"Waiting for review: {result.revisions} proposal{plural} by {name} in the review queue. "
                "Readers see no change until a moderator approves them."
            )
        write(article.get_absolute_url())
