"""A directory storage whose files change in one step, for the baked pages nginx serves.

Django's FileSystemStorage writes a file in place, chunk by chunk: nginx could send half a page
while it is being replaced. Here a file is written beside its target and renamed over it, as
``os.replace`` does atomically on one filesystem, and made readable by nginx's user. An object
store needs none of this (a PUT replaces an object whole): configure django-storages' S3Storage
as the "baked" storage instead.
"""

import os
import tempfile
from pathlib import Path

from django.core.files.storage import FileSystemStorage


class AtomicFileSystemStorage(FileSystemStorage):
    def __init__(self, **kwargs):
        kwargs.setdefault("allow_overwrite", True)
        super().__init__(**kwargs)

    def _save(self, name, content):
        target = Path(self.path(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in content.chunks():
                    handle.write(chunk)
            os.chmod(temporary, 0o644)  # mkstemp makes it private; nginx runs as another user.
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return name
