"""`manage.py backup` and `manage.py restore`: everything comes back, byte for byte, into an empty database."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import secrets
import tarfile
import tracemalloc
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from PIL import Image

from articles.admin import uploads
from articles.models import Article, Figure, Revision, RevisionStatus
from articles.ops import backup, restore
from articles.revisions import moderation, step_decisions
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def png(colour) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buffer, "PNG")
    return SimpleUploadedFile("map.png", buffer.getvalue(), "image/png")


def build_site():
    """A bit of everything: content in every state, decided and pending revisions, accounts, media."""
    moderator = factories.make_user("moderator", group="Moderator")
    editor = factories.make_user("editor", group="Editor")
    editor.first_name, editor.last_login = "Awa", timezone.now()
    editor.user_permissions.add(Permission.objects.get(codename="view_logentry"))
    editor.save()
    factories.make_user("root", superuser=True)

    source = factories.source(moderator, key="unsc-res-2100", authors=["A. Author", "B. Author"])
    topic = factories.topic(moderator, name="MINUSMA", slug="minusma", body="Peacekeeping [@unsc-res-2100].")
    figure = factories.figure(moderator, png((200, 20, 20)), caption="Gao, 2013")
    factories.figure(moderator, png((20, 20, 200)), alt_text="Another")
    uploads.figure_upload(upload=png((20, 200, 20)), author=editor)  # waiting for approval: private media
    article = factories.article(moderator, title="Deployments", slug="deployments", lead_figure=figure)
    first = factories.section(moderator, article, topics=[topic], body="Para one.\n\nPara two [@unsc-res-2100, p. 4].")
    second = factories.section(moderator, article, body="Second section.")
    factories.section(moderator, article, parent=first, body="A subsection.")

    moderation.publish_directly(
        obj=second, moderator=moderator, summary="Edit", data={**second.snapshot(), "body": "Second section, edited."}
    )
    pending = moderation.propose(
        obj=first,
        author=editor,
        summary="Pending change",
        data={**first.snapshot(), "body": "Para one, changed.\n\nPara two [@unsc-res-2100, p. 4]."},
    )
    stale = moderation.propose(
        obj=first,
        author=editor,
        summary="Merged later",
        data={**first.snapshot(), "body": "Para one.\n\nPara two, sharper [@unsc-res-2100, p. 4]."},
    )
    moderation.approve(revision=pending, moderator=moderator)
    moderation.approve(revision=stale, moderator=moderator, merge=True)
    rejected = moderation.propose(obj=topic, author=editor, summary="Rejected", data={**topic.snapshot(), "name": "X"})
    moderation.reject(revision=rejected, moderator=moderator, reason="Not sourced.")
    withdrawn = moderation.propose(
        obj=topic, author=editor, summary="Withdrawn", data={**topic.snapshot(), "name": "Y"}
    )
    moderation.withdraw(revision=withdrawn, user=editor)
    returned = moderation.propose(obj=topic, author=editor, summary="Sent back", data={**topic.snapshot(), "name": "Z"})
    step_decisions.request_changes(revision=returned, reviewer=moderator, message="Cite a source.")
    scheduled = moderation.propose(
        obj=source, author=editor, summary="Later", data={**source.snapshot(), "title": "Resolution 2100 (2013)"}
    )
    moderation.approve(revision=scheduled, moderator=moderator, publish_at=timezone.now() + datetime.timedelta(days=3))
    still = moderation.propose(
        obj=second, author=editor, summary="Still pending", data={**second.snapshot(), "body": "Z."}
    )
    # The review's conversation: a passage comment with a reply, resolved; a share link and an outside comment.
    from articles.revisions import comments, sharing

    thread = comments.add_comment(revision=still, user=moderator, body="Why?", field="body", quote="Z.")
    comments.add_comment(revision=still, user=editor, body="Shorter.", parent=thread)
    comments.resolve(comment=thread, user=moderator)
    link = sharing.share(moderator=moderator, revisions=[still], label="Reviewer")
    comments.add_outside_comment(
        link=link, revision=still, name="Awa", email="awa@example.net", body="Fine.", client="x"
    )
    # An old address, kept so that links to it keep working.
    moderation.publish_directly(
        obj=topic, moderator=moderator, summary="New address", data={**topic.snapshot(), "slug": "un-mission-mali"}
    )
    LogEntry.objects.create(
        user=moderator,
        content_type=ContentType.objects.get_for_model(Article),
        object_id=str(article.pk),
        object_repr=str(article),
        action_flag=ADDITION,
        change_message="[]",
    )
    assert Revision.objects.filter(original_data__isnull=False).exists()  # the merged one
    assert set(Revision.objects.values_list("status", flat=True)) == set(RevisionStatus.values)


def _natural(model, value):
    if value is None:
        return None
    if model is ContentType:
        return ContentType.objects.get_for_id(value).natural_key()
    if model is Permission:
        return Permission.objects.get(pk=value).natural_key()
    if model is Group:
        return Group.objects.get(pk=value).name
    return value


def database_contents() -> dict:
    """Every row of every backed-up table and many-to-many table, ids of other databases' rows as natural keys.

    Independent of the backup's own serialisation, so that a field it forgot would show here.
    """
    tables = {}
    models = list(backup.backed_up_models())
    for model in list(models):
        models += [
            f.remote_field.through for f in model._meta.many_to_many if f.remote_field.through._meta.auto_created
        ]
    for model in models:
        fields = list(model._meta.concrete_fields)
        rows = []
        for row in model._default_manager.order_by("pk").values(*[f.attname for f in fields]):
            item = {}
            for f in fields:
                value = row[f.attname]
                if f.is_relation:
                    value = _natural(f.related_model, value)
                elif f.primary_key and (model is Group or model._meta.auto_created):
                    continue  # groups are matched by name, many-to-many rows by their two ends
                item[f.name] = value
            rows.append(item)
        tables[model._meta.label_lower] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return tables


def media_contents(root=None) -> dict[str, bytes]:
    root = Path(root or settings.MEDIA_ROOT)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def empty_the_site():
    """What a new server has: a migrated database (groups included) and no media, public or private."""
    call_command("flush", interactive=False, verbosity=0)
    factories.ensure_groups()
    for root in (settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT):
        for path in sorted(Path(root).rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()


def test_backup_and_restore_round_trip_everything(tmp_path):
    build_site()
    before, media_before = database_contents(), media_contents()
    private_before = media_contents(settings.PRIVATE_MEDIA_ROOT)
    pending = Figure.objects.get(state="draft").image.name
    assert list(private_before) == [pending] and pending not in media_before
    for label in (
        "articles.revision",
        "articles.moderationevent",
        "articles.articleversion",
        "articles.citation",
        "articles.section_topics",
        "articles.retiredslug",
        "articles.reviewcomment",
        "articles.sharelink",
        "articles.sharelink_revisions",
        "auth.user",
        "auth.user_groups",
        "auth.group_permissions",
        "auth.user_user_permissions",
        "admin.logentry",
    ):
        assert before[label], label
    originals = {figure.image.name for figure in Figure.objects.exclude(state="draft")}
    assert len(originals) == 2 and originals <= media_before.keys()  # plus any renditions made from them
    archive = tmp_path / "site.tar.gz"

    out = io.StringIO()
    call_command("backup", str(archive), stdout=out)
    assert "Backup written" in out.getvalue()
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    # One JSON-lines member per model, in loading order; the manifest, with every checksum, last.
    assert names[-1] == "manifest.json"
    tables = [name for name in names if name.startswith("data/")]
    assert tables == [f"data/{model._meta.label_lower}.jsonl" for model in backup.backed_up_models()]
    assert {name.removeprefix("media/") for name in names if name.startswith("media/")} == media_before.keys()
    assert {name.removeprefix("private_media/") for name in names if name.startswith("private_media/")} == {pending}

    empty_the_site()
    assert Revision.objects.count() == 0 and media_contents() == {}
    assert media_contents(settings.PRIVATE_MEDIA_ROOT) == {}

    out = io.StringIO()
    call_command("restore", str(archive), stdout=out)
    assert "Restored" in out.getvalue()

    after = database_contents()
    assert {label: len(rows) for label, rows in after.items()} == {label: len(rows) for label, rows in before.items()}
    for label in before:
        assert after[label] == before[label], label
    assert media_contents() == media_before
    assert media_contents(settings.PRIVATE_MEDIA_ROOT) == private_before  # and still not public
    # And the site works on it: the restored users sign in, the restored page shows the restored figure.
    editor = User.objects.get(username="editor")
    assert editor.check_password(factories.PASSWORD) and editor.groups.filter(name="Editor").exists()
    from django.test import Client

    page = Client().get("/articles/deployments/").content.decode()
    assert "Second section, edited." in page and Figure.objects.get(caption="Gao, 2013").image.url in page
    old_address = Client().get("/fr/topics/minusma/")
    assert old_address.status_code == 301 and old_address["Location"] == "/fr/topics/un-mission-mali/"


def test_restore_refuses_a_database_that_is_not_empty(tmp_path):
    build_site()
    archive = tmp_path / "site.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    before = database_contents()

    with pytest.raises(CommandError) as refused:
        call_command("restore", str(archive), stdout=io.StringIO())

    message = str(refused.value)
    assert message.startswith("Nothing was restored. The database is not empty (")
    assert "articles.revision" in message and "auth.user" in message and "migrate" in message
    assert database_contents() == before


def test_restore_refuses_a_damaged_archive(tmp_path):
    build_site()
    archive = tmp_path / "site.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name.startswith("media/"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    empty_the_site()

    with pytest.raises(CommandError, match="does not match the manifest"):
        call_command("restore", str(damaged), stdout=io.StringIO())
    assert User.objects.count() == 0 and media_contents() == {}

    with pytest.raises(CommandError, match="not a readable backup archive"):
        call_command("restore", str(tmp_path / "missing.tar.gz"), stdout=io.StringIO())


def test_every_model_of_the_app_is_backed_up_or_knowingly_derived():
    ours = {m._meta.label_lower for m in apps.get_app_config("articles").get_models()}
    kept = {m._meta.label_lower for m in backup.backed_up_models()}
    assert ours - kept == backup.DERIVED_MODELS


# --- Streaming: the old format, all or nothing, memory, progress -----------------------------------


def write_format_1_archive(path: Path) -> None:
    """An archive as backups were written before format 2: every row in one data.json, manifest last."""
    objects, rows = [], {}
    for model in backup.backed_up_models():
        serialised = serializers.serialize(
            "python",
            model._default_manager.order_by("pk"),
            use_natural_foreign_keys=True,
            use_natural_primary_keys=model._meta.label_lower == "auth.group",
        )
        objects += serialised
        rows[model._meta.label_lower] = len(serialised)
    data = json.dumps(objects, cls=backup._ExactJSONEncoder).encode()
    media = media_contents()
    manifest = {
        "format": backup.FORMAT,
        "version": 1,
        "rows": rows,
        "members": {"data.json": {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}},
        "media": [
            {"name": name, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
            for name, content in media.items()
        ],
    }
    members = [("data.json", data), *((f"media/{n}", c) for n, c in media.items())]
    with tarfile.open(path, "w:gz") as archive:
        for name, content in [*members, ("manifest.json", json.dumps(manifest).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))


def test_an_archive_of_the_previous_format_is_still_restored(tmp_path):
    build_site()
    before, media_before = database_contents(), media_contents()
    archive = tmp_path / "old.tar.gz"
    write_format_1_archive(archive)
    empty_the_site()

    call_command("restore", str(archive), stdout=io.StringIO())

    assert database_contents() == before
    assert media_contents() == media_before


def rewrite(archive: Path, target: Path, member: str, change) -> None:
    """Copy ``archive`` with ``change(bytes) -> bytes`` applied to one member, and the manifest to match."""
    with tarfile.open(archive) as source:
        contents = {m.name: source.extractfile(m).read() for m in source.getmembers()}
    contents[member] = change(contents[member])
    manifest = json.loads(contents["manifest.json"])
    for table in manifest["tables"]:
        if table["member"] == member:
            table["size"], table["sha256"] = len(contents[member]), hashlib.sha256(contents[member]).hexdigest()
    contents["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(target, "w:gz") as out:
        for name, data in contents.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))


def test_rows_that_break_a_constraint_restore_nothing_at_all(tmp_path):
    """The archive checks out, but its last table points at a section that is not there: all is rolled back."""
    build_site()
    archive, broken = tmp_path / "site.tar.gz", tmp_path / "broken.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())

    def orphan_citation(data: bytes) -> bytes:
        lines = data.decode().splitlines(keepends=True)
        row = json.loads(lines[0])
        row["fields"]["section"] = 999_999
        return (json.dumps(row) + "\n" + "".join(lines[1:])).encode()

    rewrite(archive, broken, "data/articles.citation.jsonl", orphan_citation)
    empty_the_site()
    empty = database_contents()

    with pytest.raises(CommandError, match="Nothing was restored. The archive's rows do not fit together"):
        call_command("restore", str(broken), stdout=io.StringIO())

    assert database_contents() == empty
    assert media_contents() == {}


def test_an_archive_of_an_unknown_format_is_refused(tmp_path):
    build_site()
    archive, future = tmp_path / "site.tar.gz", tmp_path / "future.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    with tarfile.open(archive) as source, tarfile.open(future, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "manifest.json":
                data = json.dumps({**json.loads(data), "version": 3}).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    empty_the_site()

    with pytest.raises(CommandError, match="backup format 3; this version of the site reads formats 1, 2"):
        call_command("restore", str(future), stdout=io.StringIO())
    assert User.objects.count() == 0


def test_backup_and_restore_hold_one_batch_not_the_whole_database(tmp_path):
    """A thousand rows, 8 MB of them, in batches of 25: the peak allocated stays a small part of that."""
    user = factories.make_user("root", superuser=True)
    content_type = ContentType.objects.get_for_model(Article)
    # Random text, which compresses little (as real rows do), 8,000 characters a row.
    messages = [secrets.token_hex(4000) for _ in range(1000)]
    LogEntry.objects.bulk_create(
        LogEntry(
            user=user,
            content_type=content_type,
            object_id=str(n),
            object_repr=f"Article {n}",
            action_flag=ADDITION,
            change_message=message,
        )
        for n, message in enumerate(messages)
    )
    data_size = sum(map(len, messages))  # 8 MB of rows: what a backup holding them all would hold at least
    archive = tmp_path / "site.tar.gz"

    tracemalloc.start()
    try:
        backup.write_backup(archive, batch_size=25)
        _, backup_peak = tracemalloc.get_traced_memory()
        LogEntry.objects.all().delete()
        User.objects.all().delete()
        tracemalloc.reset_peak()
        restore.restore_backup(archive, batch_size=25)
        _, restore_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert list(LogEntry.objects.order_by("pk").values_list("change_message", flat=True)) == messages
    assert backup_peak < data_size / 4, f"backup peaked at {backup_peak:,} bytes"
    assert restore_peak < data_size / 4, f"restore peaked at {restore_peak:,} bytes"


def test_wide_rows_come_a_few_at_a_time_at_the_default_batch_size(tmp_path, monkeypatch):
    """Rows of 40,000 characters: a batch ends at about MAX_BATCH_CHARS, not at BATCH_SIZE rows."""
    monkeypatch.setattr(backup, "MAX_BATCH_CHARS", 400_000)
    monkeypatch.setattr(restore, "MAX_BATCH_CHARS", 400_000)
    user = factories.make_user("root", superuser=True)
    content_type = ContentType.objects.get_for_model(Article)
    messages = [secrets.token_hex(20_000) for _ in range(300)]  # 12 MB, fewer rows than one BATCH_SIZE
    LogEntry.objects.bulk_create(
        LogEntry(user=user, content_type=content_type, object_id=str(n), action_flag=ADDITION, change_message=m)
        for n, m in enumerate(messages)
    )
    archive = tmp_path / "site.tar.gz"

    tracemalloc.start()
    try:
        backup.write_backup(archive)
        _, backup_peak = tracemalloc.get_traced_memory()
        LogEntry.objects.all().delete()
        User.objects.all().delete()
        tracemalloc.reset_peak()
        restore.restore_backup(archive)
        _, restore_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert list(LogEntry.objects.order_by("pk").values_list("change_message", flat=True)) == messages
    assert backup_peak < 12_000_000 / 4, f"backup peaked at {backup_peak:,} bytes"
    assert restore_peak < 12_000_000 / 4, f"restore peaked at {restore_peak:,} bytes"


def test_progress_is_shown_with_verbosity_two(tmp_path):
    build_site()
    archive = tmp_path / "site.tar.gz"
    revisions = Revision.objects.count()

    err = io.StringIO()
    call_command("backup", str(archive), stdout=io.StringIO(), stderr=err, verbosity=2)
    lines = err.getvalue().splitlines()
    assert f"Backing up articles.revision: {revisions} of {revisions} rows (100%)" in lines
    assert any(line.startswith("Backing up media: ") and line.endswith("files (100%)") for line in lines)

    empty_the_site()
    err = io.StringIO()
    call_command("restore", str(archive), stdout=io.StringIO(), stderr=err, verbosity=2)
    lines = err.getvalue().splitlines()
    assert f"Restoring articles.revision: {revisions} of {revisions} rows (100%)" in lines
    assert any(line.startswith("Checking the archive: ") for line in lines)

    err = io.StringIO()
    call_command("backup", str(tmp_path / "quiet.tar.gz"), stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == ""


def test_restore_batches_end_at_a_size_as_well_as_a_count():
    """Large rows (frozen article pages) are restored a few at a time, small ones hundreds at a time."""
    from articles.ops.restore import _sized_batches

    rows = [({"n": n}, 3_000_000 if n < 4 else 10) for n in range(10)]
    sizes = [len(batch) for batch in _sized_batches(iter(rows), max_rows=5, max_chars=4_000_000)]
    assert sizes == [1, 1, 1, 5, 2]
    assert [row["n"] for batch in _sized_batches(iter(rows), 5, 4_000_000) for row in batch] == list(range(10))
