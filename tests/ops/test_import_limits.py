"""import_article's limits: a file too large, with too many sections or with no text is refused, and nothing is written."""

from __future__ import annotations

import io
import os
import threading

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from articles.models import Article, PublicationState
from articles.ops.article_import import ImportLimits, ImportRefused, read_article_file

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def article_text(sections: int, *, paragraph: str = "A paragraph of the section, with a full stop.") -> str:
    parts = ["A Chronicle of Imaginary Wells", "", "An introduction of one sentence."]
    for n in range(1, sections + 1):
        parts += ["", f"Section number {n}", "", paragraph]
    return "\n".join(parts) + "\n"


def run(path, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_article", str(path), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def refused(path, **options) -> str:
    """Run an import that must be refused; check nothing was written; return the message."""
    before = row_counts()
    with pytest.raises(CommandError) as error:
        run(path, **options)
    assert row_counts() == before
    return str(error.value)


# --- Size ------------------------------------------------------------------------------------------


def test_a_file_above_the_default_five_megabytes_is_refused(superuser, tmp_path):
    path = tmp_path / "huge.txt"
    path.write_text(article_text(1, paragraph="word " * (6 * 1024 * 1024 // 5)), encoding="utf-8")

    message = refused(path, publish=True)

    assert message.startswith("huge.txt is 6.0 MB")
    assert "at most 5.0 MB (5,242,880 bytes)" in message
    assert "Nothing was imported" in message and "--max-bytes" in message and "ARTICLE_IMPORT_MAX_BYTES" in message


def test_the_size_limit_comes_from_settings_and_the_flag_raises_it(superuser, tmp_path, settings):
    settings.ARTICLE_IMPORT_MAX_BYTES = 200
    path = tmp_path / "wells.txt"
    path.write_text(article_text(3), encoding="utf-8")
    size = path.stat().st_size
    assert size > 200

    message = refused(path, publish=True)
    assert f"({size:,} bytes)" in message and "at most 0.0 MB (200 bytes)" in message

    run(path, publish=True, max_bytes=size)
    assert Article.objects.get().sections.count() == 3


def test_a_file_that_grows_past_the_limit_while_read_is_refused(tmp_path):
    """A pipe's size is unknown in advance: the limit holds while reading, block by block."""
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)

    def feed():
        try:
            with open(fifo, "wb") as pipe:
                for _ in range(40):
                    pipe.write(b"x" * 65536)
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        with pytest.raises(
            ImportRefused, match=r"pipe.txt is at least 1\.\d MB \([\d,]+ bytes\); an import may be at most 1\.0 MB"
        ):
            read_article_file(fifo, ImportLimits(max_bytes=1024 * 1024, max_sections=500))
    finally:
        writer.join(timeout=10)


def test_a_bad_limit_is_refused(superuser, tmp_path):
    path = tmp_path / "wells.txt"
    path.write_text(article_text(1), encoding="utf-8")
    assert "--max-bytes must be a positive number" in refused(path, max_bytes=0)
    assert "--max-sections must be a positive number" in refused(path, max_sections=-1)


# --- Sections --------------------------------------------------------------------------------------


def test_more_than_the_default_five_hundred_sections_is_refused(superuser, tmp_path):
    path = tmp_path / "long.txt"
    path.write_text(article_text(501), encoding="utf-8")

    message = refused(path)

    assert message.startswith("long.txt has 501 sections; an import may have at most 500.")
    assert "--max-sections" in message and "ARTICLE_IMPORT_MAX_SECTIONS" in message


def test_the_section_limit_comes_from_settings_and_the_flag_raises_it(superuser, tmp_path, settings):
    settings.ARTICLE_IMPORT_MAX_SECTIONS = 3
    path = tmp_path / "wells.md"
    path.write_text(
        "# Wells\n\nIntro.\n\n" + "".join(f"## Part {n}\n\nText {n}.\n\n" for n in range(1, 5)), encoding="utf-8"
    )
    assert "has 4 sections; an import may have at most 3" in refused(path, publish=True)

    run(path, publish=True, max_sections=4)
    assert Article.objects.get().sections.filter(state=PublicationState.LIVE).count() == 4


# --- No text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("headings.txt", "Wells\n\nFirst Heading\n\nSecond Heading\n\nThird Heading\n", "only headings (3)"),
        ("headings.md", "# Wells\n\n## First {#first}\n\n## Second {#second}\n", "only headings (2)"),
        ("title.txt", "Wells\n", "a title and nothing else"),
        ("title.md", "# Wells\n\n\n", "a title and nothing else"),
    ],
)
def test_a_file_without_text_is_refused(superuser, tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")

    message = refused(path, publish=True)

    assert message == f"{name} has no text to import: it holds {expected}, no paragraph or list. Nothing was imported."


def test_an_empty_file_is_refused(superuser, tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n \n", encoding="utf-8")
    assert "empty" in refused(path, publish=True)


def test_a_replace_with_a_file_of_headings_changes_nothing(superuser, tmp_path):
    path = tmp_path / "wells.txt"
    path.write_text(article_text(2), encoding="utf-8")
    run(path, publish=True)
    path.write_text("A Chronicle of Imaginary Wells\n\nSection number 1\n\nSection number 2\n", encoding="utf-8")

    assert "no text to import" in refused(path, publish=True, replace=True)


# --- Progress --------------------------------------------------------------------------------------


def test_progress_is_shown_with_verbosity_two(superuser, tmp_path):
    path = tmp_path / "wells.txt"
    path.write_text(article_text(3), encoding="utf-8")
    size = path.stat().st_size

    _, err = run(path, publish=True, verbosity=2)

    lines = err.splitlines()
    assert f"Reading wells.txt: {size:,} of {size:,} bytes (100%)" in lines
    assert "Sections recorded: 3 of 3 (100%)" in lines


def test_no_progress_when_not_on_a_terminal(superuser, tmp_path):
    path = tmp_path / "wells.txt"
    path.write_text(article_text(3), encoding="utf-8")

    _, err = run(path, publish=True)

    assert err == ""


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_shown_on_a_terminal_in_one_rewritten_line(superuser, tmp_path):
    path = tmp_path / "wells.txt"
    path.write_text(article_text(3), encoding="utf-8")
    err = Terminal()

    call_command("import_article", str(path), publish=True, stdout=io.StringIO(), stderr=err)

    shown = err.getvalue()
    assert "\r\033[KSections recorded: 3 of 3 (100%)\n" in shown
    assert "\r\033[KReading wells.txt:" in shown
