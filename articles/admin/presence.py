"""Who else has a change form open, kept in the shared cache and refreshed by a heartbeat.

Every app process and machine reads and writes the same cache (Redis in production), so an
editor on one node sees an editor on another; nothing is written to the database per heartbeat.
The change form records its reader when it is rendered (so the notice works without JavaScript)
and ``static/articles/admin/presence.js`` posts a heartbeat every ``HEARTBEAT_SECONDS``; an entry
not refreshed for ``EXPIRES_SECONDS`` is gone.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.admin.utils import unquote
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import formats, timezone

from articles.models import Article, Revision

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30
EXPIRES_SECONDS = 90
# A read-modify-write of one object's entries is guarded by a short lock (``cache.add`` is atomic
# in Redis and in the local cache); should it stay taken, the write goes ahead: the next heartbeat
# repairs whatever a lost update dropped.
LOCK_SECONDS = 2
LOCK_TRIES = 20

PRESENCE_TEMPLATE = "admin/articles/includes/presence_notice.html"
PENDING_TEMPLATE = "admin/articles/includes/pending_proposals.html"


def _now() -> float:
    return time.time()


def _key(obj) -> str:
    return f"presence:{obj._meta.label_lower}:{obj.pk}"


def display_name(user) -> str:
    """The full name an editor gave, else their username."""
    return user.get_full_name().strip() or user.get_username()


@dataclass(frozen=True)
class Presence:
    """Another staff member with the same change form open."""

    user_id: int
    name: str
    since: datetime

    def since_text(self) -> str:
        """ "10:42" today, else "December 4, 2026, 10:42": the site's time zone, the language's formats."""
        since = timezone.localtime(self.since)
        same_day = since.date() == timezone.localtime(datetime.fromtimestamp(_now(), tz=UTC)).date()
        return formats.date_format(since, "TIME_FORMAT" if same_day else "DATETIME_FORMAT")


class _Lock:
    def __init__(self, key: str):
        self.key, self.token, self.held = f"{key}:lock", uuid.uuid4().hex, False

    def __enter__(self):
        for _ in range(LOCK_TRIES):
            if cache.add(self.key, self.token, LOCK_SECONDS):
                self.held = True
                return self
            time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        if self.held and cache.get(self.key) == self.token:
            cache.delete(self.key)


def _live(entries: dict, now: float) -> dict:
    return {uid: entry for uid, entry in entries.items() if now - entry["seen"] <= EXPIRES_SECONDS}


def record(obj, user, *, page: str = "") -> None:
    """``user`` has ``obj``'s change form open now: keep their entry (and when they came) alive.

    ``page`` names the page that beat last, so that a page being left (or reloaded) does not remove
    the entry the next page has already written.
    """
    key, now = _key(obj), _now()
    with _Lock(key):
        entries = _live(cache.get(key) or {}, now)
        previous = entries.get(user.pk)
        entries[user.pk] = {
            "name": display_name(user),
            "since": previous["since"] if previous else now,
            "seen": now,
            "page": page,
        }
        cache.set(key, entries, EXPIRES_SECONDS)


def leave(obj, user, *, page: str) -> None:
    """``user`` left the form on ``page``: others stop seeing them at once rather than after the expiry."""
    key, now = _key(obj), _now()
    with _Lock(key):
        entries = _live(cache.get(key) or {}, now)
        if user.pk not in entries or entries[user.pk].get("page") != page:
            return  # gone already, or another page of theirs (a reload, a second tab) beat since
        del entries[user.pk]
        if entries:
            cache.set(key, entries, EXPIRES_SECONDS)
        else:
            cache.delete(key)


def others(obj, user) -> list[Presence]:
    """Everyone but ``user`` who has ``obj``'s form open, first come first."""
    entries = _live(cache.get(_key(obj)) or {}, _now())
    return sorted(
        (
            Presence(user_id=uid, name=entry["name"], since=datetime.fromtimestamp(entry["since"], tz=UTC))
            for uid, entry in entries.items()
            if uid != user.pk
        ),
        key=lambda presence: (presence.since, presence.name),
    )


def own_latest_change(obj, user) -> str:
    """When ``user`` last proposed or amended something in this form (an article's form also saves
    its sections): the browser's autosave drops a copy it took before a later successful save."""
    if obj is None or obj.pk is None:
        return ""
    mine = Revision.objects.for_object(obj)
    if isinstance(obj, Article):
        mine = Revision.objects.filter(Q(pk__in=mine.values("pk")) | Q(article=obj))
    latest = mine.filter(author=user).order_by("-updated_at").values_list("updated_at", flat=True).first()
    return latest.isoformat() if latest else ""


class PresenceAdminMixin:
    """The change form says who else has it open; its heartbeat URL keeps that up to date."""

    def pending_revisions(self, obj):
        """The object's proposals still open to change (waiting, or sent back), oldest first: the notice above its form."""
        return list(Revision.objects.for_object(obj).amendable().select_related("author").order_by("created_at"))

    def pending_context(self, request, pending: list) -> dict:
        """The pending-proposal notice's context; others' proposals are the ones a new edit may overlap."""
        return {
            "pending_revisions": pending,
            "overlapping_proposals": [revision for revision in pending if revision.author_id != request.user.pk],
        }

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/presence/",
                self.admin_site.admin_view(self.presence_view),
                name="%s_%s_presence" % info,
            ),
        ] + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and obj is not None:
            context.update(self.presence_context(request, obj, context.get("pending_revisions")))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def presence_context(self, request, obj, pending=None) -> dict:
        """Records the reader of ``obj``'s change form, and what its notices and scripts need."""
        context = {"autosave_saved_token": own_latest_change(obj, request.user)}
        if pending is not None:
            context.update(self.pending_context(request, pending))
        if not self.has_change_permission(request, obj):
            return context  # staff who may only look are not "editing", and are not told who is
        page = uuid.uuid4().hex
        try:
            record(obj, request.user, page=page)
            context["present_editors"] = others(obj, request.user)
        except Exception:  # noqa: BLE001 - presence is a hint: the form opens without the cache
            logger.warning("Presence is unavailable: the cache failed.", exc_info=True)
        info = self.opts.app_label, self.opts.model_name
        context.update(
            presence_page=page,
            presence_url=reverse("admin:%s_%s_presence" % info, args=[obj.pk]),
            presence_interval=HEARTBEAT_SECONDS,
        )
        return context

    def presence_view(self, request, object_id):
        """The heartbeat: POST (CSRF-checked by ``admin_view``) by staff who may change the object.

        Answers the presence and pending-proposal notices as HTML, rendered by the same templates
        as the page, for the script to put in place; ``leaving=1`` removes the entry instead.
        """
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        page = request.POST.get("page", "")[:64]
        if request.POST.get("leaving") == "1":
            leave(obj, request.user, page=page)
            return JsonResponse({"left": True})
        record(obj, request.user, page=page)
        context = {
            "opts": self.opts,
            "present_editors": others(obj, request.user),
            **self.pending_context(request, self.pending_revisions(obj)),
        }
        return JsonResponse(
            {
                "presence": render_to_string(PRESENCE_TEMPLATE, context, request),
                "pending": render_to_string(PENDING_TEMPLATE, context, request),
            }
        )
