"""Where figure images are kept: uploads in a private storage until their figure is approved.

An image dropped into the editor or chosen in the figure form is a proposal like any text: readers
must not reach it before a moderator approves it. So every new figure file is written to the
``private_media`` storage (``settings.STORAGES``: a folder outside ``MEDIA_ROOT`` by default, or a
bucket that is not public), under a name that is free in both storages. Its public address is
known from the start (``MEDIA_URL`` + name, what the editor puts in the Markdown) and answers 404
until approval copies the file to the public ``default`` storage (:func:`publish`, called by
``articles.publishing.publish`` once the approval is committed). Staff see pending files through
``articles.admin.uploads.pending_figure_image``, which checks their permission.

:class:`FigureStorage` is the storage of ``Figure.image``: it writes to the private storage, reads a
file from wherever it is, and gives the public address. It holds no state: both storages are looked
up at each call, so settings changed by tests or deployment apply.
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.utils.deconstruct import deconstructible

PRIVATE = "private_media"


def public_storage() -> Storage:
    return storages["default"]


def private_storage() -> Storage:
    return storages[PRIVATE]


@deconstructible(path="articles.content.figure_files.FigureStorage")
class FigureStorage(Storage):
    def _holding(self, name: str) -> Storage:
        """The storage holding ``name``: the public one once published, else the private one."""
        public = public_storage()
        if public.exists(name):
            return public
        private = private_storage()
        return private if private.exists(name) else public

    def exists(self, name):
        # A name taken in either storage is taken: a new upload never shadows a published file.
        return public_storage().exists(name) or private_storage().exists(name)

    def _save(self, name, content):
        return private_storage().save(name, content)

    def _open(self, name, mode="rb"):
        return self._holding(name).open(name, mode)

    def delete(self, name):
        for storage in (private_storage(), public_storage()):
            storage.delete(name)

    def url(self, name):
        return public_storage().url(name)

    def path(self, name):
        return self._holding(name).path(name)

    def size(self, name):
        return self._holding(name).size(name)

    def listdir(self, path):
        return public_storage().listdir(path)

    def get_valid_name(self, name):
        return public_storage().get_valid_name(name)


def figure_storage() -> FigureStorage:
    """``Figure.image``'s storage (a callable, so that migrations name it rather than freeze it)."""
    return FigureStorage()


def is_pending(name: str) -> bool:
    """True when ``name`` is an uploaded file readers cannot reach yet."""
    return bool(name) and not public_storage().exists(name) and private_storage().exists(name)


def publish(name: str) -> bool:
    """Copy a pending file to the public storage under the same name, then remove the private copy.

    Idempotent (the figure's background follow-up calls it again, in case the copy after the
    approval's commit failed); True when it copied.
    """
    public, private = public_storage(), private_storage()
    if not name or public.exists(name) or not private.exists(name):
        return False
    with private.open(name, "rb") as pending:
        stored = public.save(name, pending)
    if stored != name:  # another worker published it meanwhile: keep theirs
        public.delete(stored)
    private.delete(name)
    return True


# --- What staff see before approval ---------------------------------------------------------------

_PENDING_NAME = re.compile(r"figures/[\w][\w.-]*")


def is_upload_name(name: str) -> bool:
    """A name an upload could have: ``figures/<file>``, nothing above or beside that folder."""
    return bool(_PENDING_NAME.fullmatch(name or "")) and ".." not in name


def for_staff(html_text: str) -> str:
    """Point ``<img src>`` of pending uploads at the staff view, which shows them to permitted staff.

    For HTML shown to staff only (the editor's preview, the review preview): stored HTML and
    public pages keep the public address, which works once the figure is approved.
    """
    from django.urls import reverse

    pattern = re.compile(r'src="' + re.escape(html.escape(settings.MEDIA_URL)) + r'(figures/[^"]+)"')

    def replace(match: re.Match) -> str:
        name = unquote(html.unescape(match.group(1)))
        if not is_upload_name(name) or not is_pending(name):
            return match.group(0)
        return f'src="{html.escape(reverse("pending_figure_image", args=[name]))}"'

    return pattern.sub(replace, html_text)
