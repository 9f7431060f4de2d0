"""Backups: the whole site in one archive, and back again into an empty database.

``write_backup(path)`` writes one ``.tar.gz`` holding

* ``manifest.json``: format, date, row count per model, and size and SHA-256 of every other member;
* ``data.json``: every row of the content, revisions, moderation events, reader corrections,
  article versions, users, groups and the admin's log, in Django's JSON serialisation with
  natural keys for content types, permissions and groups (their ids differ between databases);
* ``media/…``: every file in the default storage (the published figures), byte for byte;
* ``private_media/…``: every file in the private storage (uploads waiting for approval,
  articles.content.figure_files), byte for byte.

``restore_backup(path)`` checks the archive against its manifest, refuses a database that already
holds content or accounts (a restore never merges), writes the media files, loads the rows in one
transaction and rebuilds what is derived (the search index, the page cache). Revisions and moderation
events are only ever inserted, which the append-only triggers (migrations 0009 and 0014) allow.

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
from pathlib import Path, PurePosixPath

import django
from django.apps import apps
from django.core import serializers
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command, get_commands
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

FORMAT = "mali-history-backup"
VERSION = 1
#: Models whose rows are kept, besides every model of the articles app.
EXTRA_MODELS = ("auth.Group", "auth.User", "admin.LogEntry")
#: Derived rows, rebuilt after a restore instead of being kept.
DERIVED_MODELS = {"articles.searchentry"}
#: Models an empty, freshly migrated database may already hold rows of.
CREATED_BY_MIGRATIONS = {"auth.group"}


#: Archive folder (and manifest list) of each storage's files. Archives from before private media have none.
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


def _label(model) -> str:
    return model._meta.label_lower


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


def _serialise_rows() -> tuple[bytes, dict[str, int]]:
    objects, counts = [], {}
    for model in backed_up_models():
        rows = serializers.serialize(
            "python",
            model._default_manager.order_by("pk"),
            use_natural_foreign_keys=True,
            # Groups exist in every migrated database (migration 0002) under other ids: match them by name.
            use_natural_primary_keys=_label(model) == "auth.group",
        )
        objects.extend(rows)
        counts[_label(model)] = len(rows)
    return json.dumps(objects, cls=_ExactJSONEncoder, ensure_ascii=False, indent=0).encode(), counts


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(timezone.now().timestamp())
    archive.addfile(info, io.BytesIO(data))


def write_backup(path: str | Path) -> BackupSummary:
    """Write the archive to ``path`` (written to a temporary name first, so a failure leaves no half file)."""
    path = Path(path)
    # One consistent snapshot of every table: publishing while a backup runs cannot tear it.
    with transaction.atomic():
        if connection.vendor == "postgresql" and not _inside_outer_transaction():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        data, counts = _serialise_rows()
        media = {folder: _media_names(storages[alias]) for folder, alias in STORAGE_FOLDERS.items()}

    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": timezone.now().isoformat(),
        "django": django.get_version(),
        "database": connection.vendor,
        "rows": counts,
        "members": {"data.json": {"size": len(data), "sha256": _sha256(data)}},
        **{folder: [] for folder in STORAGE_FOLDERS},
    }
    media_bytes = 0
    temporary = path.with_name(f".{path.name}.partial")
    try:
        with tarfile.open(temporary, "w:gz") as archive:
            _add(archive, "data.json", data)
            for folder, alias in STORAGE_FOLDERS.items():
                for name in media[folder]:
                    with storages[alias].open(name, "rb") as handle:
                        content = handle.read()
                    _add(archive, f"{folder}/{name}", content)
                    manifest[folder].append({"name": name, "size": len(content), "sha256": _sha256(content)})
                    media_bytes += len(content)
            _add(archive, "manifest.json", json.dumps(manifest, indent=1).encode())
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    files = sum(len(names) for names in media.values())
    return BackupSummary(path=path, rows=counts, media_files=files, media_bytes=media_bytes)


def _inside_outer_transaction() -> bool:
    # The atomic block just opened is the outermost one unless the caller already held one.
    return len(connection.atomic_blocks) > 1


# --- Restore -----------------------------------------------------------------------------------


def rows_present() -> dict[str, int]:
    """Rows that make this database "not empty": content, revisions, accounts, anything of ours."""
    present = {}
    models = backed_up_models() + [apps.get_model(label) for label in DERIVED_MODELS]
    for model in models:
        if _label(model) in CREATED_BY_MIGRATIONS:
            continue
        count = model._default_manager.count()
        if count:
            present[_label(model)] = count
    return present


def _read_member(archive: tarfile.TarFile, name: str) -> bytes:
    try:
        member = archive.getmember(name)
    except KeyError:
        raise BackupError(f"The archive has no {name}: it is not a complete backup.") from None
    if not member.isfile():
        raise BackupError(f"{name} in the archive is not a file.")
    return archive.extractfile(member).read()


def _safe_media_name(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"The archive names a media file outside the media folder: {name!r}.")
    return str(path)


def read_manifest(archive: tarfile.TarFile) -> dict:
    try:
        manifest = json.loads(_read_member(archive, "manifest.json"))
    except json.JSONDecodeError as error:
        raise BackupError(f"manifest.json is not valid JSON: {error}.") from None
    if manifest.get("format") != FORMAT:
        raise BackupError("This archive was not written by `manage.py backup`.")
    if manifest.get("version") != VERSION:
        raise BackupError(
            f"This archive is in backup format {manifest.get('version')}; "
            f"this version of the site reads format {VERSION}."
        )
    return manifest


def restore_backup(path: str | Path) -> BackupSummary:
    """Bring a backup back into this (empty, migrated) database and the media storage."""
    path = Path(path)
    try:
        archive = tarfile.open(path, "r:gz")  # noqa: SIM115 - closed by the with block below
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"{path} is not a readable backup archive: {error}.") from None
    with archive:
        manifest = read_manifest(archive)
        data = _read_member(archive, "data.json")
        if _sha256(data) != manifest["members"]["data.json"]["sha256"]:
            raise BackupError("data.json does not match the manifest: the archive is damaged.")
        media = {}  # (storage alias, name): content
        for folder, alias in STORAGE_FOLDERS.items():
            for entry in manifest.get(folder, []):
                name = _safe_media_name(entry["name"])
                content = _read_member(archive, f"{folder}/{name}")
                if _sha256(content) != entry["sha256"]:
                    raise BackupError(f"The media file {name} does not match the manifest: the archive is damaged.")
                media[alias, name] = content

    present = rows_present()
    if present:
        listed = ", ".join(f"{count} {label}" for label, count in sorted(present.items()))
        raise BackupError(
            f"The database is not empty ({listed}). A restore never merges into existing content: "
            "restore into a new database after `manage.py migrate`."
        )
    clashes = [
        name
        for (alias, name), content in media.items()
        if storages[alias].exists(name) and storages[alias].open(name, "rb").read() != content
    ]
    if clashes:
        raise BackupError(
            f"The media storage already holds different files under these names: "
            f"{', '.join(clashes[:5])}{' …' if len(clashes) > 5 else ''}. Restore into empty media."
        )

    written = []
    try:
        for (alias, name), content in media.items():
            if not storages[alias].exists(name):
                stored = storages[alias].save(name, ContentFile(content))
                written.append((alias, stored))
                if stored != name:
                    raise BackupError(f"The storage renamed {name} to {stored}.")
        with tempfile.TemporaryDirectory() as folder:
            fixture = Path(folder) / "data.json"
            fixture.write_bytes(data)
            with transaction.atomic():
                call_command("loaddata", str(fixture), verbosity=0)
    except BaseException:
        for alias, name in written:
            storages[alias].delete(name)
        raise

    _rebuild_derived()
    return BackupSummary(
        path=path, rows=manifest["rows"], media_files=len(media), media_bytes=sum(len(c) for c in media.values())
    )


def _rebuild_derived() -> None:
    from articles.publishing import caching

    if "rebuild_search_index" in get_commands():
        call_command("rebuild_search_index", verbosity=0, stdout=io.StringIO())
    caching.invalidate_all()
