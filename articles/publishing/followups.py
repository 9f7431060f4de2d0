"""The work a publish leaves for afterwards, done in the background in small batches.

A publish writes one ``FollowUp`` row in its own transaction (:func:`record`). After the
commit, ``articles.publishing.tasks.start_follow_up`` bumps the page-cache tags the object appears under
(readers of Django-served pages see the change on their next request), removes the baked files
of the pages that show it when they are few by construction (an article's or a section's own),
and enqueues the tasks in ``articles.publishing.tasks``:

1. ``remove_stale_pages`` (high priority, for anything else: a source, a topic, a figure, an
   event may show on thousands of pages): the baked files of every page showing the object, so
   that nginx falls back to Django as soon as a worker takes it;
2. ``run_follow_up``: a figure's renditions and the sections showing it (rendered again with
   ``<picture>`` markup), then the articles showing the object, in batches of :data:`BATCH_SIZE`, each batch
   re-baked and recorded in ``FollowUp.cursor`` in its own small transaction; then the fixed
   pages (lists, feeds).

Every step is idempotent, a failed run is retried with a growing delay, and a worker that dies
between batches loses nothing: the next run (the retry, or ``manage.py run_follow_ups``) starts
after the last recorded batch.
"""

from __future__ import annotations

import datetime
import logging
import traceback

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from articles.content import figure_files, languages
from articles.models import Figure, FollowUp, ModeratedContent, Revision, Section
from articles.publishing import baking, caching, dependencies, fragments, renditions

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
MAX_ATTEMPTS = 6


def record(
    obj: ModeratedContent, *, before: dict, revision: Revision | None = None
) -> tuple[FollowUp, dependencies.Appearances]:
    """Record the follow-up of publishing ``obj``, in the publish transaction; and where it appears.

    ``articles.publishing.publish.schedule_follow_up`` acts on it once the transaction commits
    (``articles.publishing.tasks.start_follow_up``).
    """
    follow_up = FollowUp.objects.create(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk, before=before or {}, revision=revision
    )
    return follow_up, dependencies.appearances(obj, before)


def remove_pages_showing(found: dependencies.Appearances) -> None:
    """Remove the baked files of every page ``found`` names, a thousand articles at a time."""
    articles = found.article_queryset().order_by("pk").values_list("pk", "slug")
    size = 1000
    batch = list(articles[:size])
    baking.remove_pages(languages.in_every_language(found.paths))
    while batch:
        baking.remove_pages(
            languages.in_every_language(dependencies.url("article_detail", slug=slug) for _pk, slug in batch)
        )
        if len(batch) < size:
            break
        batch = list(articles.filter(pk__gt=batch[-1][0])[:size])


def remove_stale_pages(follow_up: FollowUp) -> None:
    """The urgent task's work: the baked files of every page showing the object, however many."""
    if follow_up.stale_pages_removed or not baking.enabled():
        return
    obj = follow_up.get_object()
    if obj is not None:
        remove_pages_showing(dependencies.appearances(obj, follow_up.before))
    FollowUp.objects.filter(pk=follow_up.pk).update(stale_pages_removed=True)
    follow_up.stale_pages_removed = True


def _refresh_formatting_fragments(obj: ModeratedContent, found: dependencies.Appearances) -> None:
    """A figure's renditions, and the sections that show it rendered again with them; their tags bumped."""
    tags = set()
    if isinstance(obj, Figure):
        if obj.is_live and obj.image:
            figure_files.publish(obj.image.name)  # done after the approval's commit; again if that failed
        with transaction.atomic():
            renditions.refresh_figure(obj)
        for section in found.sections.iterator(chunk_size=100):
            with transaction.atomic():
                fragments.render_section(section)
                Section.objects.filter(pk=section.pk).update(body_html=section.body_html, notes=section.notes)
            tags.add(dependencies.tag(section.article))
        tags.add(dependencies.tag(obj))
    if tags:
        caching.bump(tags)


def run(pk: int, *, batch_size: int = BATCH_SIZE, stop_after_batches: int | None = None) -> bool:
    """Do (or finish) follow-up ``pk``; True once it is finished.

    ``stop_after_batches`` stops early, as a worker that died between two batches would.
    """
    follow_up = FollowUp.objects.filter(pk=pk).first()
    if follow_up is None or follow_up.finished_at is not None:
        return True
    obj = follow_up.get_object()
    if obj is not None:
        found = dependencies.appearances(obj, follow_up.before)
        if not follow_up.stale_pages_removed:
            remove_stale_pages(follow_up)
        if follow_up.cursor == 0:
            _refresh_formatting_fragments(obj, found)
        articles = found.article_queryset().order_by("pk")
        batches = 0
        while True:
            batch = list(articles.filter(pk__gt=follow_up.cursor).values_list("pk", "slug")[:batch_size])
            if not batch:
                break
            if baking.enabled():
                baking.bake_pages(
                    languages.in_every_language(dependencies.url("article_detail", slug=slug) for _pk, slug in batch)
                )
            follow_up.cursor = batch[-1][0]
            FollowUp.objects.filter(pk=pk).update(cursor=follow_up.cursor)
            batches += 1
            if stop_after_batches is not None and batches >= stop_after_batches:
                return False
        if baking.enabled():
            baking.bake_pages(languages.in_every_language(p for p in found.paths if p))
    FollowUp.objects.filter(pk=pk).update(finished_at=timezone.now(), last_error="")
    return True


def record_failure(pk: int, error: BaseException) -> datetime.datetime | None:
    """Count a failed run; return when to try again, or None after :data:`MAX_ATTEMPTS`."""
    follow_up = FollowUp.objects.filter(pk=pk).first()
    if follow_up is None:
        return None
    attempts = follow_up.attempts + 1
    FollowUp.objects.filter(pk=pk).update(
        attempts=attempts, last_error="".join(traceback.format_exception(error))[-4000:]
    )
    logger.exception("Follow-up %s failed (attempt %s).", pk, attempts, exc_info=error)
    if attempts >= MAX_ATTEMPTS:
        return None
    return timezone.now() + datetime.timedelta(seconds=10 * 2**attempts)


def run_unfinished(*, older_than: datetime.timedelta = datetime.timedelta(0)) -> int:
    """Finish every follow-up left unfinished (a worker died, a task was lost); return how many."""
    done = 0
    cutoff = timezone.now() - older_than
    for pk in FollowUp.objects.unfinished().filter(created_at__lte=cutoff).values_list("pk", flat=True).iterator():
        run(pk)
        done += 1
    return done
