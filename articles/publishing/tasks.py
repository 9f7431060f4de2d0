"""Background tasks (Django's Tasks framework). Thin: the work itself lives in the modules named.

Each task is idempotent; the follow-up tasks retry themselves with a growing delay when they fail
(the framework does not retry), and ``manage.py run_follow_ups`` finishes anything a dead worker
left behind.
"""

from __future__ import annotations

from django.tasks import task

from articles.publishing import followups
from articles.publishing.dependencies import Appearances

# Higher runs first: stale baked pages must go before anything is re-baked.
URGENT = 50


def start_follow_up(follow_up_id: int, found: Appearances) -> None:
    """Right after a publish commits: bump its page-cache tags, remove few stale baked pages, enqueue the rest.

    ``found`` is where the object appears (articles.publishing.dependencies), computed in the
    publish transaction.
    """
    from articles.publishing import baking, caching

    caching.bump(found.tags)
    if baking.enabled():
        if found.few_articles:
            followups.remove_pages_showing(found)
        else:  # maybe thousands: the urgent task, first in the queue, removes them
            remove_stale_pages.enqueue(follow_up_id)
    run_follow_up.enqueue(follow_up_id)


@task(priority=URGENT)
def remove_stale_pages(follow_up_id: int) -> None:
    from articles.models import FollowUp

    follow_up = FollowUp.objects.filter(pk=follow_up_id).first()
    if follow_up is not None:
        followups.remove_stale_pages(follow_up)


@task()
def run_follow_up(follow_up_id: int) -> bool:
    try:
        return followups.run(follow_up_id)
    except Exception as error:
        retry_at = followups.record_failure(follow_up_id, error)
        if retry_at is not None:
            run_follow_up.using(run_after=retry_at).enqueue(follow_up_id)
        raise
