"""Import an article file (plain text or Markdown) through the moderation services.

    python manage.py import_article PATH [--publish] [--replace] [--format text|markdown] [--user NAME]

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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify

from articles.models import Article, PublicationState, RevisionAction, Section, Topic
from articles.ops import article_markdown, importing
from articles.revisions import moderation

PARSERS = {"text": importing.parse_plain_text, "markdown": article_markdown.parse_markdown}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
SLUG_MAX = Article._meta.get_field("slug").max_length
ANCHOR_MAX = Section._meta.get_field("anchor").max_length
# Objects in these states come back with a "restore" revision rather than a plain change.
NOT_SHOWN = (PublicationState.DELETED, PublicationState.UNPUBLISHED)


def unique_value(base: str, taken, max_length: int) -> str:
    """``base``, or ``base-2``, ``base-3``… : the first one ``taken(value)`` says is free."""
    base = base[:max_length].rstrip("-")
    value, n = base, 2
    while taken(value):
        suffix = f"-{n}"
        value = base[: max_length - len(suffix)].rstrip("-") + suffix
        n += 1
    return value


def section_anchors(sections: list[importing.ParsedSection]) -> list[str]:
    """The anchor of each parsed section: its own, or its slugified title; unique in the article."""
    anchors: list[str] = []
    for section in sections:
        base = section.anchor or slugify(section.title) or "section"
        anchors.append(unique_value(base, anchors.__contains__, ANCHOR_MAX))
    return anchors


@dataclass
class ImportResult:
    article: Article
    new_article: bool
    revisions: int = 0
    sections: dict = field(
        default_factory=lambda: {
            "new": 0,
            "changed": 0,
            "restored": 0,
            "unchanged": 0,
            "removed": 0,
        }
    )
    warnings: list[str] = field(default_factory=list)
    left_alone: list[Section] = field(default_factory=list)  # unpublished sections not in the file


class ArticleImport:
    """One import run: turns a parsed file into drafts and revisions by ``user``.

    The caller holds the transaction; any error raised here rolls the whole import back.
    """

    def __init__(self, *, user, publish: bool, summary: str, keep_topics: bool):
        self.user = user
        self.publish = publish
        self.summary = summary
        self.keep_topics = keep_topics
        self.result: ImportResult | None = None
        self.topics: dict[str, Topic] = {}

    # --- Recording through the moderation services ----------------------------------------

    def record(self, obj, *, action, data=None, label: str):
        try:
            if self.publish:
                moderation.publish_directly(
                    obj=obj, moderator=self.user, summary=self.summary, data=data, action=action
                )
            else:
                # One e-mail to the moderators per import, not one per section.
                moderation.propose(
                    obj=obj,
                    author=self.user,
                    summary=self.summary,
                    data=data,
                    action=action,
                    notify=self.result.revisions == 0,
                )
        except (ValidationError, PermissionDenied) as error:
            raise CommandError(f"{label}: {_messages(error)}") from error
        self.result.revisions += 1

    @staticmethod
    def validate(obj, label: str) -> None:
        try:
            obj.full_clean(exclude=["live_revision"])
        except ValidationError as error:
            raise CommandError(f"{label}: {_messages(error)}") from error

    # --- The two ways in ------------------------------------------------------------------

    def run(self, parsed: importing.ParsedArticle, existing: Article | None) -> ImportResult:
        slugs = {slug for section in parsed.sections for slug in section.topics}
        self.topics = {t.slug: t for t in Topic.objects.exclude(state=PublicationState.DELETED).filter(slug__in=slugs)}
        if existing is None:
            self.create_article(parsed)
        else:
            self.replace_article(existing, parsed)
        return self.result

    def create_article(self, parsed):
        article = Article(
            state=PublicationState.DRAFT,
            title=parsed.title,
            slug=unique_value(
                slugify(parsed.title) or "article",
                lambda slug: Article.objects.filter(slug=slug).exists(),
                SLUG_MAX,
            ),
            dek=parsed.dek,
        )
        label = f"Article “{parsed.title}”"
        self.validate(article, label)
        article.save()
        self.result = ImportResult(article=article, new_article=True)
        # The article goes first: with --publish its page must exist before its sections show.
        self.record(article, action=RevisionAction.CREATE, label=label)
        parent = None
        for position, (parsed_section, anchor) in enumerate(
            zip(parsed.sections, section_anchors(parsed.sections), strict=False), start=1
        ):
            section = self.create_section(
                article,
                parsed_section,
                anchor=anchor,
                position=position * 10,
                parent=parent if parsed_section.level == 3 else None,
            )
            if parsed_section.level == 2:
                parent = section

    def create_section(self, article, parsed_section, *, anchor, position, parent):
        section = Section(
            state=PublicationState.DRAFT,
            article=article,
            parent=parent,
            title=parsed_section.title,
            anchor=anchor,
            position=position,
            body=parsed_section.body,
        )
        label = f"Section “{parsed_section.title}”"
        self.validate(section, label)
        section.save()
        section.topics.set(self.topic_ids(parsed_section))
        self.record(section, action=RevisionAction.CREATE, label=label)
        self.result.sections["new"] += 1
        return section

    def replace_article(self, article, parsed):
        self.result = ImportResult(article=article, new_article=False)
        data = {**article.snapshot(), "title": parsed.title, "dek": parsed.dek}
        self.change(article, data, label=f"Article “{parsed.title}”")

        # Every state: a deleted section whose anchor is back in the file is restored, which also
        # keeps the (article, anchor) constraint intact.
        existing = {s.anchor: s for s in article.sections.all()}
        kept = set()
        parent = None
        # Last position used among each group of siblings (main sections: None; subsections: the
        # parent's pk). A section keeps its position while the file's order agrees with it, so that
        # re-importing an unchanged file proposes nothing.
        last_position = {}
        for parsed_section, anchor in zip(parsed.sections, section_anchors(parsed.sections), strict=False):
            parent_for_this = parent if parsed_section.level == 3 else None
            group = parent_for_this.pk if parent_for_this else None
            previous = last_position.get(group, 0)
            section = existing.get(anchor)
            if section is None:
                position = previous + 10
                section = self.create_section(
                    article, parsed_section, anchor=anchor, position=position, parent=parent_for_this
                )
            else:
                live = section.snapshot()
                position = live["position"] if live["position"] > previous else previous + 10
                data = {
                    **live,
                    "parent": group,
                    "title": parsed_section.title,
                    "anchor": anchor,
                    "position": position,
                    "body": parsed_section.body,
                    "topics": live["topics"] if self.keep_topics else self.topic_ids(parsed_section),
                }
                self.change(section, data, label=f"Section “{parsed_section.title}”", counts=True)
            kept.add(section.pk)
            last_position[group] = position
            if parsed_section.level == 2:
                parent = section

        # The file is compared with what readers see: a live section missing from it is removed.
        # Draft and unpublished sections are not part of the page (nor of an export), so they are
        # left to their own proposals and only listed.
        for section in existing.values():
            if section.pk in kept or section.state == PublicationState.DELETED:
                continue
            if section.state != PublicationState.LIVE:
                self.result.left_alone.append(section)
                continue
            self.record(section, action=RevisionAction.DELETE, label=f"Removing section “{section.title}”")
            self.result.sections["removed"] += 1

    def change(self, obj, data, *, label, counts=False):
        """Propose ``data`` for an existing object, unless it is live and already says exactly that."""
        if obj.state == PublicationState.LIVE and data == obj.snapshot():
            if counts:
                self.result.sections["unchanged"] += 1
            return
        # Validate a copy: the row holds live content, which only publishing may change.
        candidate = type(obj)._default_manager.get(pk=obj.pk)
        candidate.apply_snapshot(data)
        self.validate(candidate, label)
        restoring = obj.state in NOT_SHOWN
        self.record(obj, action=RevisionAction.RESTORE if restoring else RevisionAction.CHANGE, data=data, label=label)
        if counts:
            self.result.sections["restored" if restoring else "changed"] += 1

    def topic_ids(self, parsed_section) -> list[int]:
        ids = set()
        for slug in parsed_section.topics:
            topic = self.topics.get(slug)
            if topic is None:
                self.result.warnings.append(
                    f"Section “{parsed_section.title}”: no topic has the slug “{slug}”; imported without it."
                )
            else:
                ids.add(topic.pk)
        return sorted(ids)


def _messages(error) -> str:
    """A validation error as one line, naming the fields it is about."""
    if hasattr(error, "error_dict"):
        return " ".join(
            (f"{name}: " if name != "__all__" else "") + " ".join(messages)
            for name, messages in error.message_dict.items()
        )
    return " ".join(getattr(error, "messages", None) or [str(error)])


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

    def handle(self, *args, path, publish, replace, text_format, username, **options):
        path = Path(path)
        text_format = text_format or ("markdown" if path.suffix.lower() in MARKDOWN_SUFFIXES else "text")
        parsed = self.parse(path, text_format)
        user = self.acting_user(username, publish)

        importer = ArticleImport(
            user=user,
            publish=publish,
            summary=f"Imported from {path.name}",
            keep_topics=text_format == "text",
        )
        with transaction.atomic():
            existing = self.existing_article(parsed.title, replace)
            result = importer.run(parsed, existing)

        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))
        self.report(parsed, result, user, publish)

    # --- Steps ------------------------------------------------------------------------------

    def parse(self, path: Path, text_format: str) -> importing.ParsedArticle:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise CommandError(f"No such file: {path}") from None
        except IsADirectoryError:
            raise CommandError(f"{path} is a directory, not a file.") from None
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}") from error
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CommandError(
                f"{path} is not UTF-8 text (undecodable byte at position {error.start}). "
                "Save it as UTF-8 and try again."
            ) from error
        try:
            return PARSERS[text_format](text)
        except importing.ArticleFormatError as error:
            raise CommandError(f"Cannot import {path.name} as {text_format}: {error}") from error

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
