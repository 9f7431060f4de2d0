"""Importing an article file: the limits a file must keep to, and the run that records it.

``read_article_file()`` reads a file within the size limit, a block at a time; ``check_limits()``
refuses a parsed file with too many sections or no text; :class:`ArticleImport` turns a parsed file
into drafts and revisions through the moderation services. ``manage.py import_article`` wires them
together, inside one transaction.

Why limits: everything an import proposes is reviewed by a person and shown on one change form
and one review page. A 20 MB file once became 1,185 pending sections whose change form weighed
105 MB, and a file of headings alone became empty published sections. The defaults
(``ARTICLE_IMPORT_MAX_BYTES``, 5 MB, and ``ARTICLE_IMPORT_MAX_SECTIONS``, 500, in settings) are
far above a long article (the commissioned one is 46 KB in 14 sections); ``--max-bytes`` and
``--max-sections`` raise them for one import.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.text import slugify

from articles.models import Article, PublicationState, RevisionAction, Section, Topic
from articles.ops import article_markdown, importing
from articles.ops.progress import Progress
from articles.revisions import moderation

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_SECTIONS = 500
#: Bytes read at a time.
BLOCK = 256 * 1024

PARSERS = {"text": importing.parse_plain_text, "markdown": article_markdown.parse_markdown}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
SLUG_MAX = Article._meta.get_field("slug").max_length
ANCHOR_MAX = Section._meta.get_field("anchor").max_length
# Objects in these states come back with a "restore" revision rather than a plain change.
NOT_SHOWN = (PublicationState.DELETED, PublicationState.UNPUBLISHED)


class ImportRefused(Exception):
    """The file cannot be imported; the message says why. Nothing has been written."""


@dataclass(frozen=True)
class ImportLimits:
    max_bytes: int
    max_sections: int

    @classmethod
    def from_settings(cls, *, max_bytes: int | None = None, max_sections: int | None = None) -> ImportLimits:
        """The limits in settings, or the ones given (a command's --max-bytes, --max-sections)."""
        if max_bytes is None:
            max_bytes = getattr(settings, "ARTICLE_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)
        if max_sections is None:
            max_sections = getattr(settings, "ARTICLE_IMPORT_MAX_SECTIONS", DEFAULT_MAX_SECTIONS)
        return cls(max_bytes=max_bytes, max_sections=max_sections)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _too_big(path: Path, size: int, limits: ImportLimits, *, at_least: bool = False) -> ImportRefused:
    return ImportRefused(
        f"{path.name} is {'at least ' if at_least else ''}{_megabytes(size)} ({size:,} bytes); "
        f"an import may be at most {_megabytes(limits.max_bytes)} ({limits.max_bytes:,} bytes). Nothing was imported. "
        "Split the file into several articles, or raise the limit with --max-bytes "
        "(or ARTICLE_IMPORT_MAX_BYTES in settings)."
    )


def read_article_file(path: Path, limits: ImportLimits, progress: Progress | None = None) -> str:
    """The file's text, read a block at a time and refused as soon as it passes the size limit.

    The size is checked before reading, and again while reading, since a file may grow meanwhile
    (or be a pipe, whose size nothing tells in advance).
    """
    progress = progress or Progress.silent()
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise ImportRefused(f"No such file: {path}") from None
    except IsADirectoryError:
        raise ImportRefused(f"{path} is a directory, not a file.") from None
    except OSError as error:
        raise ImportRefused(f"Cannot read {path}: {error.strerror or error}") from error
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limits.max_bytes:
            raise _too_big(path, size, limits)
        decoder = codecs.getincrementaldecoder("utf-8")()
        parts, read = [], 0
        try:
            while block := handle.read(BLOCK):
                if read + len(block) > limits.max_bytes:
                    raise _too_big(path, read + len(block), limits, at_least=True)
                parts.append(decoder.decode(block))
                read += len(block)
                progress.update(f"Reading {path.name}", read, max(size, read), "bytes")
            parts.append(decoder.decode(b"", final=True))
        except UnicodeDecodeError as error:
            raise ImportRefused(
                f"{path} is not UTF-8 text (undecodable byte at position {read + error.start}). "
                "Save it as UTF-8 and try again."
            ) from error
        except OSError as error:
            raise ImportRefused(f"Cannot read {path}: {error.strerror or error}") from error
    return "".join(parts)


def parse_article(text: str, *, text_format: str, name: str) -> importing.ParsedArticle:
    try:
        return PARSERS[text_format](text)
    except importing.ArticleFormatError as error:
        raise ImportRefused(f"Cannot import {name} as {text_format}: {error}") from error


def check_limits(parsed: importing.ParsedArticle, limits: ImportLimits, *, name: str) -> None:
    """Refuse a file with more sections than the limit, or with no text to read at all."""
    count = len(parsed.sections)
    if count > limits.max_sections:
        raise ImportRefused(
            f"{name} has {count:,} sections; an import may have at most {limits.max_sections:,}. "
            "Nothing was imported. Split the file into several articles, or raise the limit with "
            "--max-sections (or ARTICLE_IMPORT_MAX_SECTIONS in settings)."
        )
    if not parsed.dek.strip() and not any(section.body.strip() for section in parsed.sections):
        what = f"only headings ({count:,})" if count else "a title and nothing else"
        raise ImportRefused(
            f"{name} has no text to import: it holds {what}, no paragraph or list. Nothing was imported."
        )


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

    def __init__(self, *, user, publish: bool, summary: str, keep_topics: bool, progress: Progress | None = None):
        self.user = user
        self.progress = progress or Progress.silent()
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
            raise ImportRefused(f"{label}: {_messages(error)}") from error
        self.result.revisions += 1

    @staticmethod
    def validate(obj, label: str) -> None:
        try:
            obj.full_clean(exclude=["live_revision"])
        except ValidationError as error:
            raise ImportRefused(f"{label}: {_messages(error)}") from error

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
            self.progress.update("Sections recorded", position, len(parsed.sections))

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
            self.progress.update("Sections compared", len(kept), len(parsed.sections))

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
