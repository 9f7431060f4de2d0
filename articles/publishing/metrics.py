"""What the site counts for Prometheus: responses, publish latency, page-cache hits, the task queue.

The counters and the histogram are kept by each process. Under gunicorn, with several worker
processes, ``PROMETHEUS_MULTIPROC_DIR`` (set before the process starts; deploy/mali-history-web.service)
makes each process write its values to files there, and a scrape adds them up; without it a scrape
would show only the process that answered it. The task queue is read from the database at scrape
time (:class:`TaskQueueCollector`), so it is the same whichever node is asked.

``articles.ops.health`` serves them at ``/metrics``; the hit ratio is
``rate(mali_history_page_cache_requests_total{result="hit"}[5m]) / rate(mali_history_page_cache_requests_total[5m])``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from django.db import DatabaseError
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

logger = logging.getLogger(__name__)

# The site's own metrics, apart from the library's default registry (process and platform
# collectors that mean nothing once several processes are added up).
REGISTRY = CollectorRegistry(auto_describe=True)

RESPONSES = Counter(
    "mali_history_http_responses",
    "HTTP responses sent by Django, by status class (2xx, 3xx, 4xx, 5xx).",
    ["status"],
    registry=REGISTRY,
)
PUBLISH_SECONDS = Histogram(
    "mali_history_publish_seconds",
    "Time to publish one revision (PublishRevision.execute), in the publish transaction.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
PAGE_CACHE = Counter(
    "mali_history_page_cache_requests",
    "Anonymous readers' requests the page cache answered (hit) or passed to Django (miss).",
    ["result"],
    registry=REGISTRY,
)


def status_class(status_code: int) -> str:
    return f"{status_code // 100}xx"


def task_queue() -> tuple[int, float]:
    """How many tasks are ready to run, and how long the oldest of them has waited (s): one query."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    undeferred = Q(run_after=get_date_max())  # how the backend stores "no run_after"
    found = DBTaskResult.objects.ready().aggregate(
        depth=Count("id"),
        enqueued=Min("enqueued_at", filter=undeferred),
        # A deferred task waits from its run_after, not from when it was enqueued.
        due=Min("run_after", filter=~undeferred),
    )
    waiting_since = [found[name] for name in ("enqueued", "due") if found[name] is not None]
    age = max(0.0, (timezone.now() - min(waiting_since)).total_seconds()) if waiting_since else 0.0
    return found["depth"], age


class TaskQueueCollector:
    """The task queue's depth and the age of its oldest ready task, read when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        try:
            depth, age = task_queue()
        except DatabaseError as error:
            # The other metrics still matter when the database is down; /healthz reports that.
            logger.warning("Task queue metrics unavailable: %s: %s", type(error).__name__, error)
            return
        yield GaugeMetricFamily("mali_history_task_queue_depth", "Background tasks ready to run.", value=depth)
        yield GaugeMetricFamily(
            "mali_history_task_queue_oldest_age_seconds",
            "How long the oldest ready background task has waited to be run.",
            value=age,
        )

    def describe(self) -> list[Metric]:
        return []  # nothing to check at registration: collect() reads the database


def exposition() -> bytes:
    """The metrics in Prometheus' text format: every process's (multiprocess mode) or this one's."""
    queue = CollectorRegistry()
    queue.register(TaskQueueCollector())
    counted = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    return generate_latest(counted) + generate_latest(queue)
