"""Backups: the whole site in one archive, and back again into an empty database, in constant memory.

``write_backup(path)`` writes one ``.tar.gz`` (format 2) holding

* ``data/<app>.<model>.jsonl``, one member per model, in an order that loads cleanly: every row of
  the content, its old addresses, revisions, moderation events, reader corrections, article versions, users, groups
  and the admin's log, one JSON object per line in Django's serialisation, with natural keys for
  content types, permissions and groups (their ids differ between databases; every other row
  keeps its id);
* ``media/…``: every file in the default storage (the published figures), byte for byte, and
  ``private_media/…``, the uploads waiting for approval (articles.content.figure_files): one folder
  per storage of ``STORAGE_FOLDERS``;
* ``manifest.json``, last: format, date, and the rows, size and SHA-256 of every other member.

Nothing is held whole: rows are read in primary key order, a batch of at most ``BATCH_SIZE`` rows
and about ``MAX_BATCH_CHARS`` characters at a time, serialised and written to a temporary file beside the archive (a tar member states its size before its
content), then copied into the archive; media files are copied file by file. Checksums are
computed while streaming. The memory a backup needs is one batch, whatever the size of the site.

``manage.py restore`` brings it back (:mod:`articles.ops.restore`); it still reads archives of
format 1, which held every row in one ``data.json``.

Sessions are not kept (everyone signs in again), nor is the search index (rebuilt from the
restored content), nor statically published pages (``manage.py bake_site`` writes them again).
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import django
from django.apps import apps
from django.core.files.storage import storages
from django.core.serializers.json import DjangoJSONEncoder
from django.core.serializers.python import Serializer as PythonSerializer
from django.db import connection, transaction
from django.utils import timezone

from articles.ops.progress import Progress

FORMAT = "mali-history-backup"
VERSION = 2
#: Formats this version restores: 1 wrote every row in one data.json.
READABLE_VERSIONS = (1, 2)
#: Rows serialised and written (or restored) at a time, at most.
BATCH_SIZE = 500
#: Rows of a table's first batch, before its rows' width is known.
FIRST_BATCH_SIZE = 20
#: Characters of serialised rows a batch ends at, about: wide rows come fewer at a time.
MAX_BATCH_CHARS = 4_000_000
#: Bytes copied at a time.
BLOCK = 256 * 1024
#: Models whose rows are kept, besides every model of the articles app.
EXTRA_MODELS = ("auth.Group", "auth.User", "admin.LogEntry")
#: Derived rows, rebuilt after a restore instead of being kept.
DERIVED_MODELS = {"articles.searchentry"}
#: Models an empty, freshly migrated database may already hold rows of.
CREATED_BY_MIGRATIONS = {"auth.group"}
#: Groups exist in every migrated database (migration 0002) under other ids: matched by name.
MATCHED_BY_NATURAL_KEY = {"auth.group"}
#: Rows referred to by natural key: their ids differ between databases (created by ``migrate``).
NAMED_BY_NATURAL_KEY = {"contenttypes.contenttype", "auth.permission", "auth.group"}


#: Archive folder (and manifest list) of each file storage's files, by its alias in STORAGES.
STORAGE_FOLDERS = {"media": "default", "private_media": "private_media"}


class BackupError(Exception):
    """The archive cannot be restored here; the message says why, for the operator."""


@dataclass
class BackupSummary:
    path: Path
    rows: dict[str, int]
    media_files: int
    media_bytes: int

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def backed_up_models() -> list:
    """Every model whose rows a backup holds, in an order that loads cleanly."""
    models = [apps.get_model(label) for label in EXTRA_MODELS[:2]]
    models += [
        model
        for model in apps.get_app_config("articles").get_models()
        if model._meta.managed and not model._meta.proxy and model._meta.label_lower not in DERIVED_MODELS
    ]
    models.append(apps.get_model(EXTRA_MODELS[2]))
    return models


def label_of(model) -> str:
    return model._meta.label_lower


def _media_names(storage, directory: str = "") -> list[str]:
    if directory and not storage.exists(directory):
        return []
    try:
        folders, files = storage.listdir(directory)
    except FileNotFoundError:  # no media at all yet
        return []
    names = [f"{directory}/{name}" if directory else name for name in files]
    for folder in folders:
        names += _media_names(storage, f"{directory}/{folder}" if directory else folder)
    return sorted(names)


class _ExactJSONEncoder(DjangoJSONEncoder):
    """Django's encoder, but keeping microseconds (it cuts times to milliseconds, as dumpdata does)."""

    def default(self, o):
        if isinstance(o, (datetime.datetime, datetime.time)):
            return o.isoformat()
        return super().default(o)


class Hashing(io.RawIOBase):
    """A file read through: counts and hashes the bytes as they pass (also under a text wrapper)."""

    def __init__(self, file):
        super().__init__()
        self.file = file
        self.sha256 = hashlib.sha256()
        self.size = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.file.read(len(buffer))
        self.sha256.update(data)
        self.size += len(data)
        buffer[: len(data)] = data
        return len(data)


# --- Writing -----------------------------------------------------------------------------------


class _RowSerializer(PythonSerializer):
    """Django's serialisation, but only rows whose ids differ between databases are named by natural key.

    Content types, permissions and groups are created by ``migrate`` under ids of their own; every
    other row (users included) comes back under its own id, so a reference to it needs no lookup.
    """

    def _model_supports_natural_key(self, model):
        return label_of(model) in NAMED_BY_NATURAL_KEY and super()._model_supports_natural_key(model)


def _batch_sizes(first: int, most: int, max_chars: int):
    """A generator of batch lengths that keeps a batch near ``max_chars`` of output: send it each batch's size.

    The first batch is short, since a table's row width is unknown until it is read; each next one
    is as many rows as the last batch's average width fits in ``max_chars``, growing at most eightfold
    a time and never past ``most``. Frozen article versions, a whole page each, come some tens at a time,
    moderation events hundreds.
    """
    rows = min(first, most)
    while True:
        chars = yield rows
        fitting = max_chars * rows // max(chars, 1)
        rows = max(1, min(most, rows * 8, fitting))


def _lines(model, batch_size: int, max_chars: int):
    """The model's rows as JSON lines, read in primary key order, a batch of about ``max_chars`` at a time.

    Batches follow the primary key (``pk > last``), not a cursor, so each batch's length can follow
    the width of the rows before it.
    """
    queryset = model._default_manager.order_by("pk")
    # Foreign keys written as natural keys (content types) come with the row, not a query each.
    natural = [
        f.name
        for f in model._meta.concrete_fields
        if f.is_relation and f.many_to_one and label_of(f.related_model) in NAMED_BY_NATURAL_KEY
    ]
    if natural:
        queryset = queryset.select_related(*natural)
    sizes = _batch_sizes(FIRST_BATCH_SIZE, batch_size, max_chars)
    length, batch = next(sizes), queryset
    while True:
        rows = list(batch[:length])
        if not rows:
            return
        chars = 0
        for row in _RowSerializer().serialize(
            rows,
            use_natural_foreign_keys=True,
            use_natural_primary_keys=label_of(model) in MATCHED_BY_NATURAL_KEY,
        ):
            line = (json.dumps(row, cls=_ExactJSONEncoder, ensure_ascii=False) + "\n").encode()
            chars += len(line)
            yield line
        if len(rows) < length:
            return
        batch = queryset.filter(pk__gt=rows[-1].pk)
        del rows
        length = sizes.send(chars)


def _add_table(archive, model, *, spool_dir: Path, batch_size: int, progress: Progress) -> dict:
    label, total = label_of(model), model._default_manager.count()
    name = f"data/{label}.jsonl"
    sha256, size, count = hashlib.sha256(), 0, 0
    with tempfile.TemporaryFile(dir=spool_dir, prefix=".backup-") as spool:
        for line in _lines(model, batch_size, MAX_BATCH_CHARS):
            spool.write(line)
            sha256.update(line)
            size += len(line)
            count += 1
            progress.update(f"Backing up {label}", count, max(total, count), "rows")
        spool.seek(0)
        info = tarfile.TarInfo(name)
        info.size, info.mtime = size, int(timezone.now().timestamp())
        archive.addfile(info, spool)
    progress.update(f"Backing up {label}", count, count, "rows")
    return {"model": label, "member": name, "rows": count, "size": size, "sha256": sha256.hexdigest()}


def _add_file(archive, member: str, storage, name: str) -> dict:
    info = tarfile.TarInfo(member)
    info.size, info.mtime = storage.size(name), int(timezone.now().timestamp())
    with storage.open(name, "rb") as handle:
        reader = Hashing(handle)
        archive.addfile(info, reader)
    return {"name": name, "size": reader.size, "sha256": reader.sha256.hexdigest()}


def write_backup(path: str | Path, *, batch_size: int = BATCH_SIZE, progress: Progress | None = None) -> BackupSummary:
    """Write the archive to ``path`` (written to a temporary name first, so a failure leaves no half file)."""
    path = Path(path)
    progress = progress or Progress.silent()
    temporary = path.with_name(f".{path.name}.partial")
    try:
        with tarfile.open(temporary, "w:gz") as archive:
            # One consistent snapshot of every table: publishing while a backup runs cannot tear it.
            with transaction.atomic():
                if connection.vendor == "postgresql" and not _inside_outer_transaction():
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                tables = [
                    _add_table(archive, model, spool_dir=path.parent, batch_size=batch_size, progress=progress)
                    for model in backed_up_models()
                ]
            media = {}
            for folder, alias in STORAGE_FOLDERS.items():
                storage, media[folder] = storages[alias], []
                names = _media_names(storage)
                for number, name in enumerate(names, start=1):
                    media[folder].append(_add_file(archive, f"{folder}/{name}", storage, name))
                    progress.update(f"Backing up {folder}", number, len(names), "files")
            manifest = {
                "format": FORMAT,
                "version": VERSION,
                "created_at": timezone.now().isoformat(),
                "django": django.get_version(),
                "database": connection.vendor,
                "rows": {table["model"]: table["rows"] for table in tables},
                "tables": tables,
                **media,
            }
            data = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime = len(data), int(timezone.now().timestamp())
            archive.addfile(info, io.BytesIO(data))
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
        progress.done()
    files = [entry for entries in media.values() for entry in entries]
    return BackupSummary(
        path=path, rows=manifest["rows"], media_files=len(files), media_bytes=sum(f["size"] for f in files)
    )


def _inside_outer_transaction() -> bool:
    # The atomic block just opened is the outermost one unless the caller already held one.
    return len(connection.atomic_blocks) > 1
