"""Restoring a backup written by :mod:`articles.ops.backup` into an empty database, in constant memory.

``restore_backup(path)`` reads the archive twice, as a stream. First it checks every member
against the manifest and refuses a damaged archive, a database that already holds content or
accounts (a restore never merges) and media that would overwrite different files; then, in one
transaction, it loads the rows a batch at a time, line by line, and writes the media files, each
checked again as it passes. Any failure rolls the rows back and removes the files written.
Revisions are only ever inserted, which the append-only trigger on PostgreSQL allows.

Archives of format 1 (one ``data.json`` for every row, written before format 2) are still
restored; their rows are read whole, as they were written.
"""

from __future__ import annotations

import io
import json
import tarfile
import zlib
from itertools import batched, groupby
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.core import serializers
from django.core.files import File
from django.core.files.storage import storages
from django.core.management import call_command, get_commands
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.db import DatabaseError, IntegrityError, connection, transaction

from articles.ops.backup import (
    BATCH_SIZE,
    BLOCK,
    CREATED_BY_MIGRATIONS,
    DERIVED_MODELS,
    FORMAT,
    MATCHED_BY_NATURAL_KEY,
    MAX_BATCH_CHARS,
    READABLE_VERSIONS,
    STORAGE_FOLDERS,
    BackupError,
    BackupSummary,
    Hashing,
    backed_up_models,
    label_of,
)
from articles.ops.progress import Progress


def rows_present() -> dict[str, int]:
    """Rows that make this database "not empty": content, revisions, accounts, anything of ours."""
    present = {}
    models = backed_up_models() + [apps.get_model(label) for label in DERIVED_MODELS]
    for model in models:
        if label_of(model) in CREATED_BY_MIGRATIONS:
            continue
        count = model._default_manager.count()
        if count:
            present[label_of(model)] = count
    return present


def _safe_media_name(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"The archive names a media file outside the media folder: {name!r}.")
    return str(path)


#: What reading a damaged or foreign archive raises.
UNREADABLE = (OSError, EOFError, tarfile.TarError, zlib.error)


def _members(path: Path):
    """(member, its file) for each file in the archive, read as a stream from start to end."""
    try:
        with tarfile.open(path, "r|gz") as archive:
            for member in archive:
                if member.isfile():
                    yield member, archive.extractfile(member)
    except UNREADABLE as error:
        raise BackupError(f"{path} is not a readable backup archive: {error}.") from None


def check_manifest(manifest: dict) -> None:
    if manifest.get("format") != FORMAT:
        raise BackupError("This archive was not written by `manage.py backup`.")
    if manifest.get("version") not in READABLE_VERSIONS:
        raise BackupError(
            f"This archive is in backup format {manifest.get('version')}; "
            f"this version of the site reads formats {', '.join(map(str, READABLE_VERSIONS))}."
        )


def media_entries(manifest: dict) -> list[dict]:
    """Every file the manifest lists, with its archive folder and the storage it goes back to."""
    return [
        {**entry, "folder": folder, "storage": alias}
        for folder, alias in STORAGE_FOLDERS.items()
        for entry in manifest.get(folder, [])
    ]


def _expected(manifest: dict) -> dict[str, dict]:
    """Every member the manifest lists, with its size and checksum: the rows first, in loading order."""
    if manifest["version"] == 1:
        expected = {"data.json": manifest["members"]["data.json"]}
    else:
        expected = {table["member"]: table for table in manifest["tables"]}
    for entry in media_entries(manifest):
        expected[f"{entry['folder']}/{_safe_media_name(entry['name'])}"] = entry
    return expected


def verify_archive(path: Path, progress: Progress) -> dict:
    """Check every member against the manifest, streaming; return the manifest."""
    found, manifest = {}, None
    try:
        for number, (member, file) in enumerate(_members(path), start=1):
            if member.name == "manifest.json":
                try:
                    manifest = json.load(file)
                except (json.JSONDecodeError, UnicodeDecodeError) as error:
                    raise BackupError(f"manifest.json is not valid JSON: {error}.") from None
            else:
                reader = Hashing(file)
                while reader.read(BLOCK):
                    pass
                found[member.name] = reader.sha256.hexdigest()
            progress.update("Checking the archive", number, unit="files")
    except UNREADABLE as error:
        raise BackupError(f"{path} is not a readable backup archive: {error}.") from None
    if manifest is None:
        raise BackupError("The archive has no manifest.json: it is not a complete backup.")
    check_manifest(manifest)
    try:
        expected = _expected(manifest)
    except (KeyError, TypeError) as error:
        raise BackupError(f"manifest.json is incomplete (no {error}): the archive is damaged.") from None
    for name, entry in expected.items():
        if name not in found:
            raise BackupError(f"The archive has no {name}: it is not a complete backup.")
        if found[name] != entry["sha256"]:
            what = f"The media file {entry['name']}" if "storage" in entry else name
            raise BackupError(f"{what} does not match the manifest: the archive is damaged.")
    return manifest


def _same_as_stored(entry: dict) -> bool:
    with storages[entry["storage"]].open(entry["name"], "rb") as handle:
        reader = Hashing(handle)
        while reader.read(BLOCK):
            pass
    return reader.sha256.hexdigest() == entry["sha256"]


def _refuse_occupied(manifest: dict) -> None:
    present = rows_present()
    if present:
        listed = ", ".join(f"{count} {label}" for label, count in sorted(present.items()))
        raise BackupError(
            f"The database is not empty ({listed}). A restore never merges into existing content: "
            "restore into a new database after `manage.py migrate`."
        )
    clashes = [
        entry["name"]
        for entry in media_entries(manifest)
        if storages[entry["storage"]].exists(entry["name"]) and not _same_as_stored(entry)
    ]
    if clashes:
        raise BackupError(
            f"The media storage already holds different files under these names: "
            f"{', '.join(clashes[:5])}{' …' if len(clashes) > 5 else ''}. Restore into empty media."
        )


# A batch ends at ``batch_size`` rows or at about ``MAX_BATCH_CHARS`` of archive text, whichever comes
# first: a few hundred frozen article versions (a whole page of HTML each) would otherwise be held at once.
def _sized_batches(sized_rows, max_rows: int, max_chars: int):
    """Lists of rows from ``(row, size)`` pairs, each within ``max_rows`` rows and about ``max_chars``."""
    batch, chars = [], 0
    for row, size in sized_rows:
        if batch and (len(batch) >= max_rows or chars + size > max_chars):
            yield batch
            batch, chars = [], 0
        batch.append(row)
        chars += size
    if batch:
        yield batch


class _Loader:
    """Saves deserialised rows a batch at a time, as ``loaddata`` would one by one.

    Rows go in with their own primary keys and field values exactly as saved (``raw``: no
    ``auto_now`` stamping, no signals), with their many-to-many links, ``BATCH_SIZE`` at a time.
    """

    def __init__(self, progress: Progress, batch_size: int):
        self.progress = progress
        self.batch_size = batch_size
        self.models = set()
        self.deferred = []

    def load(self, objects, *, label: str, total: int) -> None:
        """``objects``: ``(row, size)`` pairs, the size being that of the row's line in the archive."""
        done = 0
        # Rows are deserialised a batch at a time, and a batch holds one model: natural keys are
        # looked up once the models before it are saved (a format-1 archive mixes them in one list).
        for _, same_model in groupby(objects, key=lambda sized: sized[0]["model"]):
            for batch in _sized_batches(same_model, self.batch_size, MAX_BATCH_CHARS):
                rows = list(serializers.deserialize("python", batch, handle_forward_references=True))
                model = type(rows[0].object)
                self.models.add(model)
                try:
                    self.save(model, rows)
                # psycopg raises ValueError if data contains NUL characters.
                except (DatabaseError, ValueError) as error:
                    pks = f"{rows[0].object.pk}–{rows[-1].object.pk}"
                    raise BackupError(f"Could not restore {model._meta.label} rows {pks}: {error}") from error
                done += len(rows)
                self.progress.update(f"Restoring {label}", done, max(total, done), "rows")

    def save(self, model, rows) -> None:
        if label_of(model) in MATCHED_BY_NATURAL_KEY or model._meta.parents or any(r.deferred_fields for r in rows):
            # Rows matched to existing ones by natural key, or waiting for a later row: one by one.
            for row in rows:
                row.save()
                if row.deferred_fields:
                    self.deferred.append(row)
            return
        objects = [row.object for row in rows]
        fields = [f for f in model._meta.local_concrete_fields if not f.generated]
        for chunk in batched(objects, max(connection.ops.bulk_batch_size(fields, objects), 1)):
            model._base_manager._insert(list(chunk), fields=fields, raw=True, using=connection.alias)
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            if not through._meta.auto_created:
                continue  # a through model of its own is backed up as a model
            source = through._meta.get_field(field.m2m_field_name()).attname
            target = through._meta.get_field(field.m2m_reverse_field_name()).attname
            links = [
                through(**{source: row.object.pk, target: pk})
                for row in rows
                for pk in row.m2m_data.get(field.name, ())
            ]
            through._base_manager.bulk_create(links, batch_size=self.batch_size)

    def finish(self) -> None:
        for obj in self.deferred:
            obj.save_deferred_fields()
        # Constraints were not checked row by row: check them once, then move the sequences on.
        try:
            connection.check_constraints(table_names=[model._meta.db_table for model in self.models])
        except IntegrityError as error:
            raise BackupError(f"The archive's rows do not fit together: {error}") from error
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), list(self.models)):
                cursor.execute(statement)


def _load(path: Path, manifest: dict, written: list, progress: Progress, batch_size: int) -> None:
    """Second pass over the archive: the rows and the media files, checked again as they pass."""
    expected = _expected(manifest)
    loader, media_done, media_total = _Loader(progress, batch_size), 0, len(media_entries(manifest))
    with connection.constraint_checks_disabled():
        for member, file in _members(path):
            entry = expected.get(member.name)
            if entry is None:
                continue
            reader = Hashing(file)
            if "storage" in entry:
                storage, name = storages[entry["storage"]], entry["name"]
                if not storage.exists(name):
                    stored = storage.save(name, File(reader, name=name))
                    written.append((storage, stored))
                    if stored != name:
                        raise BackupError(f"The storage renamed {name} to {stored}.")
                media_done += 1
                progress.update("Restoring media", media_done, media_total, "files")
            else:
                text = io.TextIOWrapper(reader, encoding="utf-8")
                try:
                    if manifest["version"] == 1:
                        rows = ((row, 0) for row in json.load(text))
                        loader.load(rows, label="rows", total=sum(manifest["rows"].values()))
                    else:
                        rows = ((json.loads(line), len(line)) for line in text)
                        loader.load(rows, label=entry["model"], total=entry["rows"])
                except (json.JSONDecodeError, UnicodeDecodeError, DeserializationError) as error:
                    raise BackupError(f"{member.name} cannot be read: {error}") from error
                text.detach()
            while reader.read(BLOCK):  # the rest of the member, if any, for its checksum
                pass
            if reader.sha256.hexdigest() != entry["sha256"]:
                raise BackupError(f"{member.name} changed while it was restored: the archive is damaged.")
        loader.finish()


def restore_backup(
    path: str | Path, *, batch_size: int = BATCH_SIZE, progress: Progress | None = None
) -> BackupSummary:
    """Bring a backup back into this (empty, migrated) database and the media storage."""
    path = Path(path)
    progress = progress or Progress.silent()
    try:
        manifest = verify_archive(path, progress)
        _refuse_occupied(manifest)
        written: list = []  # (storage, name) of each file written
        try:
            with transaction.atomic():
                _load(path, manifest, written, progress, batch_size)
        except BaseException:
            for storage, name in written:
                storage.delete(name)
            raise
    finally:
        progress.done()

    _rebuild_derived()
    return BackupSummary(
        path=path,
        rows=manifest["rows"],
        media_files=len(media_entries(manifest)),
        media_bytes=sum(entry["size"] for entry in media_entries(manifest)),
    )


def _rebuild_derived() -> None:
    from articles.publishing import caching

    if "rebuild_search_index" in get_commands():
        call_command("rebuild_search_index", verbosity=0, stdout=io.StringIO())
    caching.invalidate_all()
